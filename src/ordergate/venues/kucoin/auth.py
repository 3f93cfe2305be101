"""KuCoin request signing (API key version 2): what gets HMAC'd and the headers that carry it.

KC-API-SIGN = base64(HMAC-SHA256(secret, timestamp + METHOD + endpoint + body)), where endpoint is the path plus
`?query` exactly as sent (un-URL-encoded) and body is "" for GET/DELETE. KC-API-PASSPHRASE is the passphrase
HMAC'd with the same secret. The secret is used as text, not base64-decoded. Timestamps are checked against a
5 s window, not a nonce, so concurrent requests on one key need no ordering.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ordergate.venues.kucoin.constants import (
    HEADER_KEY,
    HEADER_KEY_VERSION,
    HEADER_PASSPHRASE,
    HEADER_SIGN,
    HEADER_TIMESTAMP,
    KEY_VERSION,
)


def _hmac_b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def prehash(timestamp: str, method: str, endpoint: str, body: bytes = b"") -> bytes:
    return timestamp.encode() + method.upper().encode() + endpoint.encode() + body


def sign(secret: str, timestamp: str, method: str, endpoint: str, body: bytes = b"") -> str:
    return _hmac_b64(secret, prehash(timestamp, method, endpoint, body))


def signed_passphrase(secret: str, passphrase: str) -> str:
    return _hmac_b64(secret, passphrase.encode())


def auth_headers(
    api_key: str, secret: str, passphrase: str, timestamp: str, method: str, endpoint: str, body: bytes = b""
) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_SIGN: sign(secret, timestamp, method, endpoint, body),
        HEADER_TIMESTAMP: timestamp,
        HEADER_PASSPHRASE: signed_passphrase(secret, passphrase),
        HEADER_KEY_VERSION: KEY_VERSION,
    }
