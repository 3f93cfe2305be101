"""Coinbase CDP API key JWTs, signed and verified with `cryptography` alone.

A fresh JWT goes with every request (`Authorization: Bearer <jwt>`), exactly as the official SDK builds it:
header `{"alg", "kid": key name, "nonce": random hex, "typ": "JWT"}`, claims `{"sub": key name, "iss": "cdp",
"nbf": now, "exp": now + 120, "uri": "<METHOD> <host><path>"}`. Two key kinds exist: an EC P-256 private key in PEM
(ES256, signature = raw r‖s) and an Ed25519 key given as base64 of its 32-byte seed or of seed‖public key (EdDSA).

`uri` names the host the request goes to as the Host header carries it (with `:port` unless it is the scheme's
default) and the full path without the query — the official SDK's `f"{method} {base_url}{path}"`. So a deployment
that overrides the base URL signs for the host it actually calls, and a server there verifies as Coinbase does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from yarl import URL

from ordergate.venues.coinbase.constants import JWT_ISSUER, JWT_LIFETIME_S

ES256 = "ES256"
EDDSA = "EdDSA"
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


class KeyFormatError(ValueError):
    """The secret is neither an EC P-256 PEM nor an Ed25519 key (the message never contains key material)."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    alg: str  # ES256 or EdDSA
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

    def public_key(self) -> PublicKey:
        return self.key.public_key()


_PEM = re.compile(r"^-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----$", re.S)


def _normalised_pem(text: str) -> bytes:
    """The PEM rebuilt from its base64 body, so that it reads however the line breaks travelled: real newlines,
    `\\n` escapes as in the CDP key file's JSON, or none at all (ordergate's API refuses control characters in
    fields, so a PEM typed into `password` arrives with its newlines escaped or removed)."""
    match = _PEM.match(text)
    if match is None:
        raise KeyFormatError("the PEM private key cannot be read")
    label, body = match.group(1), re.sub(r"\\n|\s", "", match.group(2))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----", ""]).encode()


def load_signing_key(secret: str) -> SigningKey:
    """A CDP secret as the portal hands it out: PEM (EC, or PKCS8 Ed25519) or base64 Ed25519 (32 or 64 bytes)."""
    text = secret.strip()
    if text.endswith("\\n"):
        text = text[:-2]
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(_normalised_pem(text), password=None)
        except (ValueError, TypeError):
            raise KeyFormatError("the PEM private key cannot be read") from None
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return SigningKey(ES256, key)
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return SigningKey(EDDSA, key)
        raise KeyFormatError("the private key is neither EC P-256 nor Ed25519")
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFormatError("the private key is neither PEM nor base64") from None
    if len(raw) not in (32, 64):
        raise KeyFormatError("an Ed25519 private key is 32 or 64 bytes")
    return SigningKey(EDDSA, ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32]))


def request_uri(method: str, url: str) -> str:
    """`POST api.coinbase.com/api/v3/brokerage/orders/batch_cancel` for `https://api.coinbase.com/api/v3/...`."""
    parsed = URL(url)
    host = parsed.raw_host or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal, as it appears in the Host header
    if parsed.explicit_port is not None and not parsed.is_default_port():
        host = f"{host}:{parsed.port}"
    return f"{method.upper()} {host}{parsed.raw_path}"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compact(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def build_jwt(key_name: str, key: SigningKey, uri: str, *, now: int | None = None, nonce: str | None = None) -> str:
    issued = int(time.time()) if now is None else now
    header = {"alg": key.alg, "kid": key_name, "nonce": nonce or secrets.token_hex(), "typ": "JWT"}
    claims = {"sub": key_name, "iss": JWT_ISSUER, "nbf": issued, "exp": issued + JWT_LIFETIME_S, "uri": uri}
    signing_input = f"{_b64url(_compact(header))}.{_b64url(_compact(claims))}".encode("ascii")
    if isinstance(key.key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JWS wants raw r‖s, not DER
    else:
        signature = key.key.sign(signing_input)
    return f"{signing_input.decode('ascii')}.{_b64url(signature)}"


class JwtRejected(Exception):
    """Why a JWT was refused (for the simulator's logs and tests; Coinbase itself only says `Unauthorized`)."""


@dataclass(frozen=True, slots=True)
class VerifiedJwt:
    kid: str
    alg: str
    claims: dict[str, Any]


def verify_jwt(
    token: str,
    public_key_for: Callable[[str], tuple[str, PublicKey] | None],
    expected_uri: str,
    *,
    now: float | None = None,
) -> VerifiedJwt:
    """What a Coinbase-compatible server checks: alg and kid, the signature, nbf/exp, sub/iss, and `uri`."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwtRejected("not a compact JWS")
    try:
        header, claims = json.loads(_unb64url(parts[0])), json.loads(_unb64url(parts[1]))
        signature = _unb64url(parts[2])
    except (ValueError, binascii.Error):
        raise JwtRejected("undecodable header, claims or signature") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JwtRejected("header and claims must be objects")
    kid, alg = header.get("kid"), header.get("alg")
    registered = public_key_for(kid) if isinstance(kid, str) else None
    if registered is None:
        raise JwtRejected("unknown kid")
    if alg != registered[0]:
        raise JwtRejected(f"alg {alg!r} does not match the key")
    _verify_signature(registered[1], f"{parts[0]}.{parts[1]}".encode("ascii"), signature)
    clock = time.time() if now is None else now
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int | float) or not isinstance(exp, int | float) or not nbf <= clock < exp:
        raise JwtRejected("outside its nbf/exp window")
    if claims.get("sub") != kid or claims.get("iss") not in (JWT_ISSUER, "coinbase-cloud"):
        raise JwtRejected("sub/iss do not name the key")
    # The CDP SDKs sign `uris: [...]` instead of `uri`; either must name this very request.
    uris = claims.get("uris") if isinstance(claims.get("uris"), list) else [claims.get("uri")]
    if expected_uri not in uris:
        raise JwtRejected("uri does not match the request")
    return VerifiedJwt(kid, alg, claims)


def _verify_signature(public_key: PublicKey, signing_input: bytes, signature: bytes) -> None:
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise JwtRejected("an ES256 signature is 64 bytes")
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            public_key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, signing_input)
    except InvalidSignature:
        raise JwtRejected("bad signature") from None
