"""`POST /api/v1/authenticate` and `/transactions/details` for Crypto.com: one cheap venue call
(private/get-accounts) at connect, then a token that cancels and reads the order back."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.crypto_com.simulator import CryptoComSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
CANCEL = "/api/v1/transactions/cancel"


@pytest.fixture(scope="module")
def venue() -> Iterator[tuple[CryptoComSimulator, str]]:
    sim = CryptoComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, venue: tuple[CryptoComSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = venue
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.cryptoCom: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], key: str, secret: str):  # type: ignore[no-untyped-def]
    body = {"type": "cryptoCom", "username": key, "password": secret}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_connect_cancel_and_read_the_order_back(
    gw: GatewayHarness, venue: tuple[CryptoComSimulator, str]
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account = sim.new_account()

    resp = await _auth(gw, headers, account.api_key, account.secret)

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountId"].startswith("cryptocom-")
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count_key(account.api_key) == sim.count(account.api_key, "private/get-accounts") == 1

    token = content["accountTokens"][0]["accessToken"]
    order_id = sim.place_order(account.api_key, instrument="ETH_USDT", side="SELL", quantity="2", price="2000")
    sim.fill(order_id, "0.5")
    body = {"authToken": token, "type": "cryptoCom", "id": order_id, "isCryptocurrency": True}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["symbol"], before["paymentSymbol"]) == (
        "partiallyFilled",
        0.5,
        "ETH",
        "USDT",
    )
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    after = await gw.http.post(DETAILS, json=body, headers=headers)
    assert (after.json()["content"]["status"], after.json()["content"]["amount"]) == ("cancelled", 0.5)
    missing = await gw.http.post(DETAILS, json={**body, "id": "1999999999999999999"}, headers=headers)
    assert (missing.status_code, missing.json()["errorType"]) == (404, "orderNotFound")


async def test_rejected_credentials_are_401_and_return_no_token(
    gw: GatewayHarness, venue: tuple[CryptoComSimulator, str]
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account, other = sim.new_account(), sim.new_account()
    for key, secret in ((account.api_key, other.secret), ("0" * 22, account.secret)):
        resp = await _auth(gw, headers, key, secret)
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
        assert key not in resp.text and secret not in resp.text


@pytest.mark.parametrize("bad_id", ["-1", "a/b", "1?x=1", "..", "%2e%2e", "1" * 10_000])
async def test_malformed_ids_never_reach_the_venue(
    gw: GatewayHarness, venue: tuple[CryptoComSimulator, str], bad_id: str
) -> None:
    sim = venue[0]
    headers = await gw.client()
    account = sim.new_account()
    token = gw.seal(headers, account.api_key, account.secret, IntegrationType.cryptoCom)
    for path in (CANCEL, DETAILS):
        body = {"authToken": token, "type": "cryptoCom", "id": bad_id, "isCryptocurrency": True}
        resp = await gw.http.post(path, json=body, headers=headers)
        assert resp.status_code == 400, resp.text
    assert sim.count_key(account.api_key) == 0
