"""What a Bybit-compatible server receives from ordergate, checked with an independent re-implementation of
Bybit's published signing recipe (docs/v5/guide.mdx), not ordergate's own signing code."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
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

ORDER_ID = "1523347543495541248"
_ALNUM = string.ascii_letters + string.digits


def _bybit_sign(secret: str, headers: dict[str, str], payload: bytes) -> str:
    """The docs: HMAC_SHA256(secret, timestamp + api_key + recv_window + (queryString | jsonBodyString)), hex."""
    plain = headers["x-bapi-timestamp"] + headers["x-bapi-api-key"] + headers["x-bapi-recv-window"]
    return hmac.new(secret.encode(), plain.encode() + payload, hashlib.sha256).hexdigest()


class Recorder:
    """Records every request and answers as Bybit does on success; the open order it knows is on ETHUSDT."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes, bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            raw = await request.body() if request.method == "POST" else request.scope["query_string"]
            query = request.scope["query_string"]
            self.seen.append((request.method, request.url.path, dict(request.headers), raw, query))
            if request.url.path == "/v5/order/realtime":
                result = {
                    "category": "spot",
                    "list": [{"orderId": ORDER_ID, "symbol": "ETHUSDT", "orderStatus": "New"}],
                }
            else:
                result = {"orderId": ORDER_ID, "orderLinkId": ""}
            now = time.time_ns() // 1_000_000
            return JSONResponse({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now})

        self.app = Starlette(
            routes=[
                Route("/v5/order/cancel", endpoint, methods=["POST"]),
                Route("/v5/order/realtime", endpoint, methods=["GET"]),
            ]
        )


def _check_signed(headers: dict[str, str], payload: bytes, key: str, secret: str) -> None:
    assert headers["x-bapi-api-key"] == key
    assert headers["x-bapi-recv-window"] == "5000"
    assert abs(int(headers["x-bapi-timestamp"]) - time.time() * 1000) < 60_000  # milliseconds, now
    assert headers["x-bapi-sign"] == _bybit_sign(secret, headers, payload)
    assert secret not in payload.decode() and secret not in str(headers)


@pytest.mark.parametrize(
    "integration", [IntegrationType.bybit, IntegrationType.bybitDirect, IntegrationType.bybitDirectMobile]
)
@pytest.mark.parametrize("symbol_pair", ["BTC/USDT", None])
async def test_cancel_request_is_signed_per_bybit_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, integration: IntegrationType, symbol_pair: str | None
) -> None:
    recorder = Recorder()
    key = "".join(secrets.choice(_ALNUM) for _ in range(18))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(36))
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            body = {"authToken": gw.seal(headers, key, secret, integration), "type": integration.value,
                    "id": ORDER_ID, "isCryptocurrency": True}  # fmt: skip
            if symbol_pair:
                body["symbolPair"] = symbol_pair
            resp = await gw.cancel(headers, **body)

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    if symbol_pair is None:
        # Without symbolPair Bybit cannot cancel: the order is found first, a signed GET over its query string.
        assert len(recorder.seen) == 2
        method, path, got, query, _ = recorder.seen.pop(0)
        assert (method, path, query) == ("GET", "/v5/order/realtime", f"category=spot&orderId={ORDER_ID}".encode())
        assert "content-type" not in got  # a GET with a JSON body is one of Bybit's 403 causes
        _check_signed(got, query, key, secret)
    assert len(recorder.seen) == 1
    method, path, got, raw, query = recorder.seen[0]
    assert (method, path, query, got["content-type"]) == ("POST", "/v5/order/cancel", b"", "application/json")
    expected_symbol = "BTCUSDT" if symbol_pair else "ETHUSDT"
    assert json.loads(raw) == {"category": "spot", "symbol": expected_symbol, "orderId": ORDER_ID}
    assert list(json.loads(raw)) == ["category", "symbol", "orderId"]
    _check_signed(got, raw, key, secret)
