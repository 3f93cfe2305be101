"""Robinhood Crypto Trading API signing against the docs' published vector and an independent signer (PyNaCl, as
the docs' sample client and the `hood` client use; ordergate signs with `cryptography`)."""

from __future__ import annotations

import base64
import secrets

import nacl.signing
import pytest
from hood.crypto_trading.auth import Credential
from hood.crypto_trading.constants import RequestMethod

from ordergate.venues.robinhood.auth import BadPrivateKey, headers, public_key, sign

# docs.robinhood.com/crypto/trading "Example Signature".
SEED = "xQnTJVeQLmw1/Mg2YimEViSpw/SdJcgNXZ5kQkAXNPU="
PUBLIC = "jPItx4TLjcnSUnmnXQQyAKL4eJj3+oWNNMmmm2vATqk="
KEY = "rh-api-6148effc-c0b1-486c-8940-a1d099456be6"
STAMP = 1698708981
DOCS_SIGNATURE = "q/nEtxp/P2Or3hph3KejBqnw5o9qeuQ+hYRnB56FaHbjDsNUY9KhB1asMxohDnzdVFSD7StaTqjSd9U9HvaRAw=="
# The docs' code example signs `str()` of its dict (single quotes), not the JSON its table shows; so does this.
DOCS_BODY = str(
    {
        "client_order_id": "131de903-5a9c-4260-abc1-28d562a5dcf0",
        "side": "buy",
        "symbol": "BTC-USD",
        "type": "market",
        "market_order_config": {"asset_quantity": "0.1"},
    }
)
CANCEL_PATH = "/api/v1/crypto/trading/orders/cc9c89d6-dea4-4dab-8354-0994e1cd080a/cancel/"
# broker-venues.md: the same key and timestamp over the cancel (no body).
CANCEL_SIGNATURE = "UzcN6zIHl06LfQU7fD8JA7nVL4+exWVribQ4nFkMjZoZ9H7MA/kB5RBkeP0m3+QBvL5izoqTszk2juoPQajPBA=="


def test_docs_vector() -> None:
    assert sign(KEY, SEED, STAMP, "/api/v1/crypto/trading/orders/", "POST", DOCS_BODY) == DOCS_SIGNATURE
    assert base64.b64encode(public_key(SEED)).decode() == PUBLIC


def test_cancel_vector_and_headers() -> None:
    assert headers(KEY, SEED, STAMP, CANCEL_PATH, "POST") == {
        "x-api-key": KEY,
        "x-timestamp": str(STAMP),
        "x-signature": CANCEL_SIGNATURE,
        "Content-Type": "application/json; charset=utf-8",
    }


@pytest.mark.parametrize(("method", "path"), [("POST", CANCEL_PATH), ("GET", "/api/v1/crypto/trading/accounts/")])
def test_hood_signs_identically(method: str, path: str) -> None:
    seed = base64.b64encode(secrets.token_bytes(32)).decode()
    theirs = Credential(KEY, base64.b64decode(seed)).sign_message(path, "", STAMP, RequestMethod[method])
    assert sign(KEY, seed, STAMP, path, method) == theirs
    verify = nacl.signing.VerifyKey(public_key(seed))
    verify.verify(f"{KEY}{STAMP}{path}{method}".encode(), base64.b64decode(theirs))


def test_a_tweetnacl_secret_key_signs_with_its_seed() -> None:
    """The docs' Node.js example prints tweetnacl's 64-byte secretKey (seed + public key)."""
    signing = nacl.signing.SigningKey(base64.b64decode(SEED))
    secret64 = base64.b64encode(bytes(signing) + bytes(signing.verify_key)).decode()
    assert sign(KEY, secret64, STAMP, CANCEL_PATH, "POST") == CANCEL_SIGNATURE


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_a_private_key_that_is_no_seed_is_refused(bad: str) -> None:
    with pytest.raises(BadPrivateKey):
        sign(KEY, bad, STAMP, CANCEL_PATH, "POST")
