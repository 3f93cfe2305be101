"""`POST /api/v1/authenticate` for Bybit: one cheap venue call (GET /v5/user/query-api), then a token that cancels."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bybit.simulator import BybitSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"


@pytest.fixture(scope="module")
def bybit() -> Iterator[tuple[BybitSimulator, str]]:
    sim = BybitSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def bybit_gw(tmp_path: Path, bybit: tuple[BybitSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = bybit
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.bybit: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):
    body = {"type": "bybit", "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_then_cancel_with_the_returned_token(
    bybit_gw: GatewayHarness, bybit: tuple[BybitSimulator, str]
) -> None:
    sim = bybit[0]
    headers = await bybit_gw.client()
    account = sim.new_account()

    resp = await _auth(bybit_gw, headers, account.api_key, account.secret)

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountId"].startswith("bybit-")
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "query-api") == 1  # one cheap call

    token = content["accountTokens"][0]["accessToken"]
    order_id, extra = sim.place(account)
    body = {"authToken": token, "type": "bybit", "id": order_id, "isCryptocurrency": True, **extra}
    cancel = await bybit_gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    details = await bybit_gw.http.post(DETAILS, json=body, headers=headers)
    assert details.json()["content"]["status"] == "cancelled"


async def test_rejected_credentials_are_401_and_return_no_token(
    bybit_gw: GatewayHarness, bybit: tuple[BybitSimulator, str]
) -> None:
    sim = bybit[0]
    headers = await bybit_gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("unknownkey00000000", account.secret)):
        resp = await _auth(bybit_gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text
    row = (await bybit_gw.gateway.audit.tail(1))[0]
    assert (row.endpoint, row.error_type) == ("authenticate", "institutionAuthFailed")


async def test_read_only_key_is_refused_at_connect(bybit_gw: GatewayHarness, bybit: tuple[BybitSimulator, str]) -> None:
    sim = bybit[0]
    headers = await bybit_gw.client()
    account = sim.new_account(can_trade=False)
    resp = await _auth(bybit_gw, headers, account.api_key, account.secret)
    assert resp.status_code == 403, resp.text
    assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionPermissionDenied", None)
