"""`ordergate connect etrade`: the same connect as `/authenticate`, in a terminal, for people who connect their own
account. It prints the authorize link, reads the verification code from stdin and prints one sealed authToken per
brokerage account, sealed as `ordergate tokens seal` seals (for one API client, with ORDERGATE_TOKEN_KEYS)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.settings import Settings
from ordergate.tokens import TokenKeyError
from ordergate.venues.base import ChallengeIssued, Connected, ConnectStep
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.transport import Transport, TransportError

# `ordergate connect <venue>` → the integration type whose adapter walks the flow.
VENUES = {"etrade": IntegrationType.eTrade}


def add_parser(sub: argparse._SubParsersAction) -> None:
    connect = sub.add_parser("connect", help="connect your own brokerage account in this terminal (OAuth)")
    connect.add_argument("venue", choices=sorted(VENUES))
    connect.add_argument("--client-id", required=True, help="the API client the authTokens are sealed for")
    connect.add_argument("--consumer-key", help="your E*TRADE consumer key (default: ORDERGATE_ETRADE_CONSUMER_KEY)")
    connect.add_argument(
        "--consumer-secret", help="your E*TRADE consumer secret (default: ORDERGATE_ETRADE_CONSUMER_SECRET)"
    )
    connect.add_argument("--testnet", action="store_true", help="E*TRADE's sandbox (apisb.etrade.com)")
    connect.add_argument("--sandbox", action="store_true", help="seal with the sandbox's local dev key")
    connect.add_argument("--json", action="store_true")
    connect.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ordergate.app import load_sealer

    settings = Settings(sandbox=args.sandbox, testnet=args.testnet or Settings().testnet)
    try:
        sealer = load_sealer(settings)
    except TokenKeyError as exc:
        print(f"ordergate: {exc}", file=sys.stderr)
        return 2
    integration = VENUES[args.venue]
    try:
        connected = asyncio.run(_connect(settings, integration, args))
    except GatewayError as exc:
        print(f"ordergate: {exc.error_type.value}: {exc.message}", file=sys.stderr)
        return 1
    except (TransportError, EOFError) as exc:
        print(f"ordergate: could not connect ({type(exc).__name__})", file=sys.stderr)
        return 1
    rows = []
    for account in connected.accounts:
        creds = connected.credentials
        token = sealer.seal(
            args.client_id,
            Credentials(integration, creds.api_key, creds.secret, creds.passphrase, {**creds.extras, **account.extras}),
        )
        rows.append({"accountId": account.account_id, "accountName": account.account_name, "authToken": token})
    if args.json:
        print(json.dumps({"accounts": rows, "expiresInSeconds": connected.expires_in_seconds}))
    else:
        for row in rows:
            print(f"{row['accountId']}  {row['accountName']}\n  authToken: {row['authToken']}")
        print(f"(the tokens stop working at midnight US Eastern, in {connected.expires_in_seconds} s)")
    return 0


async def _connect(settings: Settings, integration: IntegrationType, args: argparse.Namespace) -> Connected:
    transport = Transport(timeout_s=settings.upstream_timeout_s)
    await transport.start()
    try:
        registry = VenueRegistry(transport, base_urls=settings.base_urls, testnet=settings.testnet, settings=settings)
        adapter = registry.adapter(integration)
        assert adapter is not None
        creds = Credentials(integration, args.consumer_key or "", args.consumer_secret or "")
        issued = await adapter.connect(creds, ConnectStep())
        if isinstance(issued, Connected):
            return issued
        assert isinstance(issued, ChallengeIssued)
        print(f"Open this link, log in and accept:\n{issued.redirect_link}", flush=True)
        print("Verification code: ", end="", flush=True)
        code = await asyncio.to_thread(sys.stdin.readline)
        if not code.strip():
            raise EOFError("no verification code")
        print(flush=True)
        done = await adapter.connect(creds, ConnectStep(challenge_code=code.strip(), state=issued.state))
        assert isinstance(done, Connected)
        return done
    finally:
        await transport.close()
