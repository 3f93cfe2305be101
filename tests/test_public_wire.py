"""What a Public-compatible server receives from ordergate, checked against Public's published recipe re-stated here
independently: the API secret goes once, in the JSON body of POST /userapiauthservice/personal/access-tokens (no
Authorization header); every other call carries `Authorization: Bearer <accessToken>` and nothing else secret; a
cancel is one DELETE with an empty body. A plain recording server, not the simulator, so nothing is inferred."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

SECRET = "pub-secret-7f3a9c1e5b2d4f6a8c0e"
ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl"
ACCOUNTS = ["5OP00001", "5OP00002"]
ORDER_ID = "0d2abd8d-3625-4c83-a806-98abf35567cc"


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def record(request: Request) -> Response:
            body = await request.body()
            self.seen.append((request.method, request.url.path, dict(request.headers), body))
            if request.url.path.endswith("/access-tokens"):
                return JSONResponse({"accessToken": ACCESS_TOKEN})
            if request.method == "DELETE":
                return Response(status_code=200)
            return JSONResponse({"accounts": [{"accountId": a, "accountType": "BROKERAGE"} for a in ACCOUNTS]})

        self.app = Starlette(
            routes=[
                Route("/userapiauthservice/personal/access-tokens", record, methods=["POST"]),
                Route("/userapigateway/trading/account", record, methods=["GET"]),
                Route("/userapigateway/trading/{account}/order/{order}", record, methods=["DELETE"]),
            ]
        )


async def test_connect_then_cancel_follow_publics_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_PUBLIC", url)
        assert Settings().base_urls[IntegrationType.public] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            body = {"type": "public", "password": SECRET}
            auth = await gw.http.post("/api/v1/authenticate", json=body, headers=headers, params={"userId": "u"})
            assert auth.status_code == 200, auth.text
            tokens = auth.json()["content"]["accountTokens"]
            assert [t["account"]["accountId"] for t in tokens] == ACCOUNTS
            assert SECRET not in auth.text and ACCESS_TOKEN not in auth.text
            connect_requests = len(recorder.seen)
            resp = await gw.cancel(
                headers, authToken=tokens[1]["accessToken"], type="public", id=ORDER_ID, isCryptocurrency=False
            )

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    (exchange, listing), cancels = recorder.seen[:connect_requests], recorder.seen[connect_requests:]

    method, path, got, raw = exchange
    assert (method, path) == ("POST", "/userapiauthservice/personal/access-tokens")
    assert got["content-type"].startswith("application/json") and "authorization" not in got
    sent = json.loads(raw)
    assert sent == {"secret": SECRET, "validityInMinutes": sent["validityInMinutes"]}
    assert isinstance(sent["validityInMinutes"], int) and 5 <= sent["validityInMinutes"] <= 1440  # spec bounds

    assert listing[:2] == ("GET", "/userapigateway/trading/account")
    assert listing[2]["authorization"] == f"Bearer {ACCESS_TOKEN}"

    assert len(cancels) == 1  # the token from /authenticate is reused: one request per cancel
    method, path, got, raw = cancels[0]
    assert (method, path, raw) == ("DELETE", f"/userapigateway/trading/{ACCOUNTS[1]}/order/{ORDER_ID}", b"")
    assert got["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert all(SECRET not in json.dumps(h) for _, _, h, _ in recorder.seen)  # the secret only ever in one body
