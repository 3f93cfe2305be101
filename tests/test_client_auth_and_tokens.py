"""API client credentials, scopes, and authToken sealing: tamper, replay, cross-type, key rotation."""

from __future__ import annotations

import base64
from pathlib import Path

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.store.clients import Scope
from ordergate.tokens import TokenSealer, generate_key_spec, parse_token_keys
from tests.conftest import GatewayHarness, gateway_harness


def _order(gw: GatewayHarness, key: str) -> str:
    return gw.sim.place_order(key, pair="XBTUSD", side="buy", volume="1", price="100")


def _body(token: str, txid: str, integration: str = "kraken") -> dict:
    return {"authToken": token, "type": integration, "id": txid, "isCryptocurrency": True}


async def test_missing_and_wrong_client_credentials(gw: GatewayHarness) -> None:
    headers = await gw.client()
    for bad in (
        {},
        {"X-Client-Id": headers["X-Client-Id"]},
        {**headers, "X-Client-Secret": headers["X-Client-Secret"] + "x"},
        {**headers, "X-Client-Id": "00000000-0000-0000-0000-000000000000"},
        {**headers, "X-Client-Secret": "x" * 10_000},
    ):
        resp = await gw.cancel(bad, **_body("t", "o"))
        assert resp.status_code == 401
        assert resp.json()["status"] == "permissionDenied"
        assert resp.json()["errorType"] == "invalidClientCredentials"


async def test_disabled_client_is_rejected(gw: GatewayHarness) -> None:
    headers = await gw.client()
    await gw.gateway.clients.set_disabled(headers["X-Client-Id"])
    resp = await gw.cancel(headers, **_body("t", "o"))
    assert resp.json()["errorType"] == "invalidClientCredentials"


async def test_read_only_client_cannot_cancel(gw: GatewayHarness) -> None:
    headers = await gw.client(frozenset({Scope.read}))
    resp = await gw.cancel(headers, **_body("t", "o"))
    assert resp.status_code == 403
    assert resp.json()["errorType"] == "insufficientScope"


async def test_token_roundtrip_and_every_tamper_fails() -> None:
    sealer = TokenSealer(parse_token_keys(generate_key_spec("a")))
    creds = Credentials(IntegrationType.kraken, "key", "c2VjcmV0", extras={"otp": True})
    token = sealer.seal("client-1", creds)
    opened = sealer.open("client-1", IntegrationType.kraken, token)
    assert (opened.api_key, opened.secret, opened.extras) == ("key", "c2VjcmV0", {"otp": True})
    assert "key" not in token and "c2VjcmV0" not in token
    prefix, kid, blob = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    for i in range(len(raw)):
        for bit in (0, 7):
            flipped = bytearray(raw)
            flipped[i] ^= 1 << bit
            bad = f"{prefix}.{kid}." + base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
            try:
                sealer.open("client-1", IntegrationType.kraken, bad)
            except Exception as exc:  # noqa: BLE001
                assert type(exc).__name__ == "InvalidToken"
            else:
                raise AssertionError(f"bit flip at byte {i} opened")


async def test_token_of_another_client_or_type_or_tampered_is_401(gw: GatewayHarness) -> None:
    alice, bob = await gw.client(), await gw.client()
    key, secret = gw.account()
    token = gw.seal(alice, key, secret)
    txid = _order(gw, key)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    for headers, body in (
        (bob, _body(token, txid)),
        (alice, _body(token, txid, "krakenDirect")),
        (alice, _body(tampered, txid)),
        (alice, _body("ogt1.t1.AAAA", txid)),
        (alice, _body("not-a-token", txid)),
    ):
        resp = await gw.cancel(headers, **body)
        assert resp.status_code == 401, resp.text
        assert resp.json()["errorType"] == "invalidAuthToken"
    assert gw.sim.order(txid)["status"] == "open"
    assert gw.sim.requests[(key, "CancelOrder")] == 0


async def test_key_rotation(tmp_path: Path, kraken) -> None:
    sim, url = kraken
    old, new = generate_key_spec("old"), generate_key_spec("new")
    async with gateway_harness(tmp_path / "a", sim, url, token_keys=old) as gw:
        headers = await gw.client()
        key, secret = gw.account()
        old_token = gw.seal(headers, key, secret)
        client_secret = headers
    # The new key seals, the old one still opens while listed.
    async with gateway_harness(tmp_path / "a", sim, url, token_keys=f"{new},{old}") as gw:
        assert gw.gateway.sealer.seal("c", Credentials(IntegrationType.kraken, "k", "s")).split(".")[1] == "new"
        resp = await gw.cancel(client_secret, **_body(old_token, _order(gw, key)))
        assert resp.status_code == 200, resp.text
    # Removed: the token no longer opens.
    async with gateway_harness(tmp_path / "a", sim, url, token_keys=new) as gw:
        resp = await gw.cancel(client_secret, **_body(old_token, _order(gw, key)))
        assert resp.status_code == 401
        assert resp.json()["errorType"] == "invalidAuthToken"


def test_connect_state_and_auth_tokens_never_stand_in_for_each_other() -> None:
    import pytest

    from ordergate.domain.integrations import IntegrationType
    from ordergate.domain.orders import Credentials
    from ordergate.tokens import InvalidToken, TokenSealer, generate_key_spec, parse_token_keys

    sealer = TokenSealer(parse_token_keys(generate_key_spec("t1")))
    state = {"requestToken": "rt", "requestSecret": "secret-of-the-request-token"}
    challenge = sealer.seal_state("client-a", IntegrationType.eTrade, state)
    assert sealer.open_state("client-a", IntegrationType.eTrade, challenge) == state
    assert "secret-of-the-request-token" not in challenge
    for client, integration in (("client-b", IntegrationType.eTrade), ("client-a", IntegrationType.kraken)):
        with pytest.raises(InvalidToken):
            sealer.open_state(client, integration, challenge)
    with pytest.raises(InvalidToken):  # a challengeId is no authToken ...
        sealer.open("client-a", IntegrationType.eTrade, "ogt1." + challenge.split(".", 1)[1])
    token = sealer.seal("client-a", Credentials(IntegrationType.eTrade, "k", "s"))
    with pytest.raises(InvalidToken):  # ... and an authToken is no challengeId
        sealer.open_state("client-a", IntegrationType.eTrade, "ogc1." + token.split(".", 1)[1])
