"""`/authenticate` for E*TRADE through the gateway: the three-legged OAuth flow in Mesh's two steps, an access
token in hand, the deployment's consumer key; then cancel and details with the account tokens it answered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.etrade.simulator import ETradeSimulator
from ordergate.venues.simkit import SimAccount
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ETradeSimulator, str]]:
    sim = ETradeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


async def test_three_legged_connect_then_cancel_and_details(tmp_path: Path, served) -> None:
    sim, url = served
    key, secret = sim.demo_consumer
    async with gateway_harness(tmp_path, None, url, base_urls={IntegrationType.eTrade: url}) as gw:  # type: ignore[arg-type]
        headers = await gw.client()
        params = {"userId": "user-1"}
        first = await gw.http.post(
            AUTH, json={"type": "eTrade", "username": key, "password": secret}, headers=headers, params=params
        )
        assert first.status_code == 200, first.text
        content = first.json()["content"]
        assert (content["status"], content["accountTokens"], content["challengeExpiresInSeconds"]) == (
            "challengeIssued",
            None,
            300,
        )
        assert secret not in first.text
        # the user opens the link, logs in, accepts, and reads the code off E*TRADE's page
        async with httpx.AsyncClient() as browser:
            page = await browser.get(content["redirectLink"])
        verifier = re.search(r'value="([A-Z0-9]+)"', page.text)[1]  # type: ignore[index]

        second = await gw.http.post(
            AUTH,
            json={"type": "eTrade", "challengeId": content["challengeId"], "challengeCode": verifier},
            headers=headers,
            params=params,
        )
        assert second.status_code == 200, second.text
        done = second.json()["content"]
        assert done["status"] == "succeeded" and 0 < done["expiresInSeconds"] <= 86400
        tokens = {t["account"]["accountId"]: t["accessToken"] for t in done["accountTokens"]}
        assert len(tokens) == 2 and secret not in second.text

        # each account token carries its own accountIdKey: place at one, cancel through its token
        listed = await gw.http.post(
            AUTH, json={"type": "eTrade", "challengeId": content["challengeId"], "challengeCode": verifier},
            headers=headers, params={"userId": "user-2"},
        )  # fmt: skip
        assert listed.json()["errorType"] == "institutionAuthFailed"  # a request token is good for one exchange
        account_key = sim.accounts_of(sim.demo_user)[0]
        order_id, _ = sim.place(SimAccount("", "", extras={"accountIdKey": account_key}))
        found = [t for t in tokens.values() if (await _details(gw, headers, t, order_id)).status_code == 200]
        assert len(found) == 1  # the other account's token does not see the order (404)
        token = found[0]
        cancel = await gw.cancel(headers, authToken=token, type="eTrade", id=order_id, isCryptocurrency=False)
        assert cancel.status_code == 200, cancel.text
        assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
        details = (await _details(gw, headers, token, order_id)).json()["content"]
        assert (details["status"], details["statusDetails"], details["symbol"]) == ("cancelled", "CANCELLED", "AAPL")


async def test_access_token_in_hand_with_the_deployments_consumer_key(tmp_path: Path, served) -> None:
    sim, url = served
    key, secret = sim.demo_consumer
    token, token_secret = sim.issue_access_token(key, sim.demo_user)
    async with gateway_harness(
        tmp_path,
        None,  # type: ignore[arg-type]
        url,
        base_urls={IntegrationType.eTrade: url},
        etrade_consumer_key=SecretStr(key),
        etrade_consumer_secret=SecretStr(secret),
    ) as gw:
        headers = await gw.client()
        resp = await gw.http.post(
            AUTH, json={"type": "eTrade", "authToken": f"{token}:{token_secret}"}, headers=headers,
            params={"userId": "u"},
        )  # fmt: skip
        assert resp.status_code == 200, resp.text
        assert len(resp.json()["content"]["accountTokens"]) == 2
        assert token not in resp.text and token_secret not in resp.text
        sim.expire(token)
        again = await gw.http.post(
            AUTH, json={"type": "eTrade", "authToken": f"{token}:{token_secret}"}, headers=headers,
            params={"userId": "u"},
        )  # fmt: skip
        assert again.status_code == 401 and again.json()["errorType"] == "institutionAuthFailed"
        assert "midnight US Eastern" in again.json()["message"] and token not in again.text


async def _details(gw, headers: dict[str, str], token: str, order_id: str) -> httpx.Response:
    body = {"authToken": token, "type": "eTrade", "id": order_id, "isCryptocurrency": False}
    return await gw.http.post(DETAILS, json=body, headers=headers)
