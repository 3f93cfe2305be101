"""`POST /api/v1/authenticate` and `/transactions/details` for Interactive Brokers: the gateway's session is checked
(GET /iserver/auth/status) and its accounts listed (GET /iserver/accounts); the token names one account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.ibkr.simulator import GATEWAY, IbkrSimulator
from tests.conftest import CANCEL, GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
KIND = IntegrationType.interactiveBrokers.value


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[IbkrSimulator, GatewayHarness, dict[str, str]]]:
    sim = IbkrSimulator()
    with serve_asgi(sim.app) as url:
        base = {IntegrationType.interactiveBrokers: url}
        async with gateway_harness(tmp_path, sim, url, base_urls=base) as gw:  # type: ignore[arg-type]
            yield sim, gw, await gw.client()


async def _auth(gw: GatewayHarness, headers: dict[str, str], **fields: str):
    return await gw.http.post(AUTH, json={"type": KIND, **fields}, headers=headers, params={"userId": "user-1"})


async def test_connect_one_account_then_details_and_cancel(world) -> None:
    sim, gw, headers = world
    account, _other = sim.new_account(), sim.new_account()
    resp = await _auth(gw, headers, username=account.api_key)
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded" and len(content["accountTokens"]) == 1
    assert content["accountTokens"][0]["account"]["accountId"] == account.api_key
    assert (sim.count(GATEWAY, "auth_status"), sim.count(GATEWAY, "accounts")) == (1, 1)

    token = content["accountTokens"][0]["accessToken"]
    order_id, _ = sim.place(account, volume="2", price="150")
    sim.fill(order_id, "0.5")
    body = {"authToken": token, "type": KIND, "id": order_id, "isCryptocurrency": False}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"], before["assetType"]) == (
        "partiallyFilled", 0.5, 150.0, "equity",
    )  # fmt: skip
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 0.5)


async def test_no_username_is_one_token_per_account_each_cancelling_its_own(world) -> None:
    sim, gw, headers = world
    accounts = [sim.new_account() for _ in range(2)]
    resp = await _auth(gw, headers)
    assert resp.status_code == 200, resp.text
    tokens = {t["account"]["accountId"]: t["accessToken"] for t in resp.json()["content"]["accountTokens"]}
    assert set(tokens) == {a.api_key for a in accounts}
    for account in accounts:
        order_id, _ = sim.place(account)
        body = {"authToken": tokens[account.api_key], "type": KIND, "id": order_id, "isCryptocurrency": False}
        assert (await gw.http.post(CANCEL, json=body, headers=headers)).status_code == 200
        assert sim.count(account.api_key, "cancel") == 1


async def test_an_account_the_login_does_not_hold_is_401(world) -> None:
    sim, gw, headers = world
    sim.new_account()
    resp = await _auth(gw, headers, username="U9999999")
    assert resp.status_code == 401 and resp.json()["errorType"] == "institutionAuthFailed", resp.text


async def test_a_username_that_is_no_account_id_is_400(world) -> None:
    _sim, gw, headers = world
    resp = await _auth(gw, headers, username="DU1/../x")
    assert resp.status_code == 400 and resp.json()["errorData"]["fields"]["username"], resp.text


async def test_a_logged_out_gateway_says_to_log_in_again(world) -> None:
    sim, gw, headers = world
    account = sim.new_account()
    sim.expire_session()
    resp = await _auth(gw, headers, username=account.api_key)
    assert resp.status_code == 502 and resp.json()["errorType"] == "institutionUnavailable", resp.text
    assert "log the gateway in again" in resp.json()["message"]
    assert sim.count(GATEWAY, "accounts") == 0


async def test_a_password_is_never_sealed(world) -> None:
    sim, gw, headers = world
    account = sim.new_account()
    resp = await _auth(gw, headers, username=account.api_key, password="hunter2-not-needed")
    assert resp.status_code == 200, resp.text
    token = resp.json()["content"]["accountTokens"][0]["accessToken"]
    creds = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.interactiveBrokers, token)
    assert creds.secret == "" and creds.extras == {"account": account.api_key}
