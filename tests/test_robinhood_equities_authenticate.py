"""`POST /api/v1/authenticate` for Robinhood's equities half: a login, the verification code Robinhood asks for
(today's pathfinder workflow, the older challenge, an authenticator app), a token that holds the bearer and refresh
tokens but never the password, one token per brokerage account; then cancels and look-ups, an expired bearer
refreshed once, and a refused refresh answered 401 with "reconnect"."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
CANCEL = "/api/v1/transactions/cancel"
KIND = "robinhood"
DAY = 86400


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def robinhood() -> Iterator[tuple[RobinhoodSimulator, str, Clock]]:
    clock = Clock()
    sim = RobinhoodSimulator(clock=clock)
    with serve_asgi(sim.app) as url:
        yield sim, url, clock


@pytest.fixture
async def gw(tmp_path: Path, robinhood: tuple[RobinhoodSimulator, str, Clock]) -> AsyncIterator[GatewayHarness]:
    sim, url, _ = robinhood
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.robinhood: url}) as harness:  # type: ignore[arg-type]
        yield harness


async def _auth(gw: GatewayHarness, headers: dict[str, str], **fields: str):
    return await gw.http.post(AUTH, json={"type": KIND, **fields}, headers=headers, params={"userId": "user-1"})


async def _login(gw: GatewayHarness, headers: dict[str, str], sim: RobinhoodSimulator, username: str, password: str):
    first = await _auth(gw, headers, username=username, password=password)
    assert first.status_code == 200, first.text
    content = first.json()["content"]
    assert content["status"] == "mfaRequired" and content["accountTokens"] is None, content
    code = sim.equities.sent_codes[username]
    second = await _auth(
        gw, headers, username=username, password=password, mfaCode=code, challengeId=content["challengeId"]
    )
    assert second.status_code == 200, second.text
    return content, second.json()["content"]


@pytest.mark.parametrize("channel", ["sms", "email"])
async def test_workflow_login_with_a_code_then_cancel_and_look_up(
    gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str, Clock], channel: str
) -> None:
    sim = robinhood[0]
    headers = await gw.client()
    username, password = f"ann-{channel}@example.com", "correct horse battery"
    login = sim.equities.add_login(username, password, verification="workflow", channel=channel, accounts=2)
    asked, done = await _login(gw, headers, sim, username, password)
    assert asked["mfaType"] == channel and channel in asked["challengeText"]
    assert password not in asked["challengeId"] and username not in asked["challengeId"]
    assert done["status"] == "succeeded"
    tokens = done["accountTokens"]
    assert [t["account"]["accountId"] for t in tokens] == login.accounts  # one token per brokerage account
    # The workflow: token (403 verification_workflow), user_machine, user_view, respond, user_view continue, token.
    assert sim.count(username, "token") == 2
    assert password not in repr(done)
    opened = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.robinhood, tokens[1]["accessToken"])
    assert opened.extras["kind"] == "equities" and opened.extras["account_number"] == login.accounts[1]
    assert opened.api_key in sim.equities.sessions and opened.secret == sim.equities.sessions[opened.api_key].refresh
    assert password not in (opened.api_key, opened.secret, str(opened.extras))

    oid = sim.equities.place_for(login.accounts[0], quantity="3", price="12.5")
    sim.fill(oid, "1")
    body = {"authToken": tokens[0]["accessToken"], "type": KIND, "id": oid, "isCryptocurrency": False}
    before = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (before["status"], before["amount"], before["price"]) == ("partiallyFilled", 1.0, 12.5)
    cancel = await gw.http.post(CANCEL, json=body, headers=headers)
    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["content"] == {"orderId": oid, "status": "inProgress"}
    assert sim.count(opened.api_key, "equities_cancel") == 1
    after = (await gw.http.post(DETAILS, json=body, headers=headers)).json()["content"]
    assert (after["status"], after["amount"]) == ("cancelled", 1.0)
    again = await gw.http.post(CANCEL, json=body, headers=headers)
    assert (again.status_code, again.json()["errorData"]["orderStatus"]) == (409, "cancelled")
    crypto = await gw.http.post(CANCEL, json={**body, "isCryptocurrency": True}, headers=headers)
    assert (crypto.status_code, crypto.json()["errorType"]) == (400, "invalidField")


async def test_an_approved_device_needs_no_code_and_a_wrong_code_can_be_retried(
    gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str, Clock]
) -> None:
    sim = robinhood[0]
    headers = await gw.client()
    sim.equities.add_login("bo@example.com", "pw-bo-123", verification="workflow")
    first = (await _auth(gw, headers, username="bo@example.com", password="pw-bo-123")).json()["content"]
    code = sim.equities.sent_codes["bo@example.com"]
    wrong = "000000" if code != "000000" else "111111"
    common = {"username": "bo@example.com", "password": "pw-bo-123", "challengeId": first["challengeId"]}
    refused = await _auth(gw, headers, **common, mfaCode=wrong)
    assert refused.json()["errorType"] == "mfaInvalid" and "2 attempts left" in refused.json()["message"]
    missing = await _auth(gw, headers, **common)
    assert (missing.status_code, missing.json()["errorData"]["fields"]) == (
        400,
        {"mfaCode": "required with this challengeId"},
    )
    done = await _auth(gw, headers, **common, mfaCode=code)
    assert done.json()["content"]["status"] == "succeeded", done.text


async def test_older_challenge_and_authenticator_app_flows(
    gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str, Clock]
) -> None:
    sim = robinhood[0]
    headers = await gw.client()
    sim.equities.add_login("cy@example.com", "pw-cy-123", verification="challenge", channel="sms")
    asked, done = await _login(gw, headers, sim, "cy@example.com", "pw-cy-123")
    assert asked["mfaType"] == "sms" and done["status"] == "succeeded"
    (challenge,) = [c for c in sim.equities.challenges.values() if c.username == "cy@example.com"]
    assert challenge.status == "validated" and sim.count(challenge.id, "respond") == 1
    sim.equities.add_login("di@example.com", "pw-di-123", verification="mfa", code="424242")
    first = (await _auth(gw, headers, username="di@example.com", password="pw-di-123")).json()["content"]
    assert (first["status"], first["mfaType"]) == ("mfaRequired", "totp")
    done = await _auth(gw, headers, username="di@example.com", password="pw-di-123", mfaCode="424242",
                       challengeId=first["challengeId"])  # fmt: skip
    assert done.json()["content"]["status"] == "succeeded", done.text


async def test_wrong_password_and_forged_challenge(
    gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str, Clock]
) -> None:
    sim = robinhood[0]
    headers = await gw.client()
    sim.equities.add_login("ed@example.com", "pw-ed-123")
    resp = await _auth(gw, headers, username="ed@example.com", password="not-it-999")
    assert (resp.status_code, resp.json()["errorType"]) == (401, "institutionAuthFailed")
    assert "not-it-999" not in resp.text
    resp = await _auth(gw, headers, username="ed@example.com", password="pw-ed-123", mfaCode="1", challengeId="x")
    assert (resp.status_code, resp.json()["errorType"]) == (400, "invalidField")
    resp = await _auth(gw, headers, username="ed@example.com")
    assert (resp.status_code, resp.json()["errorData"]["fields"]) == (400, {"password": "required"})


async def test_an_expired_bearer_is_refreshed_once_and_a_refused_refresh_says_reconnect(
    gw: GatewayHarness, robinhood: tuple[RobinhoodSimulator, str, Clock]
) -> None:
    sim, _, clock = robinhood
    headers = await gw.client()
    sim.equities.add_login("fay@example.com", "pw-fay-123", verification=None)
    done = (await _auth(gw, headers, username="fay@example.com", password="pw-fay-123")).json()["content"]
    token = done["accountTokens"][0]["accessToken"]
    sealed = gw.gateway.sealer.open(headers["X-Client-Id"], IntegrationType.robinhood, token)
    account = done["accountTokens"][0]["account"]["accountId"]
    first, second = (sim.equities.place_for(account) for _ in range(2))
    clock.now += DAY + 1  # the bearer in the authToken has expired
    body = {"authToken": token, "type": KIND, "id": first, "isCryptocurrency": False}
    resp = await gw.http.post(CANCEL, json=body, headers=headers)
    assert resp.status_code == 200, resp.text
    assert sim.count(sealed.api_key, "equities_cancel") == 1  # refused (401), then refreshed and sent again
    assert sim.count(sealed.secret, "token") == 1
    assert sim.status(first).value == "cancelled"
    refreshed = [s for s in sim.equities.sessions.values() if s.username == "fay@example.com" and not s.revoked]
    assert len(refreshed) == 1 and sim.count(refreshed[0].access, "equities_cancel") == 1
    # The refreshed bearer is remembered: the next request on the same authToken goes straight out with it.
    resp = await gw.http.post(CANCEL, json={**body, "id": second}, headers=headers)
    assert resp.status_code == 200 and sim.count(refreshed[0].access, "equities_cancel") == 2
    assert sim.count(sealed.api_key, "equities_cancel") == 1 and sim.count(sealed.secret, "token") == 1
    # The user logs out everywhere: the refreshed session dies too, and the refresh is refused.
    sim.equities.revoke(refreshed[0].access)
    third = sim.equities.place_for(account)
    resp = await gw.http.post(CANCEL, json={**body, "id": third}, headers=headers)
    assert (resp.status_code, resp.json()["errorType"]) == (401, "institutionAuthFailed")
    assert "reconnect" in resp.json()["message"]
    assert sim.status(third).value == "inProgress"
