"""What a Gate-compatible server receives from ordergate, checked with an independent re-implementation of Gate's
published signing recipe (API v4 docs, "API Signature string generation"), not ordergate's own signing code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
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

ORDER_ID = "394120203701"
# The docs print it: "If no request body, use empty string's hashed result".
EMPTY_SHA512 = (
    "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
)


def _gate_sign(secret: str, method: str, path: str, query: str, timestamp: str) -> str:
    """Method, request URL without host, query "without URL encode", hex SHA-512 of the (empty) body, Timestamp."""
    plain = f"{method}\n{path}\n{query}\n{EMPTY_SHA512}\n{timestamp}"
    return hmac.new(secret.encode(), plain.encode(), hashlib.sha512).hexdigest()


class Recorder:
    """Records every request and answers as Gate does when a cancel succeeds: the order, now cancelled."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            query = request.scope["query_string"].decode()
            self.seen.append((request.method, request.url.path, query, dict(request.headers), await request.body()))
            order = {"id": ORDER_ID, "currency_pair": "BTC_USDT", "status": "cancelled", "finish_as": "cancelled",
                     "type": "limit", "side": "buy", "amount": "1", "left": "1", "filled_amount": "0"}  # fmt: skip
            return JSONResponse(order)

        self.app = Starlette(routes=[Route("/api/v4/spot/orders/{order_id}", endpoint, methods=["DELETE", "GET"])])


@pytest.mark.parametrize("symbol_pair", ["BTC_USDT", "BTC/USDT", "btc-usdt"])
@pytest.mark.parametrize("base_suffix", ["", "/api/v4"])
async def test_cancel_request_is_signed_per_gates_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, symbol_pair: str, base_suffix: str
) -> None:
    recorder = Recorder()
    key, secret = secrets.token_hex(16), secrets.token_hex(32)
    integration = IntegrationType.gateIo
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url + base_suffix)
        assert Settings().base_urls[integration] == url + base_suffix  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            body = {"authToken": gw.seal(headers, key, secret, integration), "type": integration.value,
                    "id": ORDER_ID, "isCryptocurrency": True, "symbolPair": symbol_pair}  # fmt: skip
            resp = await gw.cancel(headers, **body)

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "cancelled"}
    assert len(recorder.seen) == 1  # one upstream request
    method, path, query, got, raw = recorder.seen[0]
    assert (method, path, query, raw) == ("DELETE", f"/api/v4/spot/orders/{ORDER_ID}", "currency_pair=BTC_USDT", b"")
    assert got["key"] == key
    assert got["timestamp"].isdigit() and abs(int(got["timestamp"]) - time.time()) < 60  # seconds, now
    assert got["sign"] == _gate_sign(secret, "DELETE", path, query, got["timestamp"])
    assert secret not in str(got)
