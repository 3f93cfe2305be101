"""Sandbox mode: the venue simulators mounted in-process, a demo API client and demo venue accounts.

Everything here is for a developer's machine: the demo client's secret and the venue keys are kept in
`.ordergate/sandbox.json` so that restarts keep them, and `/sandbox/env` hands them out for the README's
curl walk-through. None of it is mounted or created outside `--sandbox`.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import os
import secrets
import shlex
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.gateway import Gateway
from ordergate.settings import SANDBOX_DIR, Settings
from ordergate.store.clients import Scope
from ordergate.tokens import generate_key_spec
from ordergate.venues.catalog import SPECS
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.registry import ADAPTERS
from ordergate.venues.simkit import SimAccount, SimulatorBase

log = logging.getLogger("ordergate.sandbox")
KRAKEN_PATH = "/sandbox/kraken"
DEMO_OTP = "123456"  # the one-time code of the 2FA demo key, as in Mesh's own sandbox


def _private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def dev_token_keys() -> str:
    path = SANDBOX_DIR / "sandbox-token-key"
    if not path.exists():
        _private_file(path, generate_key_spec("sandbox") + "\n")
    log.warning("sandbox mode: authTokens are sealed with the local dev key in %s (never use it in production)", path)
    return path.read_text().strip()


def other_families() -> list[str]:
    """Every venue family with an adapter besides Kraken (which has its own, richer demo)."""
    return sorted(family for family in ADAPTERS if family != "kraken")


def _simulator_class(family: str) -> type[SimulatorBase]:
    module = importlib.import_module(f"ordergate.venues.{family}.simulator")
    found = [
        value
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, SimulatorBase) and value.__module__ == module.__name__
    ]
    assert len(found) == 1, f"venues/{family}/simulator.py must define one SimulatorBase subclass"
    return found[0]


def _types_of(family: str) -> list[IntegrationType]:
    return [spec.type for spec in SPECS.values() if spec.family == family]


def sandbox_settings(settings: Settings, self_url: str) -> Settings:
    """Point the simulated venues at this very process unless the operator overrode them."""
    urls = dict(settings.base_urls)
    for integration in (IntegrationType.kraken, IntegrationType.krakenDirect):
        urls.setdefault(integration, self_url.rstrip("/") + KRAKEN_PATH)
    for family in other_families():
        for integration in _types_of(family):
            urls.setdefault(integration, f"{self_url.rstrip('/')}/sandbox/{family}")
    return settings.model_copy(update={"sandbox": True, "base_urls": urls})


def _demo_secrets() -> dict[str, str]:
    path = SANDBOX_DIR / "sandbox.json"
    if path.exists():
        return json.loads(path.read_text())
    demo = {
        "clientId": "sandbox-" + secrets.token_hex(8),
        "clientSecret": "ogs_" + secrets.token_urlsafe(32),
        "krakenApiKey": "sandbox-kraken-" + secrets.token_hex(8),
        "krakenSecret": base64.b64encode(secrets.token_bytes(64)).decode(),
        "kraken2faApiKey": "sandbox-kraken-2fa-" + secrets.token_hex(8),
        "kraken2faSecret": base64.b64encode(secrets.token_bytes(64)).decode(),
    }
    _private_file(path, json.dumps(demo, indent=2) + "\n")
    return demo


def mount_simulators(app: FastAPI) -> None:
    kraken = KrakenSimulator()
    app.state.kraken_simulator = kraken
    app.mount(KRAKEN_PATH, kraken.app)
    app.state.simulators = {}
    for family in other_families():
        simulator = _simulator_class(family)()
        app.state.simulators[family] = simulator
        app.mount(f"/sandbox/{family}", simulator.app)

    @app.get("/sandbox", include_in_schema=False)
    async def sandbox_info(request: Request) -> JSONResponse:
        return JSONResponse(request.app.state.sandbox_demo)

    @app.get("/sandbox/env", include_in_schema=False)
    async def sandbox_env(request: Request) -> PlainTextResponse:
        return PlainTextResponse(_as_env(request.app.state.sandbox_demo))

    @app.post("/sandbox/orders", include_in_schema=False)
    async def sandbox_order(request: Request) -> Response:
        """Place a resting limit order on a demo account (what a trading app would have done): Kraken by
        default, or `?type=<integration type>` for the other simulated venues."""
        demo = request.app.state.sandbox_demo
        wanted = request.query_params.get("type", "kraken")
        if wanted not in ("kraken", "krakenDirect"):
            return _place_other(request, wanted)
        account = "kraken2fa" if request.query_params.get("account") == "2fa" else "kraken"
        txid = kraken.place_order(demo[f"{account}ApiKey"], pair="XBTUSD", side="buy", volume="0.01", price="30000")
        if request.query_params.get("format") == "env":
            return PlainTextResponse(f"export TXID={shlex.quote(txid)}\n")
        return JSONResponse({"txid": txid, "order": kraken.order(txid)})


async def seed(app: FastAPI, gateway: Gateway) -> dict[str, Any]:
    demo = _demo_secrets()
    kraken: KrakenSimulator = app.state.kraken_simulator
    kraken.add_account(demo["krakenApiKey"], demo["krakenSecret"])
    kraken.add_account(demo["kraken2faApiKey"], demo["kraken2faSecret"], otp=DEMO_OTP)
    client = await gateway.clients.ensure(
        demo["clientId"], "sandbox demo client", demo["clientSecret"], frozenset({Scope.read, Scope.write})
    )
    token = gateway.sealer.seal(
        client.id,
        Credentials(IntegrationType.kraken, demo["krakenApiKey"], demo["krakenSecret"], extras={"otp": False}),
    )
    token_2fa = gateway.sealer.seal(
        client.id,
        Credentials(IntegrationType.kraken, demo["kraken2faApiKey"], demo["kraken2faSecret"], extras={"otp": True}),
    )
    info = {
        "clientId": client.id,
        "clientSecret": demo["clientSecret"],
        "krakenApiKey": demo["krakenApiKey"],
        "krakenSecret": demo["krakenSecret"],
        "kraken2faApiKey": demo["kraken2faApiKey"],
        "kraken2faSecret": demo["kraken2faSecret"],
        "kraken2faOtp": DEMO_OTP,
        "authToken": token,
        "authToken2fa": token_2fa,
        "krakenBaseUrl": gateway.registry.base_url(IntegrationType.kraken),
        "authTokens": {
            # Every type has AUTH_TOKEN_<TYPE> in /sandbox/env, Kraken's two types included.
            IntegrationType.kraken.value: token,
            IntegrationType.krakenDirect.value: gateway.sealer.seal(
                client.id,
                Credentials(
                    IntegrationType.krakenDirect, demo["krakenApiKey"], demo["krakenSecret"], extras={"otp": False}
                ),
            ),
            **await seed_other_venues(app, gateway, client.id),
        },
        # Brokers connected with a login (Robinhood equities): the login, and the verification code its simulated
        # device check always sends, for the README's /authenticate walk-through.
        "demoLogins": app.state.sandbox_logins,
    }
    print(_banner(info), flush=True)  # noqa: T201 - the sandbox's whole point is to show these
    return info


def _as_env(info: dict[str, Any]) -> str:
    names = {
        "clientId": "CLIENT_ID",
        "clientSecret": "CLIENT_SECRET",
        "authToken": "AUTH_TOKEN",
        "authToken2fa": "AUTH_TOKEN_2FA",
        "kraken2faOtp": "KRAKEN_OTP",
        "krakenApiKey": "KRAKEN_API_KEY",
    }
    lines = [f"export {env}={shlex.quote(str(info[key]))}\n" for key, env in names.items()]
    lines += [
        f"export AUTH_TOKEN_{IntegrationType(t).env_name}={shlex.quote(token)}\n"
        for t, token in info.get("authTokens", {}).items()
    ]
    lines += [f"export {env}={shlex.quote(value)}\n" for env, value in info.get("demoLogins", {}).items()]
    return "".join(lines)


def _banner(info: dict[str, Any]) -> str:
    return (
        "\n=== ordergate sandbox ===\n"
        "Demo data is for this machine only; GET /sandbox/env prints it as shell variables.\n"
        + "".join(f"  {key:16} {value}\n" for key, value in info.items() if key not in ("authTokens", "demoLogins"))
        + "".join(f"  {env:26} {value}\n" for env, value in info.get("demoLogins", {}).items())
        + "".join(f"  authToken {t:26} {v}\n" for t, v in info.get("authTokens", {}).items())
        + "=========================\n"
    )


def _place_other(request: Request, wanted: str) -> Response:
    accounts: dict[str, tuple[SimulatorBase, SimAccount]] = request.app.state.sandbox_accounts
    if wanted not in accounts:
        return JSONResponse({"error": f"no simulated venue for type {wanted!r}", "types": sorted(accounts)}, 404)
    simulator, account = accounts[wanted]
    login = (
        request.app.state.sandbox_login_users.get(wanted) if request.query_params.get("account") == "login" else None
    )
    if request.query_params.get("account") == "login" and login is None:
        return JSONResponse({"error": f"no demo login for type {wanted!r}"}, 404)
    if login is not None:  # an order on the demo login's brokerage account (Robinhood equities)
        order_id, extra = simulator.place_demo(login, quantity="1", price="100")  # type: ignore[attr-defined]
    else:
        order_id, extra = simulator.place(account, volume="1", price="100")
    if request.query_params.get("format") == "env":
        lines = [f"export TXID={shlex.quote(order_id)}"]
        if "symbolPair" in extra:
            lines.append(f"export SYMBOL_PAIR={shlex.quote(str(extra['symbolPair']))}")
        return PlainTextResponse("\n".join(lines) + "\n")
    return JSONResponse(
        {"type": wanted, "orderId": order_id, "cancelFields": extra, "order": simulator.describe(order_id)}
    )


async def seed_other_venues(app: FastAPI, gateway: Gateway, client_id: str) -> dict[str, str]:
    """One demo account per simulated venue (new at every start) and an authToken per integration type."""
    accounts: dict[str, tuple[SimulatorBase, SimAccount]] = {}
    tokens: dict[str, str] = {}
    app.state.sandbox_logins, app.state.sandbox_login_users = {}, {}
    for family, simulator in app.state.simulators.items():
        demo_login = getattr(simulator, "sandbox_login", None)
        if demo_login is not None:  # a broker also connected with a login through /authenticate
            login = demo_login(DEMO_OTP)
            app.state.sandbox_logins.update(login["env"])
            for integration in _types_of(family):
                app.state.sandbox_login_users[integration.value] = login["username"]
        account = simulator.new_account()
        for integration in _types_of(family):
            accounts[integration.value] = (simulator, account)
            creds = Credentials(integration, account.api_key, account.secret, account.passphrase, dict(account.extras))
            tokens[integration.value] = gateway.sealer.seal(client_id, creds)
    app.state.sandbox_accounts = accounts
    return tokens
