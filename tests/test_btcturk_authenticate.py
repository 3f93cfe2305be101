"""`POST /api/v1/authenticate` and `/transactions/details` for BtcTurk: one cheap venue call
(GET /api/v1/users/balances), then a token that cancels and looks orders up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.btcturk.simulator import BtcTurkSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
KIND = "btcTurkDirect"


@pytest.fixture(scope="module")
def btcturk() -> Iterator[tuple[BtcTurkSimulator, str]]:
    sim = BtcTurkSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, btcturk: tuple[BtcTurkSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = btcturk
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.btcTurkDirect: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):
    body = {"type": KIND, "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_then_cancel_and_look_up(gw: GatewayHarness, btcturk: tuple[BtcTurkSimulator, str]) -> None:
    sim = btcturk[0]
    headers = await gw.client()
    account = sim.new_account()
    resp = await _auth(gw, headers, account.api_key, account.secret)
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["accountTokens"][0]["account"]["accountId"].startswith("btcturk-")
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "balances") == 1

    token = content["accountTokens"][0]["accessToken"]
    oid = sim.place_order(account.api_key, side="sell", quantity="2", price="1800")
    sim.fill(oid, "0.5")
    body = {"authToken": token, "type": KIND, "id": oid, "isCryptocurrency": True}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"]) == ("partiallyFilled", 0.5, 1800.0)
    cancel = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": oid, "status": "inProgress"}
    after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 0.5)
    missing = {**body, "id": "7777777777"}
    resp = await gw.http.post(DETAILS, json=missing, headers=headers)
    assert (resp.status_code, resp.json()["errorType"]) == (404, "orderNotFound")


async def test_rejected_credentials_are_401(gw: GatewayHarness, btcturk: tuple[BtcTurkSimulator, str]) -> None:
    sim = btcturk[0]
    headers = await gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("unknownkey", account.secret), (account.api_key, "x!")):
        resp = await _auth(gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text
