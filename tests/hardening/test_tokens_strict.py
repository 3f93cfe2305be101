"""Issue 11: an authToken opens only in the exact spelling it was sealed in, and every token ordergate can hand
out fits the request models."""

from __future__ import annotations

import pytest

from ordergate.api.models import TransactionsB2BBrokerOrderRequest, TransactionsBrokerBaseRequest
from ordergate.api.parsing import validate
from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.tokens import (
    MAX_TOKEN_CHARS,
    InvalidToken,
    TokenSealer,
    TokenTooLarge,
    generate_key_spec,
    parse_token_keys,
)
from tests.conftest import GatewayHarness

SEALER = TokenSealer(parse_token_keys(generate_key_spec("t1")))
CREDS = Credentials(IntegrationType.kraken, "key", "secret")


def _token() -> str:
    return SEALER.seal("client", CREDS)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: t + "$",
        lambda t: t[:20] + " " + t[20:],
        lambda t: t + "===",
        lambda t: t + "=",
        lambda t: t[:20] + "\n" + t[20:],
        lambda t: t.replace("-", "+").replace("_", "/") if ("-" in t or "_" in t) else t + "+",
        lambda t: t + "A",  # one stray character: a length no base64 text has
    ],
)
def test_non_alphabet_and_padding_do_not_open(spoil) -> None:  # type: ignore[no-untyped-def]
    token = _token()
    assert SEALER.open("client", IntegrationType.kraken, token).secret == "secret"
    with pytest.raises(InvalidToken):
        SEALER.open("client", IntegrationType.kraken, spoil(token))


def test_non_canonical_padding_bits_do_not_open() -> None:
    token = _token()
    body = token.rsplit(".", 1)[1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(body) % 4 == 0:
        pytest.skip("no padding bits in this length")
    last = alphabet.index(body[-1])
    twin = body[:-1] + alphabet[last ^ 1]  # same bytes once the unused low bits are dropped
    with pytest.raises(InvalidToken):
        SEALER.open("client", IntegrationType.kraken, token[: -len(body)] + twin)


async def test_spoiled_tokens_are_401_at_the_gateway(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account()
    token = gw.seal(headers, key, secret)
    for spoiled in (token + "$", token + "===", token[:30] + " " + token[30:]):
        resp = await gw.cancel(
            headers, authToken=spoiled, type="kraken", id="OABCDE-FGHIJ-KLMNOP", isCryptocurrency=True
        )
        assert resp.status_code == 401 and resp.json()["errorType"] == "invalidAuthToken", resp.text


def test_the_longest_credentials_authenticate_accepts_seal_into_a_token_cancel_accepts() -> None:
    # authenticate's limits: username/passphrase 4096 characters, password (a PEM file) 8192.
    pem = "-----BEGIN EC PRIVATE KEY-----\n" + "A" * 8100 + "\n-----END EC PRIVATE KEY-----"
    creds = Credentials(IntegrationType.coinbase, "k" * 4096, pem[:8192], passphrase="p" * 4096, extras={"x": 1})
    token = SEALER.seal("client", creds)
    assert 4096 < len(token) <= MAX_TOKEN_CHARS
    for model, extra in (
        (TransactionsB2BBrokerOrderRequest, {"id": "1", "isCryptocurrency": True}),
        (TransactionsBrokerBaseRequest, {}),
    ):
        validate(model, {"authToken": token, "type": "coinbase", **extra})
    with pytest.raises(GatewayError):
        validate(TransactionsBrokerBaseRequest, {"authToken": "t" * (MAX_TOKEN_CHARS + 1), "type": "coinbase"})
    with pytest.raises(TokenTooLarge):
        SEALER.seal("client", Credentials(IntegrationType.coinbase, "ключ" * 1024, "é" * 8192, passphrase="ü" * 4096))
