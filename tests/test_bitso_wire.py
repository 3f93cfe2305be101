"""What a Bitso-compatible server receives from ordergate, checked with an independent re-implementation of Bitso's
published signing recipe (docs.bitso.com "Create Signed Requests": hex HMAC-SHA256 of nonce + HTTP method +
request path + JSON payload, sent as `Authorization: Bitso <key>:<nonce>:<signature>`), not ordergate's code."""

from __future__ import annotations

import hashlib
import hmac
import itertools
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

_ALNUM = string.ascii_letters + string.digits


def _bitso_signature(secret: str, nonce: str, method: str, path: str, body: bytes) -> str:
    return hmac.new(secret.encode(), (nonce + method + path).encode() + body, hashlib.sha256).hexdigest()


class Recorder:
    """Records every request and answers as Bitso does when it cancels the order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            self.seen.append((request.method, request.url.path, dict(request.headers), await request.body()))
            return JSONResponse({"success": True, "payload": [request.path_params["oid"]]})

        self.app = Starlette(routes=[Route("/api/v3/orders/{oid}", endpoint, methods=["DELETE"])])


async def test_cancel_requests_are_signed_per_bitso_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    integration = IntegrationType.bitsoDirect
    recorder = Recorder()
    key = "".join(secrets.choice(_ALNUM) for _ in range(10))
    secret = secrets.token_hex(16)
    ids = ["yWTQGxDMZ0VimZgZ", "cME2F7uZKJcMKXqU", "FwllxXRKvcgJmyFy"]
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.seal(headers, key, secret, integration)
            answers = [
                await gw.cancel(headers, authToken=token, type=integration.value, id=oid, isCryptocurrency=True)
                for oid in ids
            ]

    for oid, resp in zip(ids, answers, strict=True):
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == {"orderId": oid, "status": "cancelled"}
    assert len(recorder.seen) == len(ids)  # one upstream request per cancel
    nonces = []
    for oid, (method, path, got, raw) in zip(ids, recorder.seen, strict=True):
        assert (method, path, raw) == ("DELETE", f"/api/v3/orders/{oid}", b"")
        scheme, _, credentials = got["authorization"].partition(" ")
        got_key, nonce, signature = credentials.split(":")
        assert (scheme, got_key) == ("Bitso", key)
        assert nonce.isdigit() and abs(int(nonce) - time.time() * 1_000_000) < 60_000_000  # microseconds, now
        assert signature == _bitso_signature(secret, nonce, "DELETE", path, raw)
        assert secret not in str(got)
        nonces.append(int(nonce))
    assert all(a < b for a, b in itertools.pairwise(nonces))
