"""`POST /api/v1/token/refresh` for brokers whose sessions expire, through the gateway against their simulators:
Robinhood's login (refresh grant: a new bearer and refresh token sealed), E*TRADE (Renew Access Token; a token past
midnight Eastern is a 401 "reconnect"), Public (the secret exchanged for a fresh access token, cached)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.venues.etrade.simulator import ETradeSimulator
from ordergate.venues.public.simulator import PublicSimulator
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

REFRESH = "/api/v1/token/refresh"
AUTH = "/api/v1/authenticate"
CANCEL = "/api/v1/transactions/cancel"


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def venues() -> Iterator[dict[str, tuple[object, str]]]:
    clock = Clock()
    robinhood, etrade, public = RobinhoodSimulator(clock=clock), ETradeSimulator(), PublicSimulator()
    with serve_asgi(robinhood.app) as rh, serve_asgi(etrade.app) as et, serve_asgi(public.app) as pb:
        yield {"robinhood": (robinhood, rh), "eTrade": (etrade, et), "public": (public, pb), "clock": (clock, "")}


@pytest.fixture
async def gw(tmp_path: Path, venues: dict[str, tuple[object, str]]) -> Iterator[GatewayHarness]:
    urls = {IntegrationType(kind): url for kind, (_, url) in venues.items() if kind != "clock"}
    sim, url = venues["robinhood"]
    async with gateway_harness(tmp_path, sim, url, base_urls=urls) as harness:  # type: ignore[arg-type]
        yield harness  # type: ignore[misc]


def _seal(gw: GatewayHarness, headers: dict[str, str], creds: Credentials) -> str:
    return gw.gateway.sealer.seal(headers["X-Client-Id"], creds)


def _open(gw: GatewayHarness, headers: dict[str, str], kind: IntegrationType, token: str) -> Credentials:
    return gw.gateway.sealer.open(headers["X-Client-Id"], kind, token)


async def _refresh(gw: GatewayHarness, headers: dict[str, str], kind: str, token: str):  # noqa: ANN202
    return await gw.http.post(REFRESH, json={"type": kind, "refreshToken": token}, headers=headers)


async def test_robinhood_login_tokens_expire_and_refresh_to_a_new_session_of_the_same_account(
    gw: GatewayHarness, venues: dict[str, tuple[object, str]]
) -> None:
    sim: RobinhoodSimulator = venues["robinhood"][0]  # type: ignore[assignment]
    clock: Clock = venues["clock"][0]  # type: ignore[assignment]
    headers = await gw.client()
    username = f"ref-{uuid.uuid4().hex[:6]}@example.com"
    login = sim.equities.add_login(username, "pw-secret-1", verification=None, accounts=2)
    done = await gw.http.post(AUTH, json={"type": "robinhood", "username": username, "password": "pw-secret-1"},
                              headers=headers, params={"userId": "u1"})  # fmt: skip
    content = done.json()["content"]
    assert content["expiresInSeconds"] == 86400
    second = content["accountTokens"][1]
    assert second["refreshToken"] == second["accessToken"]  # the authToken is its own refresh token
    before = _open(gw, headers, IntegrationType.robinhood, second["accessToken"])

    resp = await _refresh(gw, headers, "robinhood", second["refreshToken"])
    assert resp.status_code == 200, resp.text
    body = resp.json()["content"]
    assert body["status"] == "succeeded" and body["expiresInSeconds"] == 86400
    [renewed_tokens] = body["brokerAccountTokens"]
    after = _open(gw, headers, IntegrationType.robinhood, renewed_tokens["accessToken"])
    assert (after.api_key, after.secret) != (before.api_key, before.secret)  # a new bearer and refresh token
    assert after.extras == before.extras and after.extras["account_number"] == login.accounts[1]
    assert sim.equities.sessions[before.api_key].revoked  # Robinhood spent the old refresh token

    # The new token cancels an order of the same account, also once its bearer expired (refreshed on the way).
    order = sim.equities.place_for(login.accounts[1])
    clock.now += 86400 + 1
    cancel = await gw.http.post(CANCEL, json={"type": "robinhood", "authToken": renewed_tokens["accessToken"],
                                              "id": order, "isCryptocurrency": False}, headers=headers)  # fmt: skip
    assert cancel.status_code == 200, cancel.text

    # A session revoked at Robinhood (password change) cannot be refreshed: reconnect.
    sim.equities.revoke(after.api_key)
    for session in list(sim.equities.sessions.values()):
        if session.username == username:
            session.revoked = True
    refused = await _refresh(gw, headers, "robinhood", renewed_tokens["accessToken"])
    assert refused.status_code == 401 and refused.json()["errorType"] == "institutionAuthFailed"
    assert "reconnect" in refused.json()["message"]


async def test_robinhood_crypto_keys_do_not_expire(gw: GatewayHarness, venues: dict[str, tuple[object, str]]) -> None:
    sim: RobinhoodSimulator = venues["robinhood"][0]  # type: ignore[assignment]
    headers = await gw.client()
    key = sim.new_account()
    creds = Credentials(IntegrationType.robinhood, key.api_key, key.secret, extras=dict(key.extras))
    resp = await _refresh(gw, headers, "robinhood", _seal(gw, headers, creds))
    body = resp.json()["content"]
    assert body["expiresInSeconds"] is None
    assert _open(gw, headers, IntegrationType.robinhood, body["brokerAccountTokens"][0]["accessToken"]) == creds


async def test_etrade_renews_an_idle_token_and_an_expired_one_asks_to_reconnect(
    gw: GatewayHarness, venues: dict[str, tuple[object, str]]
) -> None:
    sim: ETradeSimulator = venues["eTrade"][0]  # type: ignore[assignment]
    headers = await gw.client()
    account = sim.new_account()
    creds = Credentials(IntegrationType.eTrade, account.api_key, account.secret, account.passphrase,
                        dict(account.extras))  # fmt: skip
    token = _seal(gw, headers, creds)
    sim.idle(account.api_key)
    resp = await _refresh(gw, headers, "eTrade", token)
    assert resp.status_code == 200, resp.text
    body = resp.json()["content"]
    assert sim.token_state(account.api_key) == "active" and sim.count(account.api_key, "renew") == 1
    assert 0 < body["expiresInSeconds"] <= 86400
    assert _open(gw, headers, IntegrationType.eTrade, body["brokerAccountTokens"][0]["accessToken"]) == creds

    sim.expire(account.api_key)
    refused = await _refresh(gw, headers, "eTrade", token)
    assert refused.status_code == 401 and refused.json()["errorType"] == "institutionAuthFailed"
    assert "reconnect" in refused.json()["displayMessage"].lower()


async def test_public_refresh_exchanges_the_secret_and_warms_the_cache(
    gw: GatewayHarness, venues: dict[str, tuple[object, str]]
) -> None:
    sim: PublicSimulator = venues["public"][0]  # type: ignore[assignment]
    headers = await gw.client()
    account = sim.new_account()
    creds = Credentials(IntegrationType.public, account.api_key, account.secret, extras=dict(account.extras))
    token = _seal(gw, headers, creds)
    exchanges = sim.total_requests
    resp = await _refresh(gw, headers, "public", token)
    assert resp.status_code == 200, resp.text
    assert sim.total_requests - exchanges == 1  # one token exchange
    renewed = resp.json()["content"]["brokerAccountTokens"][0]["accessToken"]
    assert _open(gw, headers, IntegrationType.public, renewed) == creds
    order, extra = sim.place(account)
    before = sim.total_requests
    cancel = await gw.http.post(CANCEL, json={"type": "public", "authToken": renewed, "id": order, **extra},
                                headers=headers)  # fmt: skip
    assert cancel.status_code == 200, cancel.text
    assert sim.total_requests - before == 1  # the warmed access token: no exchange before the cancel

    wrong = Credentials(IntegrationType.public, account.api_key, "not-the-secret-" + uuid.uuid4().hex,
                        extras=dict(account.extras))  # fmt: skip
    refused = await _refresh(gw, headers, "public", _seal(gw, headers, wrong))
    assert refused.status_code == 401 and refused.json()["errorType"] == "institutionAuthFailed"
