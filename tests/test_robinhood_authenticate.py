"""`POST /api/v1/authenticate` and `/transactions/details` for Robinhood's crypto half: one cheap venue call
(GET /api/v1/crypto/trading/accounts/), then a token, marked as a crypto key, that cancels and looks orders up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
CANCEL = "/api/v1/transactions/cancel"
KIND = "robinhood"


@pytest.fixture(scope="module")
def robinhood() -> Iterator[tuple[RobinhoodSimulator, str]]:
    sim = RobinhoodSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, robinhood: tuple[RobinhoodSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = robinhood
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.robinhood: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):
    body = {"type": KIND, "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_then_cancel_and_look_up(gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str]) -> None:
    sim = robinhood[0]
    headers = await gw.client()
    account = sim.new_account()
    resp = await _auth(gw, headers, account.api_key, account.secret)
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["accountTokens"][0]["account"]["accountId"].isdigit()
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "account") == 1

    token = content["accountTokens"][0]["accessToken"]
    opened = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.robinhood, token)
    assert opened.extras == {"kind": "crypto"}
    oid = sim.place_order(account.api_key, side="sell", quantity="2", price="1800")
    sim.fill(oid, "0.5")
    body = {"authToken": token, "type": KIND, "id": oid, "isCryptocurrency": True}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"], before["symbol"]) == (
        "partiallyFilled", 0.5, 1800.0, "BTC",
    )  # fmt: skip
    assert before["assetType"] == "cryptocurrency" and before["paymentSymbol"] == "USD"
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": oid, "status": "inProgress"}
    after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 0.5)
    missing = {**body, "id": "00000000-0000-4000-8000-000000000000"}
    resp = await gw.http.post(DETAILS, json=missing, headers=headers)
    assert (resp.status_code, resp.json()["errorType"]) == (404, "orderNotFound")


async def test_equities_requests_on_a_crypto_token_are_400(
    gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str]
) -> None:
    sim = robinhood[0]
    headers = await gw.client()
    account = sim.new_account()
    token = (await _auth(gw, headers, account.api_key, account.secret)).json()["content"]["accountTokens"][0]
    oid = sim.place_order(account.api_key)
    body = {"authToken": token["accessToken"], "type": KIND, "id": oid, "isCryptocurrency": False}
    for path in (CANCEL, DETAILS):
        resp = await gw.http.post(path, json=body, headers=headers)
        assert (resp.status_code, resp.json()["errorType"]) == (400, "invalidField"), resp.text
        assert set(resp.json()["errorData"]["fields"]) == {"isCryptocurrency"}
        assert "isCryptocurrency" in resp.json()["message"]
    assert sim.count_key(account.api_key) == 1  # the authenticate read only
    assert sim.status(oid).value == "inProgress"


async def test_rejected_credentials(gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str]) -> None:
    sim = robinhood[0]
    headers = await gw.client()
    account, other = sim.new_account(), sim.new_account()
    unknown = "rh-api-00000000-0000-4000-8000-000000000000"
    for key, secret in ((account.api_key, other.secret), (unknown, other.secret), (account.api_key, "not-a-seed")):
        resp = await _auth(gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text
    resp = await _auth(gw, headers, "someone@example.com", "hunter2")  # a Robinhood login: the equities half
    assert (resp.status_code, resp.json()["errorType"]) == (401, "institutionAuthFailed")
    assert "hunter2" not in resp.text and sim.count("someone@example.com", "token") == 1
