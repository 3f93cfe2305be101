"""`POST /api/v1/authenticate` and `/transactions/details` for Bitso: one cheap venue call
(GET /api/v3/account_status), then a token that cancels and looks orders up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bitso.simulator import BitsoSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
KIND = "bitsoDirect"


@pytest.fixture(scope="module")
def bitso() -> Iterator[tuple[BitsoSimulator, str]]:
    sim = BitsoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, bitso: tuple[BitsoSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = bitso
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.bitsoDirect: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):
    body = {"type": KIND, "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_then_cancel_and_look_up_with_the_returned_token(
    gw: GatewayHarness, bitso: tuple[BitsoSimulator, str]
) -> None:
    sim = bitso[0]
    headers = await gw.client()
    account = sim.new_account()

    resp = await _auth(gw, headers, account.api_key, account.secret)

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountId"].startswith("bitso-")
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "account_status") == 1  # one cheap call

    token = content["accountTokens"][0]["accessToken"]
    oid = sim.place_order(account.api_key, side="sell", amount="2", price="1800")
    sim.fill(oid, "0.5")
    body = {"authToken": token, "type": KIND, "id": oid, "isCryptocurrency": True}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"]) == ("partiallyFilled", 0.5, 1800.0)
    cancel = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": oid, "status": "cancelled"}
    after = await gw.http.post(DETAILS, json=body, headers=headers)
    assert after.status_code == 200, after.text
    assert (after.json()["content"]["status"], after.json()["content"]["amount"]) == ("cancelled", 0.5)


async def test_rejected_credentials_are_401_and_return_no_token(
    gw: GatewayHarness, bitso: tuple[BitsoSimulator, str]
) -> None:
    sim = bitso[0]
    headers = await gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("unknownkey", account.secret)):
        resp = await _auth(gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text


async def test_details_of_an_order_bitso_does_not_have_is_404(
    gw: GatewayHarness, bitso: tuple[BitsoSimulator, str]
) -> None:
    sim = bitso[0]
    headers = await gw.client()
    account = sim.new_account()
    token = (await _auth(gw, headers, account.api_key, account.secret)).json()["content"]["accountTokens"][0]
    body = {"authToken": token["accessToken"], "type": KIND, "id": "qqqqqqqqqqqqqqqq", "isCryptocurrency": True}
    resp = await gw.http.post(DETAILS, json=body, headers=headers)
    assert resp.status_code == 404, resp.text
    assert resp.json()["errorType"] == "orderNotFound"
