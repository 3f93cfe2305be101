"""Gate API v4 request signing, over the exact bytes that are sent.

SIGN = hex(HMAC-SHA512(secret, METHOD \\n /api/v4/path \\n query \\n hex(SHA-512(body)) \\n Timestamp)), where the
query is the string as it appears in the URL (Gate re-reads it "without URL encode", so ordergate only sends
queries that need no encoding) and Timestamp is the header value, byte for byte. Gate only checks that the
timestamp lies within 60 s of its clock: there is no per-key ordering to keep.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from ordergate.venues.gate_io.constants import HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP


def sign(secret: str, method: str, path: str, query: str, body: bytes, timestamp: str) -> str:
    message = "\n".join((method.upper(), path, query, hashlib.sha512(body).hexdigest(), timestamp))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha512).hexdigest()


def signed_headers(
    api_key: str, secret: str, method: str, path: str, query: str, body: bytes, timestamp: str
) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_TIMESTAMP: timestamp,
        HEADER_SIGN: sign(secret, method, path, query, body, timestamp),
    }


def now_s() -> str:
    return str(int(time.time()))
