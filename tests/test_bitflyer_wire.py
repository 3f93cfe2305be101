"""What a bitFlyer-compatible server receives from ordergate, checked with an independent re-implementation of
bitFlyer's published recipe (lightning.bitflyer.com/docs, "Authentication"), not ordergate's own signing code."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import string
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

_ALNUM = string.ascii_letters + string.digits


def _bitflyer_sign(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """The docs: HMAC-SHA256 of ACCESS-TIMESTAMP, HTTP method, request path and request body, concatenated."""
    return hmac.new(
        secret.encode(), timestamp.encode() + method.encode() + path.encode() + body, hashlib.sha256
    ).hexdigest()


class Recorder:
    """Records every request; knows one ACTIVE order on ETH_JPY and answers as bitFlyer does."""

    def __init__(self, order_id: str) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> Response:
            query = request.scope["query_string"].decode()
            target = request.url.path + ("?" + query if query else "")
            self.seen.append((request.method, target, dict(request.headers), await request.body()))
            if request.url.path == "/v1/me/getchildorders":
                field = "child_order_acceptance_id" if order_id.startswith("JRF") else "child_order_id"
                row = {field: order_id, "product_code": "ETH_JPY", "child_order_state": "ACTIVE", "size": 1,
                       "executed_size": 0, "side": "BUY", "price": 400000}  # fmt: skip
                return JSONResponse([row] if request.query_params.get(field) == order_id else [])
            return Response(status_code=200)

        self.app = Starlette(
            routes=[
                Route("/v1/me/getchildorders", endpoint, methods=["GET"]),
                Route("/v1/me/cancelchildorder", endpoint, methods=["POST"]),
            ]
        )


def _check_signed(method: str, target: str, headers: dict[str, str], body: bytes, key: str, secret: str) -> None:
    assert headers["access-key"] == key
    assert headers["access-timestamp"].isdigit()  # Unix seconds, as ccxt sends
    assert headers["access-sign"] == _bitflyer_sign(secret, headers["access-timestamp"], method, target, body)
    assert secret not in target and secret not in body.decode() and secret not in str(headers)


@pytest.mark.parametrize(
    ("order_id", "field"),
    [("JRF20150707-060559-396699", "child_order_acceptance_id"), ("JOR20150707-060559-021935", "child_order_id")],
)
async def test_cancel_is_a_signed_read_a_signed_cancel_and_a_signed_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order_id: str, field: str
) -> None:
    recorder = Recorder(order_id)
    key = "".join(secrets.choice(_ALNUM) for _ in range(22))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(43)) + "="
    integration = IntegrationType.bitFlyer
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            body = {"authToken": gw.seal(headers, key, secret, integration), "type": integration.value,
                    "id": order_id, "isCryptocurrency": True, "symbolPair": "eth/jpy"}  # fmt: skip
            resp = await gw.cancel(headers, **body)

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    # The recorder keeps the order ACTIVE: bitFlyer took the cancel and has not applied it yet.
    assert len(recorder.seen) == 3
    for method, target, got, raw in (recorder.seen[0], recorder.seen[2]):
        assert (method, target, raw) == ("GET", f"/v1/me/getchildorders?product_code=ETH_JPY&{field}={order_id}", b"")
        assert "content-type" not in got
        _check_signed(method, target, got, raw, key, secret)
    method, target, got, raw = recorder.seen[1]
    assert (method, target, got["content-type"]) == ("POST", "/v1/me/cancelchildorder", "application/json")
    assert json.loads(raw) == {"product_code": "ETH_JPY", field: order_id}
    assert list(json.loads(raw)) == ["product_code", field]
    _check_signed(method, target, got, raw, key, secret)
