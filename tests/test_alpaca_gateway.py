"""Alpaca end to end: Mesh's cancel and authenticate through the gateway's HTTP API against the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.alpaca.simulator import AlpacaSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"


@pytest.fixture(scope="module")
def alpaca() -> Iterator[tuple[AlpacaSimulator, str]]:
    sim = AlpacaSimulator()
    with serve_asgi(sim.app, date_header=False) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, alpaca: tuple[AlpacaSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = alpaca
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.alpaca: url}) as harness:  # type: ignore[arg-type]
        yield harness


def sim_of(gw: GatewayHarness) -> AlpacaSimulator:
    return gw.sim  # type: ignore[return-value]


async def cancel(gw: GatewayHarness, headers: dict[str, str], token: str, order_id: str):
    return await gw.cancel(headers, authToken=token, type="alpaca", id=order_id, isCryptocurrency=False)


def seal(gw: GatewayHarness, headers: dict[str, str], account: SimAccount) -> str:
    return gw.seal(headers, account.api_key, account.secret, IntegrationType.alpaca)


async def test_cancel_open_order_is_ok_cancelled_after_delete_and_one_get(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    order_id, _ = sim.place(account)
    resp = await cancel(gw, headers, seal(gw, headers, account), order_id)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": order_id, "status": "cancelled"}
    assert (sim.count(account.api_key, "cancel"), sim.count(account.api_key, "get")) == (1, 1)
    assert sim.describe(order_id)["status"] == "canceled"


async def test_filled_order_is_409_success_after_one_lookup(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.fill(order_id)
    resp = await cancel(gw, headers, seal(gw, headers, account), order_id)
    assert resp.status_code == 409, resp.text
    assert resp.json()["errorType"] == "orderNotCancelable"
    assert resp.json()["errorData"] == {"orderStatus": "success", "orderId": order_id}
    assert (sim.count(account.api_key, "cancel"), sim.count(account.api_key, "get")) == (1, 1)


async def test_unknown_order_is_404(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    resp = await cancel(gw, headers, seal(gw, headers, account), "0d2c8f4e-1111-4222-8333-444455556666")
    assert resp.status_code == 404, resp.text
    assert resp.json()["errorType"] == "orderNotFound"
    assert (sim.count(account.api_key, "cancel"), sim.count(account.api_key, "get")) == (1, 1)


async def test_cancel_while_alpaca_is_still_cancelling_is_ok_in_progress(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(Fault("pending", "cancel", api_key=account.api_key, seconds=60))
    token = seal(gw, headers, account)
    assert (await cancel(gw, headers, token, order_id)).json()["content"]["status"] == "inProgress"
    again = await cancel(gw, headers, token, order_id)
    assert again.status_code == 200, again.text
    assert again.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    # DELETE + GET (pending_cancel), then a DELETE that Alpaca refuses as already cancelling.
    assert (sim.count(account.api_key, "cancel"), sim.count(account.api_key, "get")) == (2, 1)


async def test_id_that_is_not_an_alpaca_id_is_400_before_any_request(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    resp = await cancel(gw, headers, seal(gw, headers, account), "../account")
    assert resp.status_code == 400, resp.text
    assert resp.json()["errorType"] == "invalidField" and set(resp.json()["errorData"]["fields"]) == {"id"}
    assert sim.count_key(account.api_key) == 0


async def test_authenticate_then_cancel_with_a_key_pair(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    body = {"type": "alpaca", "username": account.api_key, "password": account.secret}
    resp = await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountId"].startswith("PA")
    assert account.secret not in resp.text
    assert sim.count(account.api_key, "account") == 1  # one cheap call
    order_id, _ = sim.place(account)
    token = content["accountTokens"][0]["accessToken"]
    assert (await cancel(gw, headers, token, order_id)).json()["content"]["status"] == "cancelled"


async def test_authenticate_then_cancel_with_an_oauth_token(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    body = {"type": "alpaca", "username": "oauth", "password": sim.issue_token(account), "authToken": "paper"}
    resp = await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-2"})
    assert resp.status_code == 200, resp.text
    token = resp.json()["content"]["accountTokens"][0]["accessToken"]
    order_id, _ = sim.place(account)
    assert (await cancel(gw, headers, token, order_id)).status_code == 200
    assert sim.count(account.api_key, "cancel") == 1


async def test_authenticate_with_a_wrong_secret_is_401(gw: GatewayHarness) -> None:
    sim, headers = sim_of(gw), await gw.client()
    account = sim.new_account()
    body = {"type": "alpaca", "username": account.api_key, "password": "wrong-secret"}
    resp = await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-3"})
    assert resp.status_code == 401, resp.text
    assert resp.json()["errorType"] == "institutionAuthFailed"
