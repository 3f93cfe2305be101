"""A minimal Kraken-compatible (or, with --venue bybit, Bybit-compatible) upstream for the benchmark: verifies
every signature, answers success.

    python bench/upstream.py --port P --accounts accounts.json [--venue bybit]

`accounts.json` is `[{"apiKey", "secret", "replay"?}, ...]`. For every `POST /0/private/CancelOrder` it
checks what Kraken checks on the request itself: a known `API-Key`, `API-Sign` = base64(HMAC-SHA512(
b64decode(secret), path + SHA256(nonce + body))) over the exact bytes received, and a nonce strictly greater
than the key's last one. It then answers `{"error":[],"result":{"count":1}}` for any `txid`: every cancel
cancels an open order, without the upstream having to hold orders. Any failed check answers Kraken's error
(`EAPI:Invalid key|signature|nonce`) and is counted, so the benchmark can see it.

Keys marked `"replay": true` skip only the nonce check (the signature is still verified): the `direct`
variant replays precomputed signed requests on those keys, because wrk's Lua cannot compute HMAC-SHA512.

Why not the simulator: it takes a lock, keeps every order and rebuilds the Kraken order object per call, which
costs more CPU than a proxy on a 2-core machine; this server (raw asyncio protocol + httptools + uvloop)
spends ~30 µs per request, so it does not dominate the cores the gateway runs on.

bench/upstream.c is the same server in C (under half this one's CPU per request: a sixth of its user time, the same
kernel time), which bench/run.py builds and
measures with where it can; this one is its reference: tests/test_bench_upstream_c.py sends both the same requests
and compares every answer.

With `--venue bybit` it checks what Bybit v5 checks on `POST /v5/order/cancel`: a known `X-BAPI-API-KEY`, a
`X-BAPI-TIMESTAMP` inside `[now - X-BAPI-RECV-WINDOW, now + 1000 ms)`, `X-BAPI-SIGN` = hex(HMAC-SHA256(secret,
timestamp + apiKey + recvWindow + body)) over the exact body received, and a body naming `category`, `symbol`
and `orderId`; then answers retCode 0 with the orderId (an accepted cancel), else Bybit's retCode for the failed
check (10003 key, 10004 sign, 10002 timestamp, 10001 parameters).

    GET /_stats -> {"requests", "cancels", "errors": {error: n}, "byKey": {apiKey: cancels}}
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from collections import Counter
from urllib.parse import parse_qsl

import httptools

CANCEL_PATH = b"/0/private/CancelOrder"
# CancelOrderBatch (the batch row, bench/batch.py): a JSON body `{"nonce", "orders": [txid, …]}`, signed the same
# way over the JSON bytes; answers `{"count": len(orders)}`, every txid counted as a cancel.
BATCH_PATH = b"/0/private/CancelOrderBatch"
_OK = b'{"error":[],"result":{"count":1}}'


def _response(status: str, body: bytes, keep_alive: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{'' if keep_alive else 'Connection: close' + chr(13) + chr(10)}\r\n"
    )
    return head.encode() + body


class State:
    def __init__(self, accounts: list[dict[str, object]]) -> None:
        self.secrets: dict[bytes, bytes] = {}
        self.replay: set[bytes] = set()
        self.last_nonce: dict[bytes, int] = {}
        for acc in accounts:
            key = str(acc["apiKey"]).encode()
            self.secrets[key] = base64.b64decode(str(acc["secret"]))
            if acc.get("replay"):
                self.replay.add(key)
        self.requests = 0
        self.cancels = 0
        self.errors: Counter[str] = Counter()
        self.by_key: Counter[bytes] = Counter()

    def stats(self) -> tuple[str, bytes]:
        stats = {
            "requests": self.requests,
            "cancels": self.cancels,
            "errors": dict(self.errors),
            "byKey": {k.decode(): v for k, v in self.by_key.items()},
        }
        return "200 OK", json.dumps(stats).encode()

    def handle(self, method: bytes, url: bytes, headers: dict[bytes, bytes], body: bytes) -> tuple[str, bytes]:
        if method == b"GET" and url == b"/_stats":
            return self.stats()
        self.requests += 1
        api_key, api_sign = headers.get(b"api-key", b""), headers.get(b"api-sign", b"")
        if method != b"POST" or url not in (CANCEL_PATH, BATCH_PATH):
            return self._refuse("EGeneral:Unknown method")
        secret = self.secrets.get(api_key)
        if secret is None:
            return self._refuse("EAPI:Invalid key")
        if url == BATCH_PATH:
            try:
                params = json.loads(body)
                orders = params["orders"]
            except (ValueError, TypeError, KeyError):
                return self._refuse("EGeneral:Invalid arguments")
            nonce_text, count = str(params.get("nonce", "")), len(orders) if isinstance(orders, list) else 0
            if not count:
                return self._refuse("EGeneral:Invalid arguments")
        else:
            params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            nonce_text, count = params.get("nonce", ""), 1
            if not params.get("txid"):
                return self._refuse("EGeneral:Invalid arguments")
        if not nonce_text.isdigit():
            return self._refuse("EAPI:Invalid nonce")
        digest = hashlib.sha256(nonce_text.encode() + body).digest()
        expected = base64.b64encode(hmac.new(secret, url + digest, hashlib.sha512).digest())
        if not hmac.compare_digest(expected, api_sign):
            return self._refuse("EAPI:Invalid signature")
        if api_key not in self.replay:
            nonce = int(nonce_text)
            if nonce <= self.last_nonce.get(api_key, 0):
                return self._refuse("EAPI:Invalid nonce")
            self.last_nonce[api_key] = nonce
        self.cancels += count
        self.by_key[api_key] += count
        return "200 OK", _OK if count == 1 else b'{"error":[],"result":{"count":%d}}' % count

    def _refuse(self, error: str) -> tuple[str, bytes]:
        self.errors[error] += 1
        return "200 OK", json.dumps({"error": [error]}).encode()


BYBIT_CANCEL_PATH = b"/v5/order/cancel"


class BybitState(State):
    """Bybit keys: the secret is used as text (not base64), as Bybit's HMAC keys are."""

    def __init__(self, accounts: list[dict[str, object]]) -> None:
        super().__init__([])
        for acc in accounts:
            self.secrets[str(acc["apiKey"]).encode()] = str(acc["secret"]).encode()

    def handle(self, method: bytes, url: bytes, headers: dict[bytes, bytes], body: bytes) -> tuple[str, bytes]:
        if method == b"GET" and url == b"/_stats":
            return self.stats()
        self.requests += 1
        if method != b"POST" or url != BYBIT_CANCEL_PATH:
            return self._fail(10001, "unknown path")
        api_key = headers.get(b"x-bapi-api-key", b"")
        secret = self.secrets.get(api_key)
        if secret is None:
            return self._fail(10003, "API key is invalid.")
        stamp, window = headers.get(b"x-bapi-timestamp", b""), headers.get(b"x-bapi-recv-window", b"5000")
        now = time.time_ns() // 1_000_000
        if not stamp.isdigit() or not window.isdigit() or not now - int(window) <= int(stamp) < now + 1000:
            return self._fail(10002, "invalid request, please check your server timestamp or recv_window param")
        expected = hmac.new(secret, stamp + api_key + window + body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(expected, headers.get(b"x-bapi-sign", b"")):
            return self._fail(10004, "error sign!")
        try:
            order = json.loads(body)
            order_id = order["orderId"]
            ok = order["category"] == "spot" and bool(order["symbol"]) and isinstance(order_id, str)
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            return self._fail(10001, "params error")
        self.cancels += 1
        self.by_key[api_key] += 1
        answer = {
            "retCode": 0,
            "retMsg": "OK",
            "result": {"orderId": order_id, "orderLinkId": ""},
            "retExtInfo": {},
            "time": now,
        }
        return "200 OK", json.dumps(answer, separators=(",", ":")).encode()

    def _fail(self, code: int, message: str) -> tuple[str, bytes]:
        self.errors[str(code)] += 1
        body = {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": time.time_ns() // 10**6}
        return "200 OK", json.dumps(body).encode()


class Protocol(asyncio.Protocol):
    def __init__(self, state: State) -> None:
        self.state = state
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self._reset()

    def _reset(self) -> None:
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(_response("400 Bad Request", b"{}", False))
            self.transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        method = self.parser.get_method()
        status, payload = self.state.handle(method, self.url, self.headers, b"".join(self.body))
        keep_alive = self.parser.should_keep_alive()
        self.transport.write(_response(status, payload, keep_alive))
        if not keep_alive:
            self.transport.close()
        self._reset()


async def serve(port: int, accounts_path: str, venue: str = "kraken") -> None:
    with open(accounts_path) as fh:
        state = (BybitState if venue == "bybit" else State)(json.load(fh))
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = await loop.create_server(lambda: Protocol(state), sock=sock, backlog=4096)
    print(f"upstream listening on 127.0.0.1:{sock.getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--venue", choices=("kraken", "bybit"), default="kraken")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.run(serve(args.port, args.accounts, args.venue))
    except ImportError:
        asyncio.run(serve(args.port, args.accounts, args.venue))


if __name__ == "__main__":
    main()
