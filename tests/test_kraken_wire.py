"""What a Kraken-compatible server receives from ordergate, checked with an independent re-implementation of
Kraken's published signing recipe (not ordergate's own signing code)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
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


def _kraken_sign(path: str, body: bytes, nonce: str, secret_b64: str) -> str:
    """Kraken's docs: HMAC-SHA512 of (URI path + SHA256(nonce + POST data)) and base64-decoded secret key."""
    message = path.encode() + hashlib.sha256(nonce.encode() + body).digest()
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), message, hashlib.sha512).digest()).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            self.seen.append((request.url.path, dict(request.headers), await request.body()))
            return JSONResponse({"error": [], "result": {"count": 1}})

        self.app = Starlette(routes=[Route("/0/private/{method}", endpoint, methods=["POST"])])


@pytest.mark.parametrize("integration", [IntegrationType.kraken, IntegrationType.krakenDirect])
@pytest.mark.parametrize("mfa", [None, "654321"])
async def test_cancel_request_is_signed_per_kraken_recipe(
    tmp_path: Path, kraken, monkeypatch: pytest.MonkeyPatch, integration: IntegrationType, mfa: str | None
) -> None:
    recorder = Recorder()
    key = "key-" + secrets.token_hex(4)
    secret = base64.b64encode(secrets.token_bytes(64)).decode()
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url  # the documented variable is what is read
        sim, _ = kraken
        async with gateway_harness(tmp_path, sim, url, base_urls=Settings().base_urls) as gw:
            headers = await gw.client()
            token = gw.seal(headers, key, secret, integration)
            body = {
                "authToken": token,
                "type": integration.value,
                "id": "OQCLML-BW3P3-BUCMWZ",
                "isCryptocurrency": True,
            }
            if mfa:
                body["mfaCode"] = mfa
            resp = await gw.cancel(headers, **body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": "OQCLML-BW3P3-BUCMWZ", "status": "cancelled"}
    assert len(recorder.seen) == 1  # one upstream request, no preloading
    path, got_headers, raw = recorder.seen[0]
    assert path == "/0/private/CancelOrder"
    assert got_headers["content-type"] == "application/x-www-form-urlencoded"
    assert got_headers["api-key"] == key
    assert got_headers.get("user-agent")
    form = dict(urllib.parse.parse_qsl(raw.decode(), strict_parsing=True))
    assert form["txid"] == "OQCLML-BW3P3-BUCMWZ"
    assert form["nonce"].isdigit()
    assert form.get("otp") == mfa
    assert set(form) == {"nonce", "txid"} | ({"otp"} if mfa else set())
    assert got_headers["api-sign"] == _kraken_sign(path, raw, form["nonce"], secret)
    assert secret not in raw.decode() and secret not in str(got_headers)
