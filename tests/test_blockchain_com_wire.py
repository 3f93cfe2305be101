"""What a Blockchain.com-compatible server receives from ordergate, checked against Blockchain.com's published
recipe as ccxt's blockchaincom sign() implements it (the API secret in the X-API-Token header, nothing signed), not
ordergate's own auth code."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi


class Recorder:
    """Records every request and answers as Blockchain.com does when it takes a cancel: 200, no body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> Response:
            seen = (request.method, request.url.path, request.url.query, dict(request.headers), await request.body())
            self.seen.append(seen)
            return Response(b"", status_code=200)

        self.app = Starlette(routes=[Route("/orders/{orderId}", endpoint, methods=["DELETE"])])


async def test_cancel_requests_follow_blockchain_com_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    integration = IntegrationType.blockchainCom
    recorder = Recorder()
    label, token = "desk-1", secrets.token_hex(32)
    ids = ["281775861306290", "11111111"]
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            sealed = gw.seal(headers, label, token, integration)
            answers = [
                await gw.cancel(headers, authToken=sealed, type=integration.value, id=oid, isCryptocurrency=True)
                for oid in ids
            ]

    for oid, resp in zip(ids, answers, strict=True):
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == {"orderId": oid, "status": "inProgress"}
    assert len(recorder.seen) == len(ids)  # one upstream request per cancel
    for oid, (method, path, query, got, raw) in zip(ids, recorder.seen, strict=True):
        assert (method, path, query, raw) == ("DELETE", f"/orders/{oid}", "", b"")
        assert got["x-api-token"] == token
        assert label not in str(got)  # the label is ordergate's, never sent
