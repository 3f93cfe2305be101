"""The thinnest honest baseline for the gateway: same server, same client library, same upstream request.

    python bench/bare_proxy.py --port P --upstream http://127.0.0.1:U --keys keys.json

A raw ASGI callable (no framework) served by uvicorn with the same options as `ordergate serve`. It receives
the same cancel JSON, looks the `authToken` up in a table loaded at start (`keys.json`: `[{"authToken",
"apiKey", "secret"}]`, so it uses the same Kraken keys as the gateway, without opening anything), builds
`nonce=…&txid=…`, signs it exactly like Kraken wants (a strictly increasing nonce per key), forwards it with one
pooled aiohttp session, reads Kraken's answer and replies with Mesh's envelope. No client auth, validation,
token opening, per-key lock or audit row: everything the gateway adds on top is what the comparison measures.

With `--venue bybit` it does the same for Bybit v5 (the benchmark's second venue, JSON + HMAC-SHA256): the
`keys.json` secrets are Bybit's text secrets, and it sends `{"category":"spot","symbol":…,"orderId":…}` to
`/v5/order/cancel` signed with X-BAPI-* headers, checks retCode 0 and answers Mesh's envelope with `inProgress`
(what ordergate answers for Bybit's asynchronous cancel acknowledgement).

The options other than the defaults exist for bench/choices.py, which measures the server and client choices
on this baseline: `--server granian`, `--loop asyncio --http h11` (uvicorn without uvloop/httptools),
`--client httpx`.

`--workers N` runs N processes, each serving on its own `SO_REUSEPORT` socket, as `ordergate serve --workers N`
does: the bare proxy's own two-worker figure, against which the gateway's scaling is read.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import hashlib
import hmac
import json
import os
import signal
import sys
import time
import traceback
from typing import Any
from urllib.parse import urlencode

import aiohttp
import uvicorn

CANCEL_PATH = "/0/private/CancelOrder"
BYBIT_CANCEL_PATH = "/v5/order/cancel"
BYBIT_RECV_WINDOW = "5000"
_JSON = [(b"content-type", b"application/json")]


class BareProxy:
    def __init__(self, upstream: str, keys_path: str, client: str = "aiohttp", venue: str = "kraken") -> None:
        self.venue = venue
        self.url = upstream.rstrip("/") + (BYBIT_CANCEL_PATH if venue == "bybit" else CANCEL_PATH)
        with open(keys_path) as fh:
            rows = json.load(fh)
        decode = (lambda s: s.encode()) if venue == "bybit" else base64.b64decode
        self.keys = {r["authToken"]: (r["apiKey"], decode(r["secret"])) for r in rows}
        self.last_nonce: dict[str, int] = {}
        self.client = client
        self.session: aiohttp.ClientSession | None = None
        self.httpx: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    if self.client == "httpx":
                        import httpx

                        limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
                        self.httpx = httpx.AsyncClient(limits=limits)
                    else:
                        connector = aiohttp.TCPConnector(limit=512, limit_per_host=512)
                        self.session = aiohttp.ClientSession(connector=connector, skip_auto_headers=("Content-Type",))
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.session is not None:
                        await self.session.close()
                    if self.httpx is not None:
                        await self.httpx.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, payload = await (self.cancel_bybit(body) if self.venue == "bybit" else self.cancel(body))
        await send({"type": "http.response.start", "status": status, "headers": _JSON})
        await send({"type": "http.response.body", "body": payload})

    async def cancel(self, raw: bytes) -> tuple[int, bytes]:
        try:
            data = json.loads(raw)
            api_key, secret = self.keys[data["authToken"]]
            order_id = data["id"]
        except (ValueError, KeyError, TypeError):
            return 400, b'{"status":"badRequest"}'
        nonce = max(time.time_ns() // 1000, self.last_nonce.get(api_key, 0) + 1)
        self.last_nonce[api_key] = nonce
        form = urlencode([("nonce", str(nonce)), ("txid", order_id)]).encode()
        digest = hashlib.sha256(str(nonce).encode() + form).digest()
        sign = base64.b64encode(hmac.new(secret, CANCEL_PATH.encode() + digest, hashlib.sha512).digest()).decode()
        headers = {"API-Key": api_key, "API-Sign": sign, "Content-Type": "application/x-www-form-urlencoded"}
        try:
            if self.httpx is not None:
                answer = (await self.httpx.post(self.url, content=form, headers=headers)).json()
            else:
                assert self.session is not None
                async with self.session.post(self.url, data=form, headers=headers) as resp:
                    answer = json.loads(await resp.read())
        except Exception:  # noqa: BLE001 - any failure is a 502 here
            return 502, b'{"status":"serverFailure"}'
        if answer.get("error") or (answer.get("result") or {}).get("count") != 1:
            return 502, b'{"status":"serverFailure"}'
        envelope = {
            "status": "ok",
            "message": "Order cancelled.",
            "displayMessage": None,
            "errorType": "",
            "errorData": None,
            "content": {"orderId": order_id, "status": "cancelled"},
        }
        return 200, json.dumps(envelope, separators=(",", ":")).encode()

    async def cancel_bybit(self, raw: bytes) -> tuple[int, bytes]:
        try:
            data = json.loads(raw)
            api_key, secret = self.keys[data["authToken"]]
            order_id = data["id"]
            symbol = data["symbolPair"]
        except (ValueError, KeyError, TypeError):
            return 400, b'{"status":"badRequest"}'
        form = json.dumps({"category": "spot", "symbol": symbol, "orderId": order_id}, separators=(",", ":")).encode()
        stamp = str(time.time_ns() // 1_000_000)
        sign = hmac.new(secret, (stamp + api_key + BYBIT_RECV_WINDOW).encode() + form, hashlib.sha256).hexdigest()
        headers = {
            "X-BAPI-API-KEY": api_key,
            "X-BAPI-TIMESTAMP": stamp,
            "X-BAPI-RECV-WINDOW": BYBIT_RECV_WINDOW,
            "X-BAPI-SIGN": sign,
            "Content-Type": "application/json",
        }
        try:
            assert self.session is not None
            async with self.session.post(self.url, data=form, headers=headers) as resp:
                answer = json.loads(await resp.read())
        except Exception:  # noqa: BLE001 - any failure is a 502 here
            return 502, b'{"status":"serverFailure"}'
        if answer.get("retCode") != 0 or (answer.get("result") or {}).get("orderId") != order_id:
            return 502, b'{"status":"serverFailure"}'
        envelope = {
            "status": "ok",
            "message": "Cancel request accepted.",
            "displayMessage": None,
            "errorType": "",
            "errorData": None,
            "content": {"orderId": order_id, "status": "inProgress"},
        }
        return 200, json.dumps(envelope, separators=(",", ":")).encode()


def from_env() -> BareProxy:
    """Factory for servers that import the app (granian): the options travel in BARE_PROXY_* variables."""
    return BareProxy(
        os.environ["BARE_PROXY_UPSTREAM"], os.environ["BARE_PROXY_KEYS"], os.environ.get("BARE_PROXY_CLIENT", "aiohttp")
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--keys", required=True)
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    parser.add_argument("--loop", default="auto", help="uvicorn --loop (auto = uvloop when installed)")
    parser.add_argument("--http", default="auto", help="uvicorn --http (auto = httptools when installed)")
    parser.add_argument("--client", choices=("aiohttp", "httpx"), default="aiohttp")
    parser.add_argument("--venue", choices=("kraken", "bybit"), default="kraken")
    parser.add_argument("--default-gc", action="store_true", help="keep Python's default GC thresholds")
    parser.add_argument("--workers", type=int, default=1, help="processes, each on its own SO_REUSEPORT socket")
    args = parser.parse_args()
    if args.server == "granian":
        env = {
            **os.environ,
            "BARE_PROXY_UPSTREAM": args.upstream,
            "BARE_PROXY_KEYS": args.keys,
            "BARE_PROXY_CLIENT": args.client,
            "PYTHONPATH": os.path.dirname(os.path.abspath(__file__)),
        }
        granian = os.path.join(os.path.dirname(sys.executable), "granian")
        os.execve(
            granian,
            [
                granian,
                "--interface",
                "asgi",
                "--factory",
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--loop",
                "uvloop",
                "--no-access-log",
                "--log-level",
                "warning",
                "bare_proxy:from_env",
            ],
            env,
        )
    app = BareProxy(args.upstream, args.keys, args.client, args.venue)
    if not args.default_gc:
        # The process tuning `ordergate serve` applies (ordergate/runtime.py), so that the comparison measures
        # the gateway's work rather than a GC setting; it changes little here (small heap, few allocations).
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)
    # The same uvicorn options `ordergate serve` uses (loop and http left to uvicorn's "auto": uvloop, httptools).
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": 15,
        "loop": args.loop,
        "http": args.http,
    }
    if args.workers <= 1:
        uvicorn.run(app, host=args.host, port=args.port, **options)
    else:
        serve_workers(app, args.host, args.port, args.workers, options)


def serve_workers(app: BareProxy, host: str, port: int, workers: int, options: dict[str, Any]) -> None:
    """`workers` forked processes, each a uvicorn server on its own SO_REUSEPORT socket (what ordergate's
    supervisor gives each worker); SIGTERM or SIGINT here is passed on to them, and this process waits for them."""
    from ordergate.server import reuseport_socket  # the socket each ordergate worker binds

    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            status = 1
            try:  # a child never returns into this loop, whatever happens to its server
                uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[reuseport_socket(host, port)])
                status = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(status)
        children.append(pid)

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    failed = [child for child in children if os.waitpid(child, 0)[1] != 0]
    if failed:
        sys.exit(f"bare proxy: {len(failed)} of {workers} worker processes failed")


if __name__ == "__main__":
    main()
