"""`POST /api/v1/authenticate` and `/transactions/details` for Blockchain.com: the token alone (the username is an
optional label), one cheap venue call (GET /fees), then a sealed token that cancels and looks orders up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.blockchain_com.simulator import BlockchainComSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
KIND = "blockchainCom"


@pytest.fixture(scope="module")
def venue() -> Iterator[tuple[BlockchainComSimulator, str]]:
    sim = BlockchainComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, venue: tuple[BlockchainComSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = venue
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.blockchainCom: url}) as harness:  # type: ignore[arg-type]
        yield harness


@pytest.mark.parametrize("labelled", [True, False])
async def test_connect_then_cancel_and_look_up(
    gw: GatewayHarness, venue: tuple[BlockchainComSimulator, str], labelled: bool
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account = sim.new_account()
    body = {"type": KIND, "password": account.secret, **({"username": account.api_key} if labelled else {})}
    resp = await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["accountTokens"][0]["account"]["accountId"].startswith("blockchain-com-")
    assert account.secret not in resp.text
    assert sim.count(account.api_key, "fees") == 1

    token = content["accountTokens"][0]["accessToken"]
    oid = sim.place_order(account.secret, side="SELL", quantity="2", price="1800")
    sim.fill(oid, "0.5")
    order = {"authToken": token, "type": KIND, "id": oid, "isCryptocurrency": True}
    before = (await gw.http.post(DETAILS, json=order, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"]) == ("partiallyFilled", 0.5, 1800.0)
    cancel = await gw.http.post("/api/v1/transactions/cancel", json=order, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": oid, "status": "inProgress"}
    after = (await gw.http.post(DETAILS, json=order, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 0.5)


async def test_a_wrong_token_is_refused(gw: GatewayHarness) -> None:
    headers = await gw.client()
    resp = await gw.http.post(AUTH, json={"type": KIND, "password": "f" * 64}, headers=headers, params={"userId": "u"})
    assert resp.status_code >= 400 and resp.json()["errorType"] == "institutionAuthFailed"
    assert "f" * 64 not in resp.text
    missing = await gw.http.post(AUTH, json={"type": KIND, "username": "desk"}, headers=headers, params={"userId": "u"})
    assert missing.status_code == 400 and set(missing.json()["errorData"]["fields"]) == {"password"}
