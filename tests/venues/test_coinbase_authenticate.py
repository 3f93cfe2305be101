"""Connecting a Coinbase account through Mesh's `POST /api/v1/authenticate`, against the simulator.

CDP API keys: `username` = key name, `password` = private key (EC PEM or base64 Ed25519). OAuth: `username` =
`oauth`, `password` = the access token (the same convention as the Alpaca venue; Mesh's API-key scheme has no
field of its own for a bearer token). One cheap call verifies either: `key_permissions` (which also says whether
the key may trade) or `/v2/user`.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.coinbase.simulator import CoinbaseSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbaseSimulator, str]]:
    sim = CoinbaseSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, served: tuple[CoinbaseSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = served
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.coinbase: url}) as harness:  # type: ignore[arg-type]
        yield harness


def sim_of(gw: GatewayHarness) -> CoinbaseSimulator:
    assert isinstance(gw.sim, CoinbaseSimulator)
    return gw.sim


async def authenticate(gw: GatewayHarness, headers: dict[str, str], username: str, password: str) -> httpx.Response:
    # ordergate's API refuses control characters in fields, so a PEM travels with its newlines escaped, exactly
    # as `privateKey` appears in the key file CDP hands out.
    body = {"type": "coinbase", "username": username, "password": password.replace("\n", "\\n")}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


@pytest.mark.parametrize(("kind", "sealed_kind", "verify_op"), [
    ("ec", "es256", "key_permissions"), ("ed25519", "ed25519", "key_permissions"), ("oauth", "oauth", "user"),
])  # fmt: skip
async def test_connect_with_one_call_then_cancel_with_the_token(
    gw: GatewayHarness, kind: str, sealed_kind: str, verify_op: str
) -> None:
    sim = sim_of(gw)
    headers = await gw.client()
    issued = sim.new_credentials(kind)
    username = "oauth" if kind == "oauth" else issued.api_key

    resp = await authenticate(gw, headers, username, issued.secret)

    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded" and content["brokerType"] == "coinbase"
    assert issued.secret not in resp.text and (kind == "oauth" or issued.api_key not in resp.text)
    (account_token,) = content["accountTokens"]
    assert account_token["account"]["accountId"].startswith("coinbase-")
    assert (sim.count_key(issued.api_key), sim.count(issued.api_key, verify_op)) == (1, 1)
    token = account_token["accessToken"]
    opened = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.coinbase, token)
    assert (opened.api_key, opened.extras) == (username, {"kind": sealed_kind})
    assert opened.secret.replace("\\n", "\n") == issued.secret

    order_id = sim.place_order(issued.api_key)
    body = {"authToken": token, "type": "coinbase", "id": order_id, "isCryptocurrency": True, "side": "buy"}
    cancel = await gw.cancel(headers, **body)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    assert sim.order(order_id)["status"] == "CANCELLED"
    details = await gw.http.post("/api/v1/transactions/details", json=body, headers=headers)
    assert details.json()["content"]["status"] == "cancelled"


async def test_rejected_credentials_are_401_and_return_no_token(gw: GatewayHarness) -> None:
    sim = sim_of(gw)
    headers = await gw.client()
    key, other = sim.new_credentials("ec"), sim.new_credentials("ed25519")
    for username, password in ((key.api_key, other.secret), ("oauth", "an-access-token-coinbase-never-issued")):
        resp = await authenticate(gw, headers, username, password)
        assert resp.status_code == 401, resp.text
        body = resp.json()
        assert (body["errorType"], body["content"]) == ("institutionAuthFailed", None)
        assert password not in resp.text
    row = (await gw.gateway.audit.tail(1))[0]
    assert (row.endpoint, row.error_type) == ("authenticate", "institutionAuthFailed")


async def test_a_secret_that_is_no_private_key_is_401_without_calling_coinbase(gw: GatewayHarness) -> None:
    sim = sim_of(gw)
    headers = await gw.client()
    before = sim.total_requests
    resp = await authenticate(gw, headers, "organizations/o/apiKeys/k", "hunter2")
    assert (resp.status_code, resp.json()["errorType"]) == (401, "institutionAuthFailed")
    assert "hunter2" not in resp.text and sim.total_requests == before


async def test_a_key_that_cannot_trade_is_403(gw: GatewayHarness) -> None:
    sim = sim_of(gw)
    headers = await gw.client()
    viewer = sim.new_credentials("ec", can_trade=False)
    resp = await authenticate(gw, headers, viewer.api_key, viewer.secret)
    assert (resp.status_code, resp.json()["errorType"]) == (403, "institutionPermissionDenied")
    assert resp.json()["content"] is None


async def test_a_pem_with_real_newlines_goes_base64_encoded(gw: GatewayHarness) -> None:
    """Mesh's isSensitiveFieldsEncrypted (Base64) carries the PEM byte for byte."""
    sim = sim_of(gw)
    headers = await gw.client()
    issued = sim.new_credentials("ec")
    body = {
        "type": "coinbase",
        "username": base64.b64encode(issued.api_key.encode()).decode(),
        "password": base64.b64encode(issued.secret.encode()).decode(),
        "isSensitiveFieldsEncrypted": True,
    }
    resp = await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})
    assert resp.status_code == 200, resp.text
    token = resp.json()["content"]["accountTokens"][0]["accessToken"]
    assert gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.coinbase, token).secret == issued.secret
