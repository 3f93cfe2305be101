"""What a Binance-compatible server receives from ordergate, checked against Binance's published signing recipe
re-implemented here (not ordergate's signing code): HMAC-SHA256 hex of totalParams, keyed by the secret as text."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
import urllib.parse
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            raw_query = request.scope["query_string"]
            self.seen.append((request.method, request.url.path, raw_query, dict(request.headers), await request.body()))
            order_id = int(dict(urllib.parse.parse_qsl(raw_query.decode()))["orderId"])
            return JSONResponse({"symbol": "BTCUSDT", "orderId": order_id, "status": "CANCELED"})

        self.app = Starlette(routes=[Route("/api/v3/order", endpoint, methods=["DELETE"])])


@pytest.mark.parametrize(
    "integration",
    [IntegrationType.binanceInternational, IntegrationType.binanceInternationalDirect, IntegrationType.binanceUs],
)
async def test_cancel_request_is_signed_per_binance_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, integration: IntegrationType
) -> None:
    recorder = Recorder()
    alphabet = string.ascii_letters + string.digits
    key, secret = ("".join(secrets.choice(alphabet) for _ in range(64)) for _ in range(2))
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            body = {
                "authToken": gw.seal(headers, key, secret, integration),
                "type": integration.value,
                "id": "28457",
                "isCryptocurrency": True,
                "symbolPair": "btc/usdt",
            }
            before = int(time.time() * 1000)
            resp = await gw.cancel(headers, **body)
            after = int(time.time() * 1000)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": "28457", "status": "cancelled"}
    assert len(recorder.seen) == 1  # one upstream request, no time sync or exchangeInfo first
    method, path, raw_query, got_headers, raw_body = recorder.seen[0]
    assert (method, path, raw_body) == ("DELETE", "/api/v3/order", b"")  # everything in the query string
    assert got_headers["x-mbx-apikey"] == key
    assert got_headers.get("user-agent")

    query = raw_query.decode()
    signed, _, signature = query.rpartition("&signature=")
    params = urllib.parse.parse_qsl(signed, strict_parsing=True)
    assert [k for k, _ in params] == ["timestamp", "symbol", "orderId", "recvWindow"]  # signature last, unsigned
    sent = dict(params)
    assert (sent["symbol"], sent["orderId"], sent["recvWindow"]) == ("BTCUSDT", "28457", "5000")
    assert abs(int(sent["timestamp"]) - (before + after) // 2) < 60_000  # our clock in ms, not seconds or µs
    # Binance's recipe: totalParams = query string + body (empty here), exactly as received.
    assert signature == hmac.new(secret.encode(), signed.encode(), hashlib.sha256).hexdigest()
    assert secret not in query and secret not in str(got_headers)
