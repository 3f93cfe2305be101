"""What a CEX.IO-compatible server receives from ordergate, checked with an independent re-implementation of
CEX.IO's published recipe (not ordergate's signing code), and connecting an account end to end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
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
from ordergate.venues.cex_io.simulator import CexIoSimulator
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
ORDER = {"orderId": "2284074", "clientOrderId": "1575459943138", "clientId": "up1", "accountId": "sub1",
         "status": "NEW", "statusIsFinal": False, "currency1": "BTC", "currency2": "USD", "side": "SELL",
         "orderType": "Limit", "timeInForce": "GTC", "requestedAmountCcy1": "0.00100000", "executedAmountCcy1": None,
         "price": "12000.0", "serverCreateTimestamp": 1575459943138, "lastUpdateTimestamp": 1575459943138}  # fmt: skip


def _cex_signature(action: str, timestamp: str, body: bytes, secret: str) -> str:
    """CEX.IO's docs example: createHmac('sha256', apiSecret).update(action + timestamp + body).digest('base64')."""
    return base64.b64encode(
        hmac.new(secret.encode(), action.encode() + timestamp.encode() + body, hashlib.sha256).digest()
    ).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            action = request.path_params["action"]
            self.seen.append((action, dict(request.headers), await request.body()))
            return JSONResponse({"ok": "ok", "data": [ORDER] if action == "get_my_orders" else {}})

        self.app = Starlette(routes=[Route("/api/spot/rest/{action}", endpoint, methods=["POST"])])


async def test_cancel_requests_are_signed_per_cex_recipe(
    tmp_path: Path, kraken, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    key, secret = base64.b64encode(secrets.token_bytes(24)).decode(), base64.b64encode(secrets.token_bytes(24)).decode()
    with serve_asgi(recorder.app) as url:
        base = url + "/api/spot/rest"  # the production URL's path, kept: actions are appended to it
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{IntegrationType.cexIo.env_name}", base)
        assert Settings().base_urls[IntegrationType.cexIo] == base  # the documented variable is what is read
        sim, _ = kraken
        async with gateway_harness(tmp_path, sim, url, base_urls=Settings().base_urls) as gw:
            headers = await gw.client()
            token = gw.seal(headers, key, secret, IntegrationType.cexIo)
            body = {"authToken": token, "type": "cexIo", "id": "2284074", "isCryptocurrency": True}
            started = int(time.time())
            resp = await gw.cancel(headers, **body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": "2284074", "status": "inProgress"}  # the order still shows NEW
    assert [action for action, _, _ in recorder.seen] == ["do_cancel_my_order", "get_my_orders"]  # no preloading
    for action, got, raw in recorder.seen:
        assert got["content-type"] == "application/json" and got["x-aggr-key"] == key
        assert abs(int(got["x-aggr-timestamp"]) - started) <= 5  # unix seconds
        assert got["x-aggr-signature"] == _cex_signature(action, got["x-aggr-timestamp"], raw, secret)
        assert secret not in str(got) and secret not in raw.decode()
    assert json.loads(recorder.seen[1][2]) == {"orderId": 2284074}
    cancel = json.loads(recorder.seen[0][2])
    assert set(cancel) == {"orderId", "cancelRequestId", "timestamp"}
    assert cancel["orderId"] == 2284074 and isinstance(cancel["cancelRequestId"], str)
    assert abs(cancel["timestamp"] / 1000 - started) <= 5  # milliseconds


async def test_connect_cancel_and_details_end_to_end(tmp_path: Path) -> None:
    sim = CexIoSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.cexIo: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            auth = {"type": "cexIo", "username": account.api_key, "password": account.secret}
            resp = await gw.http.post(AUTH, json=auth, headers=headers, params={"userId": "user-1"})
            assert resp.status_code == 200, resp.text
            content = resp.json()["content"]
            assert content["status"] == "succeeded"
            assert content["accountTokens"][0]["account"]["accountId"].startswith("cexio-")
            assert account.api_key not in resp.text and account.secret not in resp.text

            wrong = {**auth, "password": base64.b64encode(b"not the secret").decode()}
            refused = await gw.http.post(AUTH, json=wrong, headers=headers, params={"userId": "user-1"})
            assert refused.status_code == 401 and refused.json()["errorType"] == "institutionAuthFailed"

            token = content["accountTokens"][0]["accessToken"]
            order_id, _ = sim.place(account, volume="2")
            sim.fill(order_id, "0.5")
            body = {"authToken": token, "type": "cexIo", "id": order_id, "isCryptocurrency": True}
            details = await gw.http.post(DETAILS, json=body, headers=headers)
            assert details.status_code == 200, details.text
            shown = details.json()["content"]
            assert (shown["status"], shown["amount"]) == ("partiallyFilled", 0.5)
            before = sim.count_key(account.api_key)
            cancel = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
            assert cancel.status_code == 200, cancel.text
            assert cancel.json()["content"] == {"orderId": order_id, "status": "cancelled"}
            assert sim.count_key(account.api_key) == before + 2  # the cancel, then the lookup
            assert sim.status(order_id).value == "cancelled"
            after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
            assert (after["status"], after["amount"]) == ("cancelled", 0.5)
