"""`POST /api/v1/authenticate` for Bitstamp: one signed read (account_balances), then a token that cancels, and
`/transactions/details` from order_status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bitstamp.simulator import BitstampSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
CANCEL = "/api/v1/transactions/cancel"
DETAILS = "/api/v1/transactions/details"


@pytest.fixture(scope="module")
def bitstamp() -> Iterator[tuple[BitstampSimulator, str]]:
    sim = BitstampSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, bitstamp: tuple[BitstampSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = bitstamp
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.bitstamp: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):
    body = {"type": "bitstamp", "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_cancel_and_details(gw: GatewayHarness, bitstamp: tuple[BitstampSimulator, str]) -> None:
    sim = bitstamp[0]
    headers = await gw.client()
    account = sim.new_account()

    resp = await _auth(gw, headers, account.api_key, account.secret)

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountId"].startswith("bitstamp-")
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "account_balances") == 1  # one cheap call

    token = content["accountTokens"][0]["accessToken"]
    order_id, _ = sim.place(account, volume="2", price="25000")
    sim.fill(order_id, "0.5")
    body = {"authToken": token, "type": "bitstamp", "id": order_id, "isCryptocurrency": True}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["symbol"], before["paymentSymbol"]) == (
        "partiallyFilled",
        0.5,
        "BTC",
        "USD",
    )
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "cancelled"}
    after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 0.5)


async def test_rejected_credentials_are_401_and_return_no_token(
    gw: GatewayHarness, bitstamp: tuple[BitstampSimulator, str]
) -> None:
    sim = bitstamp[0]
    headers = await gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("k" * 32, account.secret)):
        resp = await _auth(gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text
