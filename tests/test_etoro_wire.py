"""What an eToro-compatible server receives from ordergate, checked against an independent reading of eToro's
published recipe (api-portal.etoro.com: `x-api-key`, `x-user-key` and an `x-request-id` UUID on every request, the
demo environment as a `/demo` path segment, the v2 cancel `DELETE /api/v2/trading/execution[/demo]/orders/{orderId}`,
the order info `GET /api/v1/trading/info/{demo,real}/orders/{orderId}`), not ordergate's own header code."""

from __future__ import annotations

import secrets
import uuid
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
    """Records every request and answers as eToro does for a pending order and its cancel."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            seen = (request.method, request.url.path, request.url.query, dict(request.headers), await request.body())
            self.seen.append(seen)
            if request.method == "DELETE":
                return JSONResponse({"token": str(uuid.uuid4())})
            oid = int(request.path_params["order_id"])
            info = {"token": str(uuid.uuid4()), "orderID": oid, "CID": 1, "statusID": 0, "orderType": 2}
            return JSONResponse({**info, "instrumentID": 1001, "amount": 100.0, "units": 1.0, "positions": []})

        self.app = Starlette(
            routes=[
                Route("/api/v2/trading/execution/demo/orders/{order_id}", endpoint, methods=["DELETE"]),
                Route("/api/v2/trading/execution/orders/{order_id}", endpoint, methods=["DELETE"]),
                Route("/api/v1/trading/info/{env}/orders/{order_id}", endpoint, methods=["GET"]),
            ]
        )


@pytest.mark.parametrize("env", ["demo", "real"])
async def test_cancel_requests_follow_etoros_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    integration = IntegrationType.etoro
    recorder = Recorder()
    app_key, user_key = secrets.token_urlsafe(40), secrets.token_urlsafe(160)
    ids = ["13902598", "9223372036854775807"]
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.seal(headers, app_key, user_key, integration, environment=env)
            answers = [
                await gw.cancel(headers, authToken=token, type=integration.value, id=oid, isCryptocurrency=False)
                for oid in ids
            ]

    for oid, resp in zip(ids, answers, strict=True):
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == {"orderId": oid, "status": "inProgress"}
    assert len(recorder.seen) == 3 * len(ids)  # the order's info, the cancel, the order's info again
    segment = "/demo" if env == "demo" else ""
    request_ids = set()
    for i, oid in enumerate(ids):
        for (method, path, query, got, raw), expected in zip(
            recorder.seen[3 * i : 3 * i + 3],
            [
                ("GET", f"/api/v1/trading/info/{env}/orders/{oid}"),
                ("DELETE", f"/api/v2/trading/execution{segment}/orders/{oid}"),
                ("GET", f"/api/v1/trading/info/{env}/orders/{oid}"),
            ],
            strict=True,
        ):
            assert (method, path, query, raw) == (*expected, "", b"")
            assert (got["x-api-key"], got["x-user-key"]) == (app_key, user_key)
            assert uuid.UUID(got["x-request-id"]).version == 4
            assert "authorization" not in got
            request_ids.add(got["x-request-id"])
    assert len(request_ids) == len(recorder.seen)  # a fresh x-request-id per request: eToro keys idempotency on it
