"""What a Coinbase Exchange-compatible server receives from ordergate, checked with an independent re-implementation
of Coinbase's published signing recipe (not ordergate's signing code), and connecting an account end to end."""

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
from ordergate.domain.orders import Credentials
from ordergate.settings import Settings
from ordergate.venues.coinbase_exchange.simulator import CoinbaseExchangeSimulator
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
ORDER_ID = "a9625b04-fc66-4999-a876-543c3684d702"


def _coinbase_sign(stamp: str, method: str, request_path: str, body: bytes, secret_b64: str) -> str:
    """Coinbase's docs: base64(HMAC-SHA256(base64-decoded secret, timestamp + method + requestPath + body))."""
    prehash = (stamp + method + request_path).encode() + body
    return base64.b64encode(hmac.new(base64.b64decode(secret_b64), prehash, hashlib.sha256).digest()).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            query = request.url.query
            self.seen.append((request.method, request.url.path, query, dict(request.headers), await request.body()))
            return JSONResponse(request.path_params["order_id"])  # Coinbase answers the cancelled id

        self.app = Starlette(routes=[Route("/orders/{order_id}", endpoint, methods=["DELETE"])])


@pytest.mark.parametrize(
    ("pair", "query"), [("BTC-USD", "product_id=BTC-USD"), ("eth/usd", "product_id=ETH-USD"), (None, "")]
)
async def test_cancel_request_is_signed_per_coinbase_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pair: str | None, query: str
) -> None:
    recorder = Recorder()
    key, passphrase = secrets.token_hex(16), "pass-" + secrets.token_hex(4)
    secret = base64.b64encode(secrets.token_bytes(64)).decode()
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_COINBASE_PRO", url)
        assert Settings().base_urls[IntegrationType.coinbasePro] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            creds = Credentials(IntegrationType.coinbasePro, key, secret, passphrase)
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            body = {"authToken": token, "type": "coinbasePro", "id": ORDER_ID, "isCryptocurrency": True}
            before = int(time.time())
            resp = await gw.cancel(headers, **body, **({"symbolPair": pair} if pair else {}))
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "cancelled"}
    assert len(recorder.seen) == 1  # one upstream request, no preloading
    method, path, got_query, got, raw = recorder.seen[0]
    assert (method, path, got_query, raw) == ("DELETE", f"/orders/{ORDER_ID}", query, b"")
    assert (got["cb-access-key"], got["cb-access-passphrase"]) == (key, passphrase)
    stamp = got["cb-access-timestamp"]
    assert stamp.isdigit() and abs(int(stamp) - before) <= 5
    request_path = path + (f"?{query}" if query else "")
    assert got["cb-access-sign"] == _coinbase_sign(stamp, "DELETE", request_path, raw, secret)
    assert "content-type" not in got and got.get("user-agent")
    assert secret not in json.dumps(got)


async def _authenticate(gw, headers: dict[str, str], **body: object):  # type: ignore[no-untyped-def]
    return await gw.http.post(AUTH, json={"type": "coinbasePro", **body}, headers=headers, params={"userId": "u-1"})


async def test_connect_then_cancel_with_the_returned_token(tmp_path: Path) -> None:
    sim = CoinbaseExchangeSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.coinbasePro: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            resp = await _authenticate(
                gw, headers, username=account.api_key, password=account.secret, authToken=account.passphrase
            )
            assert resp.status_code == 200, resp.text
            content = resp.json()["content"]
            assert content["status"] == "succeeded"
            token = content["accountTokens"][0]["accessToken"]
            for secret in (account.api_key, account.secret, account.passphrase):
                assert secret not in resp.text
            order_id, extra = sim.place(account)
            assert content["accountTokens"][0]["account"]["accountId"] == sim.describe(order_id)["profile_id"]
            opened = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.coinbasePro, token)
            assert opened.passphrase == account.passphrase  # kept in the token: every request needs it
            assert sim.count(account.api_key, "GetAccounts") == 1 and sim.count_key(account.api_key) == 1

            cancel = {"authToken": token, "type": "coinbasePro", "id": order_id, "isCryptocurrency": True, **extra}
            answer = await gw.cancel(headers, **cancel)
            assert answer.json()["content"] == {"orderId": order_id, "status": "cancelled"}


async def test_missing_passphrase_and_rejected_credentials(tmp_path: Path) -> None:
    sim = CoinbaseExchangeSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.coinbasePro: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            missing = await _authenticate(gw, headers, username=account.api_key, password=account.secret)
            assert missing.status_code == 400
            assert (missing.json()["errorType"], list(missing.json()["errorData"]["fields"])) == (
                "missingField",
                ["authToken"],
            )
            assert sim.count_key(account.api_key) == 0  # refused before any upstream call

            wrong = await _authenticate(
                gw, headers, username=account.api_key, password=account.secret, authToken="not-the-passphrase"
            )
            assert wrong.status_code == 401 and wrong.json()["errorType"] == "institutionAuthFailed"
            assert wrong.json()["content"] is None and account.passphrase not in wrong.text
            row = (await gw.gateway.audit.tail(1))[0]
            assert (row.endpoint, row.error_type, row.integration_type) == (
                "authenticate",
                "institutionAuthFailed",
                "coinbasePro",
            )


async def test_a_retry_after_header_from_coinbase_is_passed_on(tmp_path: Path) -> None:
    # None is documented, so without one the gateway says 1 s; a header, if Coinbase ever sends one, wins.
    async def limited(_request: Request) -> JSONResponse:
        return JSONResponse({"message": "Private rate limit exceeded"}, status_code=429, headers={"Retry-After": "7"})

    app = Starlette(routes=[Route("/orders/{order_id}", limited, methods=["DELETE"])])
    with serve_asgi(app) as url:
        async with gateway_harness(tmp_path, None, url, base_urls={IntegrationType.coinbasePro: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            creds = Credentials(IntegrationType.coinbasePro, "k" * 32, base64.b64encode(b"s" * 64).decode(), "pass")
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            resp = await gw.cancel(headers, authToken=token, type="coinbasePro", id=ORDER_ID, isCryptocurrency=True)
    assert (resp.status_code, resp.json()["errorType"], resp.headers["retry-after"]) == (429, "rateLimited", "7")
