"""`POST /api/v1/authenticate`: credentials verified with the venue, then sealed; nothing stored on rejection."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.conftest import GatewayHarness, gateway_harness

AUTH = "/api/v1/authenticate"


async def _auth(gw: GatewayHarness, headers: dict, body: dict, user_id: str | None = "user-1"):
    params = {"userId": user_id} if user_id is not None else {}
    return await gw.http.post(AUTH, json=body, headers=headers, params=params)


async def test_connect_then_cancel_with_the_returned_token(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account()
    resp = await _auth(gw, headers, {"type": "kraken", "username": key, "password": secret})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ok" and body["errorType"] == ""
    content = body["content"]
    assert content["status"] == "succeeded"
    token = content["accountTokens"][0]["accessToken"]
    assert key not in resp.text and secret not in resp.text
    assert content["accountTokens"][0]["account"]["accountId"]
    # One cheap authenticated call at the venue, and nothing else.
    assert sum(n for (k, _), n in gw.sim.requests.items() if k == key) == 1
    txid = gw.sim.place_order(key)
    cancel = await gw.cancel(headers, authToken=token, type="kraken", id=txid, isCryptocurrency=True)
    assert cancel.json()["content"]["status"] == "cancelled"


async def test_rejected_credentials_are_401_and_return_no_token(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, _ = gw.account()
    resp = await _auth(gw, headers, {"type": "kraken", "username": key, "password": "d3Jvbmc="})
    assert resp.status_code == 401
    body = resp.json()
    assert body["errorType"] == "institutionAuthFailed" and body["content"] is None
    row = (await gw.gateway.audit.tail(1))[0]
    assert (row.endpoint, row.error_type) == ("authenticate", "institutionAuthFailed")


async def test_2fa_key_asks_for_the_code_then_seals_it_as_required(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account(otp="112233")
    first = await _auth(gw, headers, {"type": "kraken", "username": key, "password": secret})
    assert first.status_code == 200
    assert first.json()["content"]["status"] == "mfaRequired"
    assert first.json()["content"]["accountTokens"] is None
    wrong = await _auth(gw, headers, {"type": "kraken", "username": key, "password": secret, "mfaCode": "1"})
    assert wrong.json()["errorType"] == "mfaInvalid"
    ok = await _auth(gw, headers, {"type": "kraken", "username": key, "password": secret, "mfaCode": "112233"})
    token = ok.json()["content"]["accountTokens"][0]["accessToken"]
    txid = gw.sim.place_order(key)
    # The token remembers that this key needs a code: no upstream call without one.
    resp = await gw.cancel(headers, authToken=token, type="kraken", id=txid, isCryptocurrency=True)
    assert resp.json()["errorType"] == "mfaRequired"
    resp = await gw.cancel(headers, authToken=token, type="kraken", id=txid, isCryptocurrency=True, mfaCode="112233")
    assert resp.json()["content"]["status"] == "cancelled"


async def test_base64_sensitive_fields(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account()

    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    resp = await _auth(
        gw,
        headers,
        {"type": "kraken", "username": b64(key), "password": b64(secret), "isSensitiveFieldsEncrypted": True},
    )
    assert resp.json()["content"]["status"] == "succeeded"
    bad = await _auth(
        gw, headers, {"type": "kraken", "username": "%%%", "password": "x", "isSensitiveFieldsEncrypted": True}
    )
    assert bad.status_code == 400 and bad.json()["errorData"]["fields"] == {"username": "not Base64"}


async def test_validation_and_unsupported(gw: GatewayHarness) -> None:
    headers = await gw.client()
    resp = await _auth(gw, headers, {"type": "kraken", "username": "k", "password": "s"}, user_id=None)
    assert resp.status_code == 400 and resp.json()["errorData"]["fields"] == {"userId": "required"}
    resp = await _auth(gw, headers, {"type": "kraken", "username": "k", "password": "s"}, user_id="u" * 51)
    assert resp.status_code == 400 and resp.json()["errorType"] == "invalidField"
    resp = await _auth(gw, headers, {"type": "kraken"})
    assert resp.json()["errorType"] == "missingField"
    assert set(resp.json()["errorData"]["fields"]) == {"username", "password"}
    resp = await _auth(gw, headers, {"type": "paxos", "username": "k", "password": "s"})
    assert resp.status_code == 400 and resp.json()["errorType"] == "authenticationNotSupported"
    resp = await _auth(gw, {}, {"type": "kraken", "username": "k", "password": "s"})
    assert resp.status_code == 401 and resp.json()["errorType"] == "invalidClientCredentials"


async def test_an_unreachable_venue_is_a_502_not_an_internal_error(
    tmp_path: Path, kraken: tuple[KrakenSimulator, str]
) -> None:
    """Found by schemathesis: a venue that cannot be reached during connect was an unhandled error (500)."""
    sim, url = kraken
    closed = f"http://127.0.0.1:{_closed_port()}"
    async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.kraken: closed}) as gw:
        headers = await gw.client()
        resp = await _auth(gw, headers, {"type": "kraken", "username": "k", "password": "c2VjcmV0"})
        assert resp.status_code == 502, resp.text
        assert resp.json()["errorType"] == "institutionUnavailable"
        assert "accountTokens" not in resp.text or resp.json()["content"] is None
        row = (await gw.gateway.audit.tail(1))[0]
        assert (row.endpoint, row.error_type) == ("authenticate", "institutionUnavailable")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there
