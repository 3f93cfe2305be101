"""What a BtcTurk-compatible server receives from ordergate, checked with an independent re-implementation of
BtcTurk's published recipe (docs.btcturk.com "Authentication V1": X-Signature = base64 HMAC-SHA256 of API key +
stamp, keyed with the base64-decoded private key), not ordergate's own signing code."""

from __future__ import annotations

import base64
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


class Recorder:
    """Records every request and answers as BtcTurk does when it receives a cancel."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            seen = (request.method, request.url.path, request.url.query, dict(request.headers), await request.body())
            self.seen.append(seen)
            return JSONResponse({"success": True, "message": "SUCCESS", "code": 0})

        self.app = Starlette(routes=[Route("/api/v1/order", endpoint, methods=["DELETE"])])


async def test_cancel_requests_follow_btcturk_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    integration = IntegrationType.btcTurkDirect
    recorder = Recorder()
    key, secret = secrets.token_hex(16), base64.b64encode(secrets.token_bytes(24)).decode()
    ids = ["2605984008", "61912740"]
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.seal(headers, key, secret, integration)
            answers = [
                await gw.cancel(headers, authToken=token, type=integration.value, id=oid, isCryptocurrency=True)
                for oid in ids
            ]

    for oid, resp in zip(ids, answers, strict=True):
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == {"orderId": oid, "status": "inProgress"}
    assert len(recorder.seen) == len(ids)  # one upstream request per cancel
    for oid, (method, path, query, got, raw) in zip(ids, recorder.seen, strict=True):
        assert (method, path, query, raw) == ("DELETE", "/api/v1/order", f"id={oid}", b"")
        stamp = got["x-stamp"]
        assert got["x-pck"] == key and stamp.isdigit() and abs(int(stamp) - time.time() * 1000) < 5_000
        digest = hmac.new(base64.b64decode(secret), (key + stamp).encode(), hashlib.sha256).digest()
        assert got["x-signature"] == base64.b64encode(digest).decode()
        assert secret not in str(got)
