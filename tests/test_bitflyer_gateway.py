"""bitFlyer through the gateway's HTTP API: `/authenticate` (one cheap call, GET /v1/me/getpermissions), the token it
returns cancelling, and `/transactions/details` for every child order state."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bitflyer.simulator import BitflyerSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
CANCEL = "/api/v1/transactions/cancel"
DETAILS = "/api/v1/transactions/details"


@pytest.fixture(scope="module")
def venue() -> Iterator[tuple[BitflyerSimulator, str]]:
    sim = BitflyerSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, venue: tuple[BitflyerSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = venue
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.bitFlyer: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):
    body = {"type": "bitFlyer", "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_then_cancel_with_the_returned_token(
    gw: GatewayHarness, venue: tuple[BitflyerSimulator, str]
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account = sim.new_account()

    resp = await _auth(gw, headers, account.api_key, account.secret)

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountId"].startswith("bitflyer-")
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "permissions") == 1  # one cheap call

    token = content["accountTokens"][0]["accessToken"]
    order_id, extra = sim.place(account)
    body = {"authToken": token, "type": "bitFlyer", "id": order_id, "isCryptocurrency": True, **extra}
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "cancelled"}
    details = await gw.http.post(DETAILS, json=body, headers=headers)
    assert details.json()["content"]["status"] == "cancelled"


async def test_rejected_credentials_and_keys_that_cannot_cancel(
    gw: GatewayHarness, venue: tuple[BitflyerSimulator, str]
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("unknownkey000000000000", account.secret)):
        resp = await _auth(gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text
    viewer = sim.new_account(can_trade=False)
    resp = await _auth(gw, headers, viewer.api_key, viewer.secret)
    assert (resp.status_code, resp.json()["errorType"]) == (403, "institutionPermissionDenied")


@pytest.mark.parametrize(
    ("state", "mesh"),
    [("ACTIVE", "inProgress"), ("COMPLETED", "success"), ("CANCELED", "cancelled"), ("EXPIRED", "expired"),
     ("REJECTED", "rejected")],
)  # fmt: skip
async def test_details_for_every_child_order_state(
    gw: GatewayHarness, venue: tuple[BitflyerSimulator, str], state: str, mesh: str
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account = sim.new_account()
    order_id, _ = sim.place(account, volume="2", price="3000000")
    if state == "COMPLETED":
        sim.fill(order_id)
    elif state != "ACTIVE":
        sim.set_state(order_id, state)
    token = gw.seal(headers, account.api_key, account.secret, IntegrationType.bitFlyer)
    body = {"authToken": token, "type": "bitFlyer", "id": order_id, "isCryptocurrency": True, "symbolPair": "BTC/JPY"}
    resp = await gw.http.post(DETAILS, json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == mesh
    assert (content["symbol"], content["paymentSymbol"], content["price"]) == ("BTC", "JPY", 3000000)


async def test_details_of_a_partial_fill_and_an_unknown_order(
    gw: GatewayHarness, venue: tuple[BitflyerSimulator, str]
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account = sim.new_account()
    order_id, extra = sim.place(account, volume="2")
    sim.fill(order_id, "0.5")
    token = gw.seal(headers, account.api_key, account.secret, IntegrationType.bitFlyer)
    body = {"authToken": token, "type": "bitFlyer", "id": order_id, "isCryptocurrency": True, **extra}
    content = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (content["status"], content["amount"]) == ("partiallyFilled", 0.5)
    unknown = {**body, "id": "JOR20150707-060559-000000"}
    resp = await gw.http.post(DETAILS, json=unknown, headers=headers)
    assert (resp.status_code, resp.json()["errorType"]) == (404, "orderNotFound")
