"""What a Coinbase Prime-compatible server receives from ordergate, checked with an independent re-implementation of
Prime's published signing recipe (not ordergate's signing code), and connecting an account end to end."""

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
from ordergate.venues.coinbase_prime.simulator import CoinbasePrimeSimulator
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
PORTFOLIO = "e8bbed13-fa33-41de-86d5-4335d8f08166"
ORDER_ID = "82c879c1-84e1-44ed-a8c2-1ac239cf09ad"


def _prime_sign(stamp: str, method: str, url_path: str, body: bytes, secret: str) -> str:
    """Prime's docs: base64(hmac.digest(SECRET_KEY.encode(), (timestamp + method + url_path + body).encode()))."""
    message = (stamp + method + url_path).encode() + body
    return base64.b64encode(hmac.digest(secret.encode(), message, hashlib.sha256)).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            self.seen.append((request.method, request.url.path, dict(request.headers), await request.body()))
            return JSONResponse({"id": request.path_params["oid"]})  # Prime's documented answer

        route = "/v1/portfolios/{pid}/orders/{oid}/cancel"
        self.app = Starlette(routes=[Route(route, endpoint, methods=["POST"])])


async def test_cancel_request_is_signed_per_prime_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    key, passphrase, secret = secrets.token_urlsafe(16), secrets.token_hex(8), secrets.token_urlsafe(48)
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_COINBASE_PRIME", url)
        assert Settings().base_urls[IntegrationType.coinbasePrime] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            creds = Credentials(IntegrationType.coinbasePrime, key, secret, passphrase, {"portfolio_id": PORTFOLIO})
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            before = int(time.time())
            resp = await gw.cancel(
                headers, authToken=token, type="coinbasePrime", id=ORDER_ID, isCryptocurrency=True, symbolPair="BTC-USD"
            )
    assert resp.status_code == 200, resp.text
    # Prime's answer is an acknowledgement, so the client hears "inProgress", not "cancelled".
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1
    method, path, got, raw = recorder.seen[0]
    assert (method, path, raw) == ("POST", f"/v1/portfolios/{PORTFOLIO}/orders/{ORDER_ID}/cancel", b"")
    assert (got["x-cb-access-key"], got["x-cb-access-passphrase"]) == (key, passphrase)
    stamp = got["x-cb-access-timestamp"]
    assert stamp.isdigit() and abs(int(stamp) - before) <= 5  # integer seconds: "Decimal values are not allowed"
    assert got["x-cb-access-signature"] == _prime_sign(stamp, "POST", path, raw, secret)
    assert secret not in json.dumps(got)


async def _authenticate(gw, headers: dict[str, str], **body: object):  # type: ignore[no-untyped-def]
    return await gw.http.post(AUTH, json={"type": "coinbasePrime", **body}, headers=headers, params={"userId": "u-1"})


async def test_connect_seals_the_portfolio_then_cancel(tmp_path: Path) -> None:
    sim = CoinbasePrimeSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.coinbasePrime: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            resp = await _authenticate(
                gw, headers, username=account.api_key, password=account.secret, authToken=account.passphrase
            )
            assert resp.status_code == 200, resp.text
            token = resp.json()["content"]["accountTokens"][0]
            assert token["account"]["accountId"] == account.extras["portfolio_id"]
            opened = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.coinbasePrime, token["accessToken"])
            assert (opened.passphrase, opened.extras) == (account.passphrase, account.extras)
            for secret in (account.api_key, account.secret, account.passphrase):
                assert secret not in resp.text

            order_id, _ = sim.place(account)
            body = {
                "authToken": token["accessToken"],
                "type": "coinbasePrime",
                "id": order_id,
                "isCryptocurrency": True,
            }
            assert (await gw.cancel(headers, **body)).json()["content"]["status"] == "inProgress"
            assert sim.status(order_id).value == "cancelled"


async def test_missing_passphrase_rejected_key_and_multi_portfolio_key(tmp_path: Path) -> None:
    sim = CoinbasePrimeSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.coinbasePrime: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            missing = await _authenticate(gw, headers, username=account.api_key, password=account.secret)
            assert (missing.status_code, missing.json()["errorType"]) == (400, "missingField")
            assert list(missing.json()["errorData"]["fields"]) == ["authToken"]
            assert sim.count_key(account.api_key) == 0

            wrong = await _authenticate(
                gw, headers, username=account.api_key, password="not-the-secret", authToken=account.passphrase
            )
            assert (wrong.status_code, wrong.json()["errorType"]) == (401, "institutionAuthFailed")

            entity = sim.new_account(portfolios=2)
            several = await _authenticate(
                gw, headers, username=entity.api_key, password=entity.secret, authToken=entity.passphrase
            )
            assert (several.status_code, several.json()["errorType"]) == (400, "invalidField")
            assert list(several.json()["errorData"]["fields"]) == ["username"]


async def test_a_retry_after_header_from_prime_is_passed_on(tmp_path: Path) -> None:
    # None is documented, so without one the gateway says the documented 30 s; a header, if Prime sends one, wins.
    async def limited(_request: Request) -> JSONResponse:
        return JSONResponse({"message": "rate limit exceeded"}, status_code=429, headers={"Retry-After": "4"})

    app = Starlette(routes=[Route("/v1/portfolios/{pid}/orders/{oid}/cancel", limited, methods=["POST"])])
    with serve_asgi(app) as url:
        async with gateway_harness(tmp_path, None, url, base_urls={IntegrationType.coinbasePrime: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            creds = Credentials(IntegrationType.coinbasePrime, "key", "secret", "pass", {"portfolio_id": PORTFOLIO})
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            resp = await gw.cancel(headers, authToken=token, type="coinbasePrime", id=ORDER_ID, isCryptocurrency=True)
    assert (resp.status_code, resp.json()["errorType"], resp.headers["retry-after"]) == (429, "rateLimited", "4")
