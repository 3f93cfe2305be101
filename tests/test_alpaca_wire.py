"""What an Alpaca-compatible server receives from ordergate: exactly Alpaca's documented auth headers, one request
per cancel, nothing in the body. A plain recording server, not the simulator, so nothing is inferred."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

ORDER_ID = "61e69015-8549-4bfd-b9c3-01e75843f47d"
KEY_HEADERS = {"apca-api-key-id", "apca-api-secret-key"}


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def record(request: Request) -> Response:
            self.seen.append((request.method, request.url.path, dict(request.headers), await request.body()))
            if request.method == "DELETE":
                return Response(status_code=204)
            return JSONResponse({"id": "904837e3-3b76-47ec-b432-046db621571b", "account_number": "PA3717PJAYCF"})

        self.app = Starlette(
            routes=[
                Route("/v2/orders/{order_id}", record, methods=["DELETE"]),
                Route("/v2/account", record, methods=["GET"]),
            ]
        )


@pytest.mark.parametrize("kind", ["key", "oauth"])
async def test_cancel_carries_exactly_the_documented_auth_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    recorder = Recorder()
    key, secret = (
        ("PKW1Z6QJ3M8N2B5V7C9X", "wJ4k9Tq2Lx7Rz1Mv5Np8Bc3Hd6Gf0Sa2Ye4Ui7Ok")
        if kind == "key"
        else ("oauth", "79500537-5796-4230-9661-7f7108877c60")
    )
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_ALPACA", url)
        assert Settings().base_urls[IntegrationType.alpaca] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            extras = {"auth": kind}
            creds = Credentials(IntegrationType.alpaca, key, secret, extras=extras)
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            resp = await gw.cancel(headers, authToken=token, type="alpaca", id=ORDER_ID, isCryptocurrency=False)

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1  # one upstream request, no lookup after the 204
    method, path, got, body = recorder.seen[0]
    assert (method, path, body) == ("DELETE", f"/v2/orders/{ORDER_ID}", b"")
    if kind == "key":
        assert (got["apca-api-key-id"], got["apca-api-secret-key"]) == (key, secret)
        assert "authorization" not in got
    else:
        assert got["authorization"] == f"Bearer {secret}"
        assert not KEY_HEADERS & set(got)
    assert got.get("user-agent")


async def test_authenticate_is_one_get_account_with_the_key_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_ALPACA", url)
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            body = {"type": "alpaca", "username": "PKW1Z6QJ3M8N2B5V7C9X", "password": "s3cr3t-s3cr3t"}
            resp = await gw.http.post("/api/v1/authenticate", json=body, headers=headers, params={"userId": "u"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"]["accountTokens"][0]["account"]["accountId"] == "PA3717PJAYCF"
    assert [(m, p) for m, p, _, _ in recorder.seen] == [("GET", "/v2/account")]
    got = recorder.seen[0][2]
    assert (got["apca-api-key-id"], got["apca-api-secret-key"]) == ("PKW1Z6QJ3M8N2B5V7C9X", "s3cr3t-s3cr3t")
