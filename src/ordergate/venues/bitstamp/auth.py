"""Bitstamp v2 request signing, and the check of the signature Bitstamp puts on its answers.

X-Auth-Signature = hex(HMAC-SHA256(secret, "BITSTAMP " + key + METHOD + host + path + query + content type + nonce +
timestamp + "v2" + body)). The content type is part of the string only when there is a body, and then it is the
Content-Type header as sent; with an empty body the header must not be sent at all (API0020). `host` is the Host
the request goes to (no scheme; with a port only when it is not the default one) and `query` carries its `?`.

Nonces are random UUIDs that must not repeat within 150 s per key; the timestamp (ms) must be within 150 s of
Bitstamp's clock. Nothing is ordered, so requests of one key need no serialising (unlike Kraken's).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

from ordergate.venues.bitstamp.constants import (
    AUTH_VERSION,
    FORM,
    HEADER_AUTH,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    HEADER_VERSION,
)


def string_to_sign(
    api_key: str, method: str, host: str, path: str, query: str, content_type: str, nonce: str, stamp: str, body: bytes
) -> bytes:
    text = f"BITSTAMP {api_key}{method.upper()}{host}{path}{query}{content_type}{nonce}{stamp}{AUTH_VERSION}"
    return text.encode() + body


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    api_key: str, secret: str, method: str, host: str, path: str, body: bytes, *, nonce: str, stamp: str
) -> dict[str, str]:
    """The headers of one signed request; `path` may carry a `?query` (it is signed as sent)."""
    bare, mark, query = path.partition("?")
    content_type = FORM if body else ""
    message = string_to_sign(api_key, method, host, bare, mark + query, content_type, nonce, stamp, body)
    headers = {
        HEADER_AUTH: f"BITSTAMP {api_key}",
        HEADER_SIGNATURE: sign(secret, message),
        HEADER_NONCE: nonce,
        HEADER_TIMESTAMP: stamp,
        HEADER_VERSION: AUTH_VERSION,
    }
    if body:
        headers["Content-Type"] = content_type
    return headers


def answer_signature(secret: str, nonce: str, stamp: str, content_type: str, body: bytes) -> str:
    """X-Server-Auth-Signature: what Bitstamp signs its answer to a request with this nonce and timestamp."""
    return sign(secret, f"{nonce}{stamp}{content_type}".encode() + body)


def new_nonce() -> str:
    return str(uuid.uuid4())  # 36 characters, as Bitstamp asks


def now_ms() -> str:
    return str(time.time_ns() // 1_000_000)
