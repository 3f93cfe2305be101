"""KuCoin through the gateway's HTTP API: authenticate (key, secret, passphrase) → sealed token → cancel/details."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.kucoin.simulator import KucoinSimulator
from ordergate.venues.simkit import SimAccount
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"


@pytest.fixture(scope="module")
def kucoin() -> Iterator[tuple[KucoinSimulator, str]]:
    sim = KucoinSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, kucoin: tuple[KucoinSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = kucoin
    urls = {IntegrationType.kuCoin: url, IntegrationType.kuCoinDirect: url}
    async with gateway_harness(tmp_path, sim, url, base_urls=urls) as harness:  # type: ignore[arg-type]
        yield harness


async def authenticate(gw: GatewayHarness, headers: dict[str, str], body: dict[str, object]) -> httpx.Response:
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


def credentials(account: SimAccount, integration: str = "kuCoin") -> dict[str, object]:
    return {
        "type": integration,
        "username": account.api_key,
        "password": account.secret,
        "authToken": account.passphrase,
    }


@pytest.mark.parametrize("hf", [False, True])
@pytest.mark.parametrize("integration", ["kuCoin", "kuCoinDirect"])
async def test_connect_then_cancel_with_the_returned_token(gw: GatewayHarness, hf: bool, integration: str) -> None:
    sim: KucoinSimulator = gw.sim  # type: ignore[assignment]
    headers = await gw.client()
    account = sim.new_credentials(hf=hf)

    resp = await authenticate(gw, headers, credentials(account, integration))

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert content["accountTokens"][0]["account"]["accountName"] == ("KuCoin (Pro/HF)" if hf else "KuCoin")
    for secret in (account.api_key, account.secret, account.passphrase or "-"):
        assert secret not in resp.text
    # One cheap authenticated call, which is also the one that tells the account kind.
    assert sim.count_key(account.api_key) == 1 and sim.count(account.api_key, "hf_account_type") == 1
    token = content["accountTokens"][0]["accessToken"]
    opened = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType(integration), token)
    assert (opened.passphrase, opened.extras) == (account.passphrase, {"hf": hf})

    order_id, fields = sim.place(account)
    body = {"authToken": token, "type": integration, "id": order_id, "isCryptocurrency": True}
    if hf:
        # The token knows the account is HF: without the pair nothing is sent.
        missing = await gw.cancel(headers, **body)
        assert missing.status_code == 400 and missing.json()["errorType"] == "missingField"
        assert set(missing.json()["errorData"]["fields"]) == {"symbolPair"}
        assert sim.count_key(account.api_key) == 1
        assert fields == {"symbolPair": "BTC-USDT"}
    cancel = await gw.cancel(headers, **body, **fields)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    assert sim.count(account.api_key, "cancel_hf_order" if hf else "cancel_order") == 1
    assert sim.status(order_id).value == "cancelled"

    details = await gw.http.post(DETAILS, json={**body, **fields}, headers=headers)
    assert (details.json()["content"]["status"], details.json()["content"]["symbol"]) == ("cancelled", "BTC")
    again = await gw.cancel(headers, **body, **fields)
    assert (again.status_code, again.json()["errorData"]["orderStatus"]) == (409, "cancelled")


async def test_rejected_credentials_are_401_and_return_no_token(gw: GatewayHarness) -> None:
    sim: KucoinSimulator = gw.sim  # type: ignore[assignment]
    headers = await gw.client()
    account = sim.new_credentials()
    for wrong in ({"authToken": "not-the-passphrase"}, {"password": "0f0f0f0f-not-the-secret"}):
        resp = await authenticate(gw, headers, {**credentials(account), **wrong})
        assert resp.status_code == 401, resp.text
        assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
    row = (await gw.gateway.audit.tail(1))[0]
    assert (row.endpoint, row.error_type) == ("authenticate", "institutionAuthFailed")


async def test_missing_passphrase_is_named_before_any_upstream_call(gw: GatewayHarness) -> None:
    sim: KucoinSimulator = gw.sim  # type: ignore[assignment]
    headers = await gw.client()
    account = sim.new_credentials()
    body = credentials(account)
    del body["authToken"]
    resp = await authenticate(gw, headers, body)
    assert resp.status_code == 400, resp.text
    assert (resp.json()["errorType"], resp.json()["errorData"]["fields"]) == (
        "missingField",
        {"authToken": "required: the KuCoin API passphrase"},
    )
    assert sim.count_key(account.api_key) == 0
