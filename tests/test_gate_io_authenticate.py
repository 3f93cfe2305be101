"""`POST /api/v1/authenticate` and `/transactions/details` for Gate.io: one cheap venue call (GET /spot/accounts),
then a token that cancels and looks orders up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.gate_io.simulator import GateIoSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
CANCEL = "/api/v1/transactions/cancel"
DETAILS = "/api/v1/transactions/details"


@pytest.fixture(scope="module")
def gate() -> Iterator[tuple[GateIoSimulator, str]]:
    sim = GateIoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gate_gw(tmp_path: Path, gate: tuple[GateIoSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = gate
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.gateIo: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):
    body = {"type": "gateIo", "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_then_cancel_and_look_up_with_the_returned_token(
    gate_gw: GatewayHarness, gate: tuple[GateIoSimulator, str]
) -> None:
    sim = gate[0]
    headers = await gate_gw.client()
    account = sim.new_account()

    resp = await _auth(gate_gw, headers, account.api_key, account.secret)

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountId"].startswith("gateio-")
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "accounts") == 1  # one cheap call

    token = content["accountTokens"][0]["accessToken"]
    order_id = sim.place_order(account.api_key, side="sell", amount="2", price="30000")
    sim.fill(order_id, "0.5")
    body = {"authToken": token, "type": "gateIo", "id": order_id, "isCryptocurrency": True, "symbolPair": "BTC/USDT"}
    live = (await gate_gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (live["status"], live["amount"]) == ("partiallyFilled", 0.5)
    cancel = await gate_gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "cancelled"}
    details = await gate_gw.http.post(DETAILS, json=body, headers=headers)
    assert details.status_code == 200, details.text
    assert (details.json()["content"]["status"], details.json()["content"]["amount"]) == ("cancelled", 0.5)

    unknown = await gate_gw.http.post(DETAILS, json={**body, "id": "999999999999"}, headers=headers)
    assert (unknown.status_code, unknown.json()["errorType"]) == (404, "orderNotFound")
    missing = await gate_gw.http.post(DETAILS, json={k: v for k, v in body.items() if k != "symbolPair"},
                                      headers=headers)  # fmt: skip
    assert (missing.status_code, missing.json()["errorType"]) == (400, "missingField")


async def test_rejected_credentials_are_401_and_return_no_token(
    gate_gw: GatewayHarness, gate: tuple[GateIoSimulator, str]
) -> None:
    sim = gate[0]
    headers = await gate_gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("0" * 32, account.secret)):
        resp = await _auth(gate_gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text
    row = (await gate_gw.gateway.audit.tail(1))[0]
    assert (row.endpoint, row.error_type) == ("authenticate", "institutionAuthFailed")
