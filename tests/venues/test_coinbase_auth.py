"""Coinbase CDP JWTs: what ordergate builds verifies with PyJWT (an independent JOSE implementation) and carries
exactly the header and claims Coinbase documents; what the official SDK builds passes the simulator's verifier,
and the verifier refuses every way a token can be wrong."""

from __future__ import annotations

import base64
import re
import time

import jwt
import pytest
from coinbase import jwt_generator
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ordergate.venues.coinbase.auth import (
    EDDSA,
    ES256,
    JwtRejected,
    KeyFormatError,
    PublicKey,
    build_jwt,
    load_signing_key,
    request_uri,
    verify_jwt,
)

NAME = "organizations/5d6e7f80-0000-4000-8000-000000000001/apiKeys/0f1e2d3c-0000-4000-8000-000000000002"
CANCEL_URI = "POST api.coinbase.com/api/v3/brokerage/orders/batch_cancel"


def ec_pem() -> tuple[str, ec.EllipticCurvePublicKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return pem.decode(), key.public_key()


def ed_secret(length: int = 64) -> tuple[str, ed25519.Ed25519PublicKey]:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode((seed + public)[:length]).decode(), key.public_key()


def ed_pkcs8_pem() -> tuple[str, ed25519.Ed25519PublicKey]:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode(), key.public_key()


KEYS = {
    "EC P-256 PEM": (ec_pem, "ES256"),
    "Ed25519 base64 seed+public": (ed_secret, "EdDSA"),
    "Ed25519 base64 seed": (lambda: ed_secret(32), "EdDSA"),
    "Ed25519 PKCS8 PEM": (ed_pkcs8_pem, "EdDSA"),
}


@pytest.mark.parametrize("kind", list(KEYS))
def test_jwt_verifies_with_pyjwt_and_carries_the_documented_claims(kind: str) -> None:
    make, alg = KEYS[kind]
    secret, public = make()
    before = int(time.time())

    token = build_jwt(NAME, load_signing_key(secret), CANCEL_URI)

    claims = jwt.decode(token, public, algorithms=[alg], options={"require": ["exp", "nbf", "sub", "iss"]})
    assert set(claims) == {"sub", "iss", "nbf", "exp", "uri"}
    assert (claims["sub"], claims["iss"], claims["uri"]) == (NAME, "cdp", CANCEL_URI)
    assert before <= claims["nbf"] <= int(time.time()) and claims["exp"] == claims["nbf"] + 120
    header = jwt.get_unverified_header(token)
    assert set(header) == {"alg", "kid", "nonce", "typ"}
    assert (header["alg"], header["kid"], header["typ"]) == (alg, NAME, "JWT")
    assert re.fullmatch(r"[0-9a-f]{64}", header["nonce"])
    assert jwt.get_unverified_header(build_jwt(NAME, load_signing_key(secret), CANCEL_URI))["nonce"] != header["nonce"]


def test_es256_signature_is_raw_r_and_s_not_der() -> None:
    secret, _ = ec_pem()
    signature = build_jwt(NAME, load_signing_key(secret), CANCEL_URI).split(".")[2]
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64


@pytest.mark.parametrize("newline", ["\\n", "", " "], ids=["escaped as in the key file", "removed", "spaces"])
def test_a_pem_whose_newlines_were_escaped_or_lost_still_loads(newline: str) -> None:
    secret, public = ec_pem()
    token = build_jwt(NAME, load_signing_key(secret.replace("\n", newline)), CANCEL_URI)
    assert jwt.decode(token, public, algorithms=["ES256"])["sub"] == NAME


@pytest.mark.parametrize(
    "secret",
    [
        "not a key",
        base64.b64encode(b"x" * 48).decode(),  # base64, but not an Ed25519 length
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode(),
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode(),
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
    ],
    ids=["garbage", "base64 48 bytes", "EC P-384", "RSA", "broken PEM"],
)
def test_other_secrets_are_refused_without_echoing_them(secret: str) -> None:
    with pytest.raises(KeyFormatError) as caught:
        load_signing_key(secret)
    assert secret.strip() not in str(caught.value)


@pytest.mark.parametrize(
    ("method", "url", "uri"),
    [
        ("POST", "https://api.coinbase.com/api/v3/brokerage/orders/batch_cancel", CANCEL_URI),
        ("post", "https://api.coinbase.com:443/api/v3/brokerage/orders/batch_cancel", CANCEL_URI),
        ("GET", "http://127.0.0.1:8443/api/v3/brokerage/key_permissions", "GET 127.0.0.1:8443/api/v3/brokerage/"
         "key_permissions"),
        ("GET", "https://proxy.example:9000/cb/api/v3/x?limit=1", "GET proxy.example:9000/cb/api/v3/x"),
        ("GET", "http://[::1]:8080/v2/user", "GET [::1]:8080/v2/user"),
    ],
)  # fmt: skip
def test_uri_names_the_host_as_the_host_header_does_and_the_path_without_query(method: str, url: str, uri: str) -> None:
    assert request_uri(method, url) == uri


def _registry(kid: str, alg: str, public: PublicKey):
    return lambda asked: (alg, public) if asked == kid else None


def test_the_official_sdks_jwts_pass_the_verifier_for_both_key_kinds() -> None:
    for make, alg in ((ec_pem, ES256), (ed_secret, EDDSA)):
        secret, public = make()
        token = jwt_generator.build_rest_jwt(CANCEL_URI, NAME, secret)
        verified = verify_jwt(token, _registry(NAME, alg, public), CANCEL_URI)
        assert (verified.kid, verified.alg, verified.claims["uri"]) == (NAME, alg, CANCEL_URI)


def _forge(private: ec.EllipticCurvePrivateKey, **claims: object) -> str:
    now = int(time.time())
    body = {"sub": NAME, "iss": "cdp", "nbf": now, "exp": now + 120, "uri": CANCEL_URI, **claims}
    return jwt.encode(body, private, algorithm="ES256", headers={"kid": NAME, "nonce": "00" * 32})


def test_the_verifier_refuses_each_kind_of_wrong_token() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    registry = _registry(NAME, ES256, private.public_key())
    good = _forge(private)
    assert verify_jwt(good, registry, CANCEL_URI).kid == NAME
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    ed_secret_text, _ = ed_secret()
    wrong = {
        "bad signature": (tampered, CANCEL_URI),
        "other key's signature": (_forge(ec.generate_private_key(ec.SECP256R1())), CANCEL_URI),
        "signed for another request": (good, "POST api.coinbase.com/api/v3/brokerage/orders"),
        "signed for another host": (good, "POST 127.0.0.1:9/api/v3/brokerage/orders/batch_cancel"),
        "expired": (_forge(private, nbf=int(time.time()) - 300, exp=int(time.time()) - 1), CANCEL_URI),
        "not yet valid": (_forge(private, nbf=int(time.time()) + 300, exp=int(time.time()) + 420), CANCEL_URI),
        "sub is another key": (_forge(private, sub="organizations/x/apiKeys/y"), CANCEL_URI),
        "wrong issuer": (_forge(private, iss="someone"), CANCEL_URI),
        "EdDSA token for an ES256 key": (build_jwt(NAME, load_signing_key(ed_secret_text), CANCEL_URI), CANCEL_URI),
        "not a JWT": ("abc.def", CANCEL_URI),
    }
    for why, (token, uri) in wrong.items():
        with pytest.raises(JwtRejected):
            verify_jwt(token, registry, uri)
            pytest.fail(f"accepted: {why}")
    with pytest.raises(JwtRejected, match="unknown kid"):
        verify_jwt(good, _registry("another", ES256, private.public_key()), CANCEL_URI)


def test_uris_claim_of_the_cdp_sdks_is_accepted_when_it_lists_the_request() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    registry = _registry(NAME, ES256, private.public_key())
    listed = _forge(private, uri=None, uris=["GET api.coinbase.com/v2/user", CANCEL_URI])
    assert verify_jwt(listed, registry, CANCEL_URI).kid == NAME
    with pytest.raises(JwtRejected):
        verify_jwt(_forge(private, uri=None, uris=["GET api.coinbase.com/v2/user"]), registry, CANCEL_URI)
