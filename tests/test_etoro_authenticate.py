"""`POST /api/v1/authenticate` and `/transactions/details` for eToro: one portfolio read in the environment
`authToken` names (real by default), then a token that cancels and looks orders up there."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.etoro.simulator import EtoroSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
KIND = "etoro"


@pytest.fixture(scope="module")
def etoro() -> Iterator[tuple[EtoroSimulator, str]]:
    sim = EtoroSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, etoro: tuple[EtoroSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = etoro
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.etoro: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(
    gw: GatewayHarness, headers: dict[str, str], key: str, user_key: str, env: str | None
) -> httpx.Response:
    body = {"type": KIND, "username": key, "password": user_key, **({"authToken": env} if env is not None else {})}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_demo_then_cancel_and_look_up(gw: GatewayHarness, etoro: tuple[EtoroSimulator, str]) -> None:
    sim = etoro[0]
    headers = await gw.client()
    account = sim.new_account()
    resp = await _auth(gw, headers, account.api_key, account.secret, "Demo")
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["accountTokens"][0]["account"]["accountId"].startswith("etoro-")
    assert content["accountTokens"][0]["account"]["accountName"] == "eToro (demo)"
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "portfolio") == 1

    token = content["accountTokens"][0]["accessToken"]
    oid, _ = sim.place(account, volume="2", price="180")
    sim.fill(oid, "0.5")
    body = {"authToken": token, "type": KIND, "id": oid, "isCryptocurrency": False}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"]) == ("partiallyFilled", 0.5, 180.0)
    cancel = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": oid, "status": "cancelled"}
    after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 0.5)
    again = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert (again.status_code, again.json()["errorData"]["orderStatus"]) == (409, "cancelled")
    assert sim.count(account.api_key, "cancel") == 1  # the final order cost no write
    missing = {**body, "id": "7777777777"}
    resp = await gw.http.post(DETAILS, json=missing, headers=headers)
    assert (resp.status_code, resp.json()["errorType"]) == (404, "orderNotFound")


async def test_real_is_the_default_environment(gw: GatewayHarness, etoro: tuple[EtoroSimulator, str]) -> None:
    sim = etoro[0]
    headers = await gw.client()
    real = sim.new_account(environment="real")
    resp = await _auth(gw, headers, real.api_key, real.secret, None)
    assert resp.status_code == 200, resp.text
    token = resp.json()["content"]["accountTokens"][0]["accessToken"]
    oid, _ = sim.place(real)
    body = {"authToken": token, "type": KIND, "id": oid, "isCryptocurrency": False}
    cancel = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert sim.status(oid).value == "cancelled"


async def test_refusals(gw: GatewayHarness, etoro: tuple[EtoroSimulator, str]) -> None:
    sim = etoro[0]
    headers = await gw.client()
    demo, other = sim.new_account(), sim.new_account()
    for key, user_key, env in [
        (demo.api_key, other.secret, "demo"),  # another user's key
        (demo.api_key, demo.secret, "real"),  # a demo key named real
        (demo.api_key, demo.secret, None),  # ... or left to the default
    ]:
        resp = await _auth(gw, headers, key, user_key, env)
        assert (resp.status_code, resp.json()["errorType"]) == (401, "institutionAuthFailed"), resp.text
        assert demo.secret not in resp.text and other.secret not in resp.text
    resp = await _auth(gw, headers, demo.api_key, demo.secret, "paper")
    assert (resp.status_code, resp.json()["errorType"]) == (400, "invalidField")
    assert sim.count_key(demo.api_key) == 3  # the bad environment name never reached eToro
