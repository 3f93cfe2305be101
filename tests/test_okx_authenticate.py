"""Connecting an OKX account through the gateway: key, secret and passphrase verified with one cheap call, the
passphrase kept in the sealed token, and the token then cancelling an order at the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.simkit import SimAccount
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"


@pytest.fixture(scope="module")
def okx() -> Iterator[tuple[OkxSimulator, str]]:
    sim = OkxSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, okx: tuple[OkxSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = okx
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.okx: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], body: dict[str, object]):
    return await gw.http.post(AUTH, json={"type": "okx", **body}, headers=headers, params={"userId": "u-1"})


async def test_connect_then_cancel_with_the_returned_token(gw: GatewayHarness, okx: tuple[OkxSimulator, str]) -> None:
    sim, _ = okx
    headers = await gw.client()
    key, secret, passphrase = sim.new_credentials()
    resp = await _auth(gw, headers, {"username": key, "password": secret, "authToken": passphrase})
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded" and content["brokerType"] == "okx"
    account = content["accountTokens"][0]
    assert account["account"]["accountId"].startswith("okx-")
    for secret_text in (key, secret, passphrase):
        assert secret_text not in resp.text
    assert sim.count_key(key) == 1 and sim.count(key, "account-config") == 1

    ord_id, extra = sim.place(SimAccount(key, secret, passphrase))
    cancel = await gw.cancel(
        headers, authToken=account["accessToken"], type="okx", id=ord_id, isCryptocurrency=True, **extra
    )
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": ord_id, "status": "inProgress"}
    assert sim.describe(ord_id)["state"] == "canceled"
    assert sim.seen[-1].error is None  # the passphrase travelled inside the token


@pytest.mark.parametrize("wrong", ["secret", "passphrase", "key"])
async def test_rejected_credentials_are_401(gw: GatewayHarness, okx: tuple[OkxSimulator, str], wrong: str) -> None:
    sim, _ = okx
    headers = await gw.client()
    key, secret, passphrase = sim.new_credentials()
    body = {"username": key, "password": secret, "authToken": passphrase}
    body[{"secret": "password", "passphrase": "authToken", "key": "username"}[wrong]] = "not-it"
    resp = await _auth(gw, headers, body)
    assert resp.status_code == 401, resp.text
    assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
    assert secret not in resp.text and passphrase not in resp.text


async def test_missing_passphrase_is_400_naming_auth_token(gw: GatewayHarness, okx: tuple[OkxSimulator, str]) -> None:
    sim, _ = okx
    headers = await gw.client()
    key, secret, _ = sim.new_credentials()
    before = sim.total_requests
    resp = await _auth(gw, headers, {"username": key, "password": secret})
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["errorType"] == "missingField" and set(body["errorData"]["fields"]) == {"authToken"}
    assert sim.total_requests == before
