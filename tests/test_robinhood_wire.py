"""What a Robinhood Crypto Trading API-compatible server receives from ordergate, checked with an independent
re-implementation of the published recipe (docs.robinhood.com/crypto/trading "API Signature": Ed25519 over
f"{api_key}{timestamp}{path}{method}{body}", verified here with PyNaCl against the public key only), not
ordergate's own signing code."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import nacl.signing
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi


class Recorder:
    """Records every request and answers as Robinhood does when it accepts a cancel."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> PlainTextResponse:
            seen = (request.method, request.url.path, request.url.query, dict(request.headers), await request.body())
            self.seen.append(seen)
            return PlainTextResponse(f"Cancel request was submitted for order {request.path_params['id']}")

        self.app = Starlette(routes=[Route("/api/v1/crypto/trading/orders/{id}/cancel/", endpoint, methods=["POST"])])


async def test_cancel_requests_follow_robinhoods_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    integration = IntegrationType.robinhood
    recorder = Recorder()
    signing = nacl.signing.SigningKey.generate()
    key, seed = "rh-api-6148effc-c0b1-486c-8940-a1d099456be6", base64.b64encode(bytes(signing)).decode()
    ids = ["497f6eca-6276-4993-bfeb-53cbbbba6f08", "cc9c89d6-dea4-4dab-8354-0994e1cd080a"]
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.seal(headers, key, seed, integration)
            answers = [
                await gw.cancel(headers, authToken=token, type=integration.value, id=oid, isCryptocurrency=True)
                for oid in ids
            ]

    for oid, resp in zip(ids, answers, strict=True):
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == {"orderId": oid, "status": "inProgress"}
    assert len(recorder.seen) == len(ids)  # one upstream request per cancel
    verify = signing.verify_key
    for oid, (method, path, query, got, raw) in zip(ids, recorder.seen, strict=True):
        assert (method, path, query, raw) == ("POST", f"/api/v1/crypto/trading/orders/{oid}/cancel/", "", b"")
        stamp = got["x-timestamp"]
        assert got["x-api-key"] == key and stamp.isdigit() and abs(int(stamp) - time.time()) < 30
        verify.verify(f"{key}{stamp}{path}{method}".encode(), base64.b64decode(got["x-signature"]))
        assert seed not in str(got)
