"""`ordergate serve | migrate | clients | tokens | connect | audit`."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.observability import log_config
from ordergate.settings import Settings
from ordergate.store.audit import AuditLog
from ordergate.store.clients import ClientStore, Scope, parse_scopes
from ordergate.store.db import make_engine, migrate, sessions
from ordergate.tokens import TokenKeyError, generate_key_spec


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from ordergate.app import create_app, load_sealer
    from ordergate.runtime import tune_gc
    from ordergate.server import serve_workers, server_options

    settings = Settings()
    if args.sandbox and not _loopback(args.host) and not args.allow_remote_sandbox:
        print(
            f"ordergate: the sandbox serves a demo API client whose secret it prints, and venue simulators that take "
            f"anyone's orders; it binds to loopback only. Serving it on {args.host} needs --allow-remote-sandbox.",
            file=sys.stderr,
        )
        return 2
    if args.sandbox:
        from ordergate.sandbox import sandbox_settings

        self_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host  # noqa: S104
        settings = sandbox_settings(settings, f"http://{self_host}:{args.port}")
    try:
        load_sealer(settings)
    except TokenKeyError as exc:
        print(f"ordergate: {exc}", file=sys.stderr)
        return 2
    options = server_options(
        args.host,
        args.port,
        max_header_bytes=settings.max_header_bytes,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
    )
    if args.workers > 1:
        if args.sandbox:
            print(
                "ordergate: --workers needs production mode (the sandbox keeps its venues in one process)",
                file=sys.stderr,
            )
            return 2
        if not settings.redis_url:
            print(
                "ordergate: warning: several workers without ORDERGATE_REDIS_URL keep separate rate limits and "
                "separate Kraken nonce queues; one key used through two workers can get nonce errors",
                file=sys.stderr,
            )
        # Migrate once here so the workers do not race to create the schema; each builds its app from the
        # environment (ORDERGATE_*), exactly as this process did.
        asyncio.run(_with_db(_schema_ready))
        serve_workers("ordergate.runtime:worker_app", args.workers, options)
        return 0
    app = create_app(settings)
    tune_gc()
    uvicorn.run(app, **options)
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _schema_ready(_factory: Any) -> int:
    return 0


async def _with_db(work: Callable[[Any], Awaitable[int]], sandbox: bool = False) -> int:
    engine = make_engine(Settings(sandbox=sandbox).effective_database_url())
    try:
        await migrate(engine)
        return await work(sessions(engine))
    finally:
        await engine.dispose()


def _print(obj: Any, as_json: bool, text: str) -> None:
    print(json.dumps(obj, default=str) if as_json else text)


def _clients(args: argparse.Namespace) -> int:
    async def work(factory: Any) -> int:
        store = ClientStore(factory)
        if args.clients_cmd == "create":
            client, secret = await store.create(args.name, parse_scopes(args.scopes))
            out = {"clientId": client.id, "clientSecret": secret}
            _print(
                out,
                args.json,
                f"clientId:     {client.id}\nclientSecret: {secret}\n(the secret is shown once; store it now)",
            )
            return 0
        if args.clients_cmd == "list":
            rows = [
                {
                    "clientId": c.id,
                    "name": c.name,
                    "scopes": sorted(c.scopes),
                    "disabled": c.disabled,
                    "createdAt": c.created_at.isoformat(),
                }
                for c in await store.list()
            ]
            text = "\n".join(
                f"{r['clientId']}  {r['name']}  scopes={','.join(r['scopes'])}{'  DISABLED' if r['disabled'] else ''}"
                for r in rows
            )
            _print(rows, args.json, text or "(no clients)")
            return 0
        found = await store.set_disabled(args.client_id, args.clients_cmd == "disable")
        if not found:
            print(f"ordergate: no client {args.client_id}", file=sys.stderr)
            return 1
        print(f"{args.clients_cmd}d {args.client_id}")
        return 0

    return asyncio.run(_with_db(work, args.sandbox))


def _tokens(args: argparse.Namespace) -> int:
    if args.tokens_cmd == "new-key":
        print(generate_key_spec(args.kid))
        return 0
    from ordergate.app import load_sealer

    try:
        sealer = load_sealer(Settings(sandbox=args.sandbox))
    except TokenKeyError as exc:
        print(f"ordergate: {exc}", file=sys.stderr)
        return 2
    creds = Credentials(
        type=IntegrationType(args.type),
        api_key=args.username,
        secret=args.password,
        passphrase=args.passphrase,
        extras={"otp": True} if args.otp_required else {},
    )
    token = sealer.seal(args.client_id, creds)
    _print({"authToken": token}, args.json, token)
    return 0


def _audit(args: argparse.Namespace) -> int:
    async def work(factory: Any) -> int:
        rows = await AuditLog(factory).tail(args.n)
        if args.json:
            for r in rows:
                print(json.dumps({k: getattr(r, k) for k in r.__slots__}, default=str))
            return 0
        for r in rows:
            repeat = f" source={_term(r.source)} x{r.repeat_count}" if r.source or r.repeat_count != 1 else ""
            print(
                f"{r.created_at:%Y-%m-%d %H:%M:%S} {_term(r.request_id[:12])} {_term(r.endpoint)} "
                f"client={_term(r.client_id)} type={_term(r.integration_type)} order={_term(r.order_id)} "
                f"-> {r.http_status} {_term(r.status)} {_term(r.error_type) or '-'} "
                f"upstream={r.upstream_status}x{r.upstream_requests} {r.latency_ms:.1f}ms{repeat}"
            )
        return 0

    return asyncio.run(_with_db(work, args.sandbox))


# C0 and C1 controls, DEL, line/paragraph separators and bidi overrides: what moves a terminal's cursor, runs
# escape sequences or makes a line read differently from what it holds.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _term(value: object) -> str:
    """An audit value as shown on a terminal: request fields are attacker-controlled, so every control is escaped
    (ESC as `\\x1b`, CR as `\\r`) instead of reaching the terminal."""
    text = str(value)
    if text.isprintable() and text.isascii():
        return text
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _migrate(_: argparse.Namespace) -> int:
    async def work(_factory: Any) -> int:
        print("schema is at the newest revision")
        return 0

    return asyncio.run(_with_db(work))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ordergate", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    serve = sub.add_parser("serve", help="serve the gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--sandbox", action="store_true", help="SQLite + in-process venue simulators + demo data")
    serve.add_argument(
        "--allow-remote-sandbox",
        action="store_true",
        help="let --sandbox listen on a non-loopback address (anyone who reaches it gets the demo client)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (production mode only). Set ORDERGATE_REDIS_URL with more than one: it keeps "
        "rate limits, venue back-offs and each Kraken key's nonce order shared by all workers",
    )
    serve.set_defaults(func=_serve)

    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=_migrate)

    clients = sub.add_parser("clients", help="manage API clients")
    csub = clients.add_subparsers(dest="clients_cmd", required=True)
    create = csub.add_parser("create")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", default="read,write", type=_scopes)
    create.add_argument("--json", action="store_true")
    lst = csub.add_parser("list")
    lst.add_argument("--json", action="store_true")
    for name in ("disable", "enable"):
        c = csub.add_parser(name)
        c.add_argument("client_id")
    for c in (create, lst, *(csub.choices[n] for n in ("disable", "enable"))):
        c.add_argument("--sandbox", action="store_true", help="use the sandbox's database")
    clients.set_defaults(func=_clients)

    tokens = sub.add_parser("tokens", help="authToken keys and offline sealing")
    tsub = tokens.add_subparsers(dest="tokens_cmd", required=True)
    seal = tsub.add_parser("seal", help="seal venue credentials into an authToken for an API client")
    seal.add_argument("--client-id", required=True)
    seal.add_argument("--type", required=True, choices=[t.value for t in IntegrationType], metavar="TYPE")
    seal.add_argument("--username", required=True, help="the venue API key")
    seal.add_argument("--password", required=True, help="the venue API secret")
    seal.add_argument("--passphrase")
    seal.add_argument("--otp-required", action="store_true", help="the key needs a one-time code (Kraken 2FA)")
    seal.add_argument("--sandbox", action="store_true", help="use the sandbox's local dev key")
    seal.add_argument("--json", action="store_true")
    newkey = tsub.add_parser("new-key", help="print a fresh kid:base64key for ORDERGATE_TOKEN_KEYS")
    newkey.add_argument("--kid", default="k1")
    tokens.set_defaults(func=_tokens)

    from ordergate.cli_connect import add_parser as add_connect

    add_connect(sub)

    audit = sub.add_parser("audit", help="read the audit log")
    asub = audit.add_subparsers(dest="audit_cmd", required=True)
    tail = asub.add_parser("tail")
    tail.add_argument("--n", type=int, default=20)
    tail.add_argument("--json", action="store_true")
    tail.add_argument("--sandbox", action="store_true", help="read the sandbox's database")
    audit.set_defaults(func=_audit)
    return p


def _scopes(text: str) -> str:
    try:
        scopes = parse_scopes(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"scopes are {', '.join(s.value for s in Scope)}") from None
    if not scopes:
        raise argparse.ArgumentTypeError("at least one scope")
    return text


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
