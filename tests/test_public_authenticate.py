"""`POST /api/v1/authenticate` for Public: the API secret is exchanged for an access token, the accounts are listed,
and one accountToken per brokerage account comes back; each cancels and reads orders of its own account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.public.simulator import PublicSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
CANCEL = "/api/v1/transactions/cancel"


@pytest.fixture(scope="module")
def public() -> Iterator[tuple[PublicSimulator, str]]:
    sim = PublicSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, public: tuple[PublicSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = public
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.public: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], secret: str, username: str | None = None):
    body = {"type": "public", "password": secret, **({"username": username} if username else {})}
    return await gw.http.post(AUTH, json=body, headers=headers, params={"userId": "user-1"})


async def test_one_token_per_account_each_cancelling_its_own_orders(
    gw: GatewayHarness, public: tuple[PublicSimulator, str]
) -> None:
    sim = public[0]
    headers = await gw.client()
    user = sim.new_account(accounts=2)
    numbers = sim.accounts_of(user)

    resp = await _auth(gw, headers, user.secret)
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    assert [t["account"]["accountId"] for t in content["accountTokens"]] == numbers
    assert user.secret not in resp.text
    assert sim.count(f"token:{numbers[0]}", "token") == 1 and sim.count(numbers[0], "accounts") == 1

    second = content["accountTokens"][1]["accessToken"]
    order_id, _ = sim.place(user)  # an order of the first account: the second account's token does not see it
    body = {"authToken": second, "type": "public", "id": order_id, "isCryptocurrency": False}
    assert (await gw.http.post(CANCEL, json=body, headers=headers)).json()["errorType"] == "orderNotFound"

    first = content["accountTokens"][0]["accessToken"]
    body["authToken"] = first
    before = sim.total_requests
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
    assert sim.total_requests - before == 1  # the access token from /authenticate is still cached
    details = await gw.http.post(DETAILS, json=body, headers=headers)
    assert details.status_code == 200, details.text
    assert (details.json()["content"]["status"], details.json()["content"]["statusDetails"]) == (
        "cancelled",
        "CANCELLED",
    )
    assert sim.count(f"token:{numbers[0]}", "token") == 1


async def test_username_picks_one_account(gw: GatewayHarness, public: tuple[PublicSimulator, str]) -> None:
    sim = public[0]
    headers = await gw.client()
    user = sim.new_account(accounts=2)
    numbers = sim.accounts_of(user)
    resp = await _auth(gw, headers, user.secret, numbers[1])
    assert resp.status_code == 200, resp.text
    assert [t["account"]["accountId"] for t in resp.json()["content"]["accountTokens"]] == [numbers[1]]
    resp = await _auth(gw, headers, user.secret, "5ZZ9999999")
    assert (resp.status_code, resp.json()["errorType"]) == (400, "invalidField")


async def test_rejected_secret_is_401_and_returns_no_token(
    gw: GatewayHarness, public: tuple[PublicSimulator, str]
) -> None:
    headers = await gw.client()
    wrong = "not-a-secret-Public-issued"
    resp = await _auth(gw, headers, wrong)
    assert resp.status_code == 401, resp.text
    assert (resp.json()["errorType"], resp.json()["content"]) == ("institutionAuthFailed", None)
    assert wrong not in resp.text
    resp = await gw.http.post(AUTH, json={"type": "public"}, headers=headers, params={"userId": "u"})
    assert (resp.status_code, resp.json()["errorType"]) == (400, "missingField")
