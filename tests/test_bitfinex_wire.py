"""What a Bitfinex-compatible server receives from ordergate, checked with an independent re-implementation of
Bitfinex's published signing recipe (docs.bitfinex.com "Authentication": HMAC-SHA384 of "/api/" + path + nonce +
body, hex), not ordergate's own signing code."""

from __future__ import annotations

import hashlib
import hmac
import itertools
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

_ALNUM = string.ascii_letters + string.digits


def _bitfinex_sign(secret: str, path: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), f"/api{path}{nonce}".encode() + body, hashlib.sha384).hexdigest()


class Recorder:
    """Records every request and answers as Bitfinex does when it accepts a cancel."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            raw = await request.body()
            self.seen.append((request.url.path, dict(request.headers), raw))
            order = [json.loads(raw)["id"], None, None, "tBTCUSD", 1, 1, 0.5, 0.5, "EXCHANGE LIMIT", None, None,
                     None, 0, "ACTIVE", None, None, 25000, 0, 0, 0, None, None, None, 0, 0, None, None, None,
                     "API>BFX", None, None, {}]  # fmt: skip
            text = f"Submitted for cancellation; waiting for confirmation (ID: {order[0]})."
            return JSONResponse([int(time.time() * 1000), "oc-req", None, None, order, None, "SUCCESS", text])

        self.app = Starlette(routes=[Route("/v2/auth/w/order/cancel", endpoint, methods=["POST"])])


@pytest.mark.parametrize("integration", [IntegrationType.bitfinex, IntegrationType.bitfinexDirect])
async def test_cancel_requests_are_signed_per_bitfinex_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, integration: IntegrationType
) -> None:
    recorder = Recorder()
    key = "".join(secrets.choice(_ALNUM) for _ in range(43))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(43))
    ids = ["139658969116", "139658969117", "139658969118"]
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
        assert resp.json()["content"] == {"orderId": oid, "status": "inProgress"}
    assert len(recorder.seen) == len(ids)  # one upstream request per cancel
    nonces = []
    for oid, (path, got, raw) in zip(ids, recorder.seen, strict=True):
        assert path == "/v2/auth/w/order/cancel"
        assert got["content-type"] == "application/json" and got["bfx-apikey"] == key
        assert raw == b'{"id":' + oid.encode() + b"}"  # the id as a JSON number, nothing else
        nonce = got["bfx-nonce"]
        assert nonce.isdigit() and abs(int(nonce) - time.time() * 1_000_000) < 60_000_000  # microseconds, now
        assert got["bfx-signature"] == _bitfinex_sign(secret, path, nonce, raw)
        assert secret not in raw.decode() and secret not in str(got)
        nonces.append(int(nonce))
    assert all(a < b for a, b in itertools.pairwise(nonces))
