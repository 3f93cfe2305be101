"""`POST /api/v1/authenticate` and `/transactions/details` for Webull: the app's 2FA switch (/openapi/config), the
token approved in the Webull app, one accountToken per account, then cancels and lookups with that token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.webull.simulator import WebullSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
CANCEL = "/api/v1/transactions/cancel"
KIND = "weBull"


@pytest.fixture(scope="module")
def webull() -> Iterator[tuple[WebullSimulator, str]]:
    sim = WebullSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, webull: tuple[WebullSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = webull
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.weBull: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str, **more: str):
    body = {"type": KIND, "username": key, "password": secret, **more}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_then_cancel_and_look_up(gw: GatewayHarness, webull: tuple[WebullSimulator, str]) -> None:
    sim = webull[0]
    headers = await gw.client()
    account = sim.new_account()
    resp = await _auth(gw, headers, account.api_key, account.secret)
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    (entry,) = content["accountTokens"]
    assert entry["account"]["accountName"] == "Webull INDIVIDUAL_CASH"
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert (sim.count(account.api_key, "config"), sim.count(account.api_key, "accounts")) == (1, 1)
    assert sim.count(account.api_key, "token") == 0  # no 2FA for this app

    token = entry["accessToken"]
    coid, _ = sim.place(account, volume="2")
    sim.fill(coid, "0.5")
    body = {"authToken": token, "type": KIND, "id": coid, "isCryptocurrency": False}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"]) == ("partiallyFilled", 0.5, 100.0)
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": coid, "status": "inProgress"}
    after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 0.5)
    resp = await gw.http.post(DETAILS, json={**body, "id": "7" * 32}, headers=headers)
    assert (resp.status_code, resp.json()["errorType"]) == (404, "orderNotFound")


async def test_2fa_token_is_approved_in_the_app(gw: GatewayHarness, webull: tuple[WebullSimulator, str]) -> None:
    sim = webull[0]
    headers = await gw.client()
    account = sim.new_account(two_factor=True)
    first = (await _auth(gw, headers, account.api_key, account.secret)).json()["content"]
    assert (first["status"], first["accountTokens"]) == ("mfaRequired", None)
    assert "Webull app" in first["challengeText"] and first["challengeExpiresInSeconds"] > 0
    (pending,) = sim.tokens_of(account.api_key)
    assert pending not in first["challengeId"]  # sealed, not readable

    again = (await _auth(gw, headers, account.api_key, account.secret, challengeId=first["challengeId"])).json()
    assert again["content"]["status"] == "mfaRequired"  # not yet approved
    sim.approve_token(pending)
    done = (await _auth(gw, headers, account.api_key, account.secret, challengeId=first["challengeId"])).json()
    assert done["content"]["status"] == "succeeded", done
    assert done["content"]["expiresInSeconds"] > 14 * 86400  # Webull's tokens last 15 days
    assert sim.tokens_of(account.api_key) == [pending]

    token = done["content"]["accountTokens"][0]["accessToken"]
    coid, _ = sim.place(account)
    cancel = await gw.http.post(
        CANCEL, json={"authToken": token, "type": KIND, "id": coid, "isCryptocurrency": False}, headers=headers
    )
    assert cancel.status_code == 200, cancel.text
    assert sim.status(coid).value == "cancelled"


async def test_rejected_credentials_are_401(gw: GatewayHarness, webull: tuple[WebullSimulator, str]) -> None:
    sim = webull[0]
    headers = await gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("unknownkey", account.secret)):
        resp = await _auth(gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text
