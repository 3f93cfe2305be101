"""What a CoinList-compatible server receives from ordergate, checked with an independent re-implementation of the
published recipe (not ordergate's signing code), and an account connected, looked up and cancelled end to end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.settings import Settings
from ordergate.venues.coinlist.simulator import CoinlistSimulator
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
ORDER_ID = "d36e7588-6525-485c-b768-8ad8b3f745f9"


def _coinlist_sign(stamp: str, method: str, path_and_query: str, body: bytes, secret_b64: str) -> str:
    """The recipe: base64(HMAC-SHA256(base64-decoded secret, timestamp + METHOD + path (+ "?query") + body))."""
    prehash = (stamp + method + path_and_query).encode() + body
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), prehash, hashlib.sha256).digest()).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            self.seen.append(
                (request.method, request.url.path, request.url.query, dict(request.headers), await request.body())
            )
            ack = {"message": "Cancel order request received.", "order_id": request.path_params["order_id"],
                   "timestamp": "2023-10-26T14:36:37.559Z"}  # fmt: skip
            return JSONResponse(ack, status_code=202)

        self.app = Starlette(routes=[Route("/v1/orders/{order_id}", endpoint, methods=["DELETE"])])


async def test_cancel_request_is_signed_per_the_coinlist_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    key, secret = str(uuid.uuid4()), base64.b64encode(secrets.token_bytes(32)).decode()
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_COINLIST", url)
        assert Settings().base_urls[IntegrationType.coinlist] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], Credentials(IntegrationType.coinlist, key, secret))
            before = int(time.time())
            resp = await gw.cancel(headers, authToken=token, type="coinlist", id=ORDER_ID, isCryptocurrency=True)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1  # one upstream request, no preloading
    method, path, query, got, raw = recorder.seen[0]
    assert (method, path, query, raw) == ("DELETE", f"/v1/orders/{ORDER_ID}", "", b"")
    stamp = got["cl-access-timestamp"]
    assert stamp.isdigit() and abs(int(stamp) - before) <= 5  # whole seconds
    assert got["cl-access-key"] == key
    assert got["cl-access-sig"] == _coinlist_sign(stamp, "DELETE", path, raw, secret)
    assert secret not in json.dumps(got)


async def test_connect_look_up_and_cancel_with_the_returned_token(tmp_path: Path) -> None:
    sim = CoinlistSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.coinlist: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            resp = await gw.http.post(
                AUTH,
                json={"type": "coinlist", "username": account.api_key, "password": account.secret},
                headers=headers,
                params={"userId": "u-1"},
            )
            assert resp.status_code == 200, resp.text
            content = resp.json()["content"]
            assert content["status"] == "succeeded"
            assert account.api_key not in resp.text and account.secret not in resp.text
            token = content["accountTokens"][0]["accessToken"]
            order_id, extra = sim.place(account, volume="2", price="25000")
            assert content["accountTokens"][0]["account"]["accountId"] == sim.describe(order_id)["trader_id"]
            assert sim.count(account.api_key, "GetAccounts") == 1 and sim.count_key(account.api_key) == 1

            sim.fill(order_id, "0.5")
            body = {"authToken": token, "type": "coinlist", "id": order_id, "isCryptocurrency": True, **extra}
            details = await gw.http.post(DETAILS, json=body, headers=headers)
            assert details.status_code == 200, details.text
            order = details.json()["content"]
            assert (order["status"], order["statusDetails"], order["side"], order["symbol"]) == (
                "partiallyFilled",
                "accepted",
                "buy",
                "BTC",
            )
            assert (order["paymentSymbol"], order["price"], order["amount"]) == ("USDT", 25000.0, 0.5)

            answer = await gw.cancel(headers, **body)
            assert answer.json()["content"] == {"orderId": order_id, "status": "inProgress"}
            after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
            assert (after["status"], after["statusDetails"], after["amount"]) == ("cancelled", "canceled", 0.5)


async def test_rejected_credentials_at_authenticate(tmp_path: Path) -> None:
    sim = CoinlistSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.coinlist: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            wrong_secret = base64.b64encode(secrets.token_bytes(32)).decode()
            resp = await gw.http.post(
                AUTH,
                json={"type": "coinlist", "username": account.api_key, "password": wrong_secret},
                headers=headers,
                params={"userId": "u-1"},
            )
    assert resp.status_code == 401 and resp.json()["errorType"] == "institutionAuthFailed"
    assert resp.json()["content"] is None and wrong_secret not in resp.text


async def test_a_retry_after_header_from_coinlist_is_passed_on(tmp_path: Path) -> None:
    # None is documented, so without one the gateway says 1 s; a header, if CoinList sends one, wins.
    async def limited(_request: Request) -> JSONResponse:
        return JSONResponse(
            {"status": 429, "message": "Too Many Requests"}, status_code=429, headers={"Retry-After": "7"}
        )

    app = Starlette(routes=[Route("/v1/orders/{order_id}", limited, methods=["DELETE"])])
    with serve_asgi(app) as url:
        async with gateway_harness(tmp_path, None, url, base_urls={IntegrationType.coinlist: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            creds = Credentials(IntegrationType.coinlist, str(uuid.uuid4()), base64.b64encode(b"s" * 32).decode())
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            resp = await gw.cancel(headers, authToken=token, type="coinlist", id=ORDER_ID, isCryptocurrency=True)
    assert (resp.status_code, resp.json()["errorType"], resp.headers["retry-after"]) == (429, "rateLimited", "7")
