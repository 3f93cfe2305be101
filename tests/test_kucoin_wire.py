"""What a KuCoin-compatible server receives from ordergate, checked with an independent re-implementation of
KuCoin's published signing recipe (not ordergate's own signing code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

ORDER_ID = "5bd6e9286d99522a52e458de"


def _kucoin_hmac(secret: str, text: str) -> str:
    """KuCoin's docs: HMAC-SHA256 keyed with the API secret (as text), then base64."""
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            query = request.scope["query_string"].decode()
            self.seen.append((request.method, request.url.path, query, dict(request.headers), await request.body()))
            order_id = request.path_params["order_id"]
            hf = request.url.path.startswith("/api/v1/hf/")
            data = {"orderId": order_id} if hf else {"cancelledOrderIds": [order_id]}
            return JSONResponse({"code": "200000", "data": data})

        self.app = Starlette(
            routes=[
                Route("/api/v1/orders/{order_id}", endpoint, methods=["DELETE"]),
                Route("/api/v1/hf/orders/{order_id}", endpoint, methods=["DELETE"]),
            ]
        )


@pytest.mark.parametrize("integration", [IntegrationType.kuCoin, IntegrationType.kuCoinDirect])
@pytest.mark.parametrize("hf", [False, True])
async def test_cancel_request_is_signed_per_kucoin_recipe(
    tmp_path: Path, kraken, monkeypatch: pytest.MonkeyPatch, integration: IntegrationType, hf: bool
) -> None:
    recorder = Recorder()
    key, secret, passphrase = secrets.token_hex(12), str(uuid.uuid4()), "pass phrase/" + secrets.token_hex(4)
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url  # the documented variable is what is read
        sim, _ = kraken
        async with gateway_harness(tmp_path, sim, url, base_urls=Settings().base_urls) as gw:
            headers = await gw.client()
            creds = Credentials(integration, key, secret, passphrase, {"hf": hf})
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            body = {"authToken": token, "type": integration.value, "id": ORDER_ID, "isCryptocurrency": True}
            resp = await gw.cancel(headers, **body, symbolPair="BTC/USDT")
    assert resp.status_code == 200, resp.text
    # KuCoin only acknowledges a cancel: the gateway says so rather than claiming it cancelled.
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1  # one upstream request, no preloading
    method, path, query, got, raw = recorder.seen[0]
    assert method == "DELETE" and raw == b""
    if hf:
        assert (path, query) == (f"/api/v1/hf/orders/{ORDER_ID}", "symbol=BTC-USDT")
    else:
        assert (path, query) == (f"/api/v1/orders/{ORDER_ID}", "")
    endpoint = path + (f"?{query}" if query else "")
    assert got["kc-api-key"] == key
    assert got["kc-api-key-version"] == "2"
    assert got["kc-api-timestamp"].isdigit() and len(got["kc-api-timestamp"]) == 13  # milliseconds
    assert got["kc-api-passphrase"] == _kucoin_hmac(secret, passphrase)
    assert got["kc-api-sign"] == _kucoin_hmac(secret, got["kc-api-timestamp"] + "DELETE" + endpoint + raw.decode())
    assert got["content-type"] == "application/json" and got.get("user-agent")
    assert not any(name.startswith("kc-api-partner") for name in got)  # no broker headers
    assert secret not in str(got) and passphrase not in str(got)
