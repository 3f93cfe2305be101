"""Robinhood Crypto Trading API signing: x-signature = base64(Ed25519(seed, api_key + timestamp + path + method +
body)), with the timestamp in seconds, valid for 30 s. The whole request is signed but nothing in it must increase
per key, so requests on one key need no ordering."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ordergate.venues.robinhood.constants import HEADER_KEY, HEADER_SIGNATURE, HEADER_TIMESTAMP, SEED_BYTES


class BadPrivateKey(ValueError):
    """The secret is not a base64 Ed25519 seed (32 bytes) or tweetnacl secret key (64 bytes)."""


def private_key(secret: str) -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(secret.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadPrivateKey("the Robinhood private key is not base64") from None
    if len(raw) not in SEED_BYTES:
        raise BadPrivateKey("the Robinhood private key is not a base64 Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(raw[:32])


def message(api_key: str, timestamp: int | str, path: str, method: str, body: str = "") -> bytes:
    return f"{api_key}{timestamp}{path}{method.upper()}{body}".encode()


def sign(api_key: str, secret: str, timestamp: int | str, path: str, method: str, body: str = "") -> str:
    signature = private_key(secret).sign(message(api_key, timestamp, path, method, body))
    return base64.b64encode(signature).decode()


def headers(api_key: str, secret: str, timestamp: int, path: str, method: str, body: str = "") -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(api_key, secret, timestamp, path, method, body),
        "Content-Type": "application/json; charset=utf-8",
    }


def public_key(secret: str) -> bytes:
    """The raw public key of a seed: what a user uploads to Robinhood, and all the simulator keeps."""
    return private_key(secret).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
