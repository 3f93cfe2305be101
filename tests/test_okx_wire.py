"""What an OKX-compatible server receives from ordergate, checked with an independent re-implementation of OKX's
published signing recipe (not ordergate's own signing code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
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

ORD_ID = "590908157585625111"


def _okx_sign(prehash: str, secret: str) -> str:
    """OKX docs: Base64(HMAC-SHA256(SecretKey, timestamp + method + requestPath + body))."""
    return base64.b64encode(hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            body = await request.body()
            self.seen.append((request.method, request.url.path, dict(request.headers), body))
            item = {"clOrdId": "", "ordId": ORD_ID, "ts": "1695190491421", "sCode": "0", "sMsg": ""}
            return JSONResponse({"code": "0", "msg": "", "data": [item], "inTime": "1", "outTime": "2"})

        self.app = Starlette(routes=[Route("/api/v5/trade/cancel-order", endpoint, methods=["POST"])])


@pytest.mark.parametrize("integration", [IntegrationType.okx, IntegrationType.okCoin])
@pytest.mark.parametrize("testnet", [False, True])
async def test_cancel_request_is_signed_per_okx_recipe(
    tmp_path: Path, kraken, monkeypatch: pytest.MonkeyPatch, integration: IntegrationType, testnet: bool
) -> None:
    recorder = Recorder()
    key, secret, passphrase = (
        "key-" + secrets.token_hex(4),
        secrets.token_hex(16).upper(),
        "pass-" + secrets.token_hex(3),
    )
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        monkeypatch.setenv("ORDERGATE_TESTNET", "true" if testnet else "false")
        assert Settings().base_urls[integration] == url  # the documented variable is what is read
        sim, _ = kraken
        async with gateway_harness(tmp_path, sim, url, base_urls=Settings().base_urls) as gw:
            assert gw.gateway.settings.testnet is testnet
            headers = await gw.client()
            token = gw.gateway.sealer.seal(
                headers["X-Client-Id"], Credentials(integration, key, secret, passphrase=passphrase)
            )
            body = {
                "authToken": token,
                "type": integration.value,
                "id": ORD_ID,
                "isCryptocurrency": True,
                "symbolPair": "BTC/USDT",
            }
            resp = await gw.cancel(headers, **body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORD_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1  # one upstream request, no preloading
    method, path, got, raw = recorder.seen[0]
    assert (method, path) == ("POST", "/api/v5/trade/cancel-order")
    assert json.loads(raw) == {"instId": "BTC-USDT", "ordId": ORD_ID}
    assert got["content-type"] == "application/json"
    assert (got["ok-access-key"], got["ok-access-passphrase"]) == (key, passphrase)
    ts = got["ok-access-timestamp"]
    sent = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert len(ts) == 24 and abs((datetime.now(UTC) - sent).total_seconds()) < 30
    assert got["ok-access-sign"] == _okx_sign(ts + "POST" + path + raw.decode(), secret)
    assert got.get("x-simulated-trading") == ("1" if testnet else None)
    assert secret not in raw.decode() and secret not in str(got)
