"""What a Gemini-compatible server receives from ordergate, checked with an independent re-implementation of
Gemini's published recipe (not ordergate's signing code), and connecting an account end to end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from ordergate.venues.gemini.simulator import GeminiSimulator
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"


def _gemini_signature(payload_b64: str, secret: str) -> str:
    """Gemini's docs: hex(HMAC_SHA384(base64(payload), key=api_secret))."""
    return hmac.new(secret.encode(), payload_b64.encode(), hashlib.sha384).hexdigest()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            self.seen.append((request.url.path, dict(request.headers), await request.body()))
            return JSONResponse({"order_id": "106817811", "id": "106817811", "is_live": False, "is_cancelled": True,
                                 "reason": "Requested", "executed_amount": "0", "original_amount": "1"})  # fmt: skip

        self.app = Starlette(routes=[Route("/v1/order/cancel", endpoint, methods=["POST"])])


async def test_cancel_request_is_signed_per_geminis_recipe(
    tmp_path: Path, kraken, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    key, secret = "account-" + secrets.token_hex(10), secrets.token_urlsafe(21)
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{IntegrationType.gemini.env_name}", url)
        assert Settings().base_urls[IntegrationType.gemini] == url  # the documented variable is what is read
        sim, _ = kraken
        async with gateway_harness(tmp_path, sim, url, base_urls=Settings().base_urls) as gw:
            headers = await gw.client()
            token = gw.seal(headers, key, secret, IntegrationType.gemini, nonce="session")
            body = {"authToken": token, "type": "gemini", "id": "106817811", "isCryptocurrency": True}
            resp = await gw.cancel(headers, **body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": "106817811", "status": "cancelled"}
    assert len(recorder.seen) == 1  # one upstream request, no preloading
    path, got, raw = recorder.seen[0]
    assert path == "/v1/order/cancel" and raw == b""  # the payload travels in the header only
    assert got["content-type"] == "text/plain" and got["x-gemini-apikey"] == key
    assert got["x-gemini-signature"] == _gemini_signature(got["x-gemini-payload"], secret)
    payload = json.loads(base64.b64decode(got["x-gemini-payload"]))
    assert set(payload) == {"request", "nonce", "order_id"}
    assert (payload["request"], payload["order_id"]) == ("/v1/order/cancel", 106817811)
    assert isinstance(payload["nonce"], str) and payload["nonce"].isdigit()
    assert secret not in str(got)


@pytest.mark.parametrize("nonce_kind", ["session", "time"])
async def test_connect_cancel_and_details_end_to_end(tmp_path: Path, nonce_kind: str) -> None:
    sim = GeminiSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.gemini: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account(nonce_kind=nonce_kind)
            auth = {"type": "gemini", "username": account.api_key, "password": account.secret}
            resp = await gw.http.post(AUTH, json=auth, headers=headers, params={"userId": "user-1"})
            assert resp.status_code == 200, resp.text
            content = resp.json()["content"]
            assert content["status"] == "succeeded"
            assert content["accountTokens"][0]["account"]["accountId"].startswith("gemini-")
            assert account.api_key not in resp.text and account.secret not in resp.text

            token = content["accountTokens"][0]["accessToken"]
            order_id, _ = sim.place(account, volume="2")
            sim.fill(order_id, "0.5")
            body = {"authToken": token, "type": "gemini", "id": order_id, "isCryptocurrency": True}
            details = await gw.http.post(DETAILS, json=body, headers=headers)
            assert details.status_code == 200, details.text
            shown = details.json()["content"]
            assert (shown["status"], shown["amount"]) == ("partiallyFilled", 0.5)
            before = sim.count_key(account.api_key)
            cancel = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
            assert cancel.status_code == 200, cancel.text
            assert cancel.json()["content"] == {"orderId": order_id, "status": "cancelled"}
            assert sim.count_key(account.api_key) == before + 1
            assert sim.status(order_id).value == "cancelled"
