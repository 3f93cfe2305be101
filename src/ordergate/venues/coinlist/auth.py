"""CoinList request signing, over the exact bytes that are sent.

CL-ACCESS-SIG = base64(HMAC-SHA256(base64-decoded secret, timestamp + METHOD + path + payload)) where payload is
"?" + the query string for a GET/DELETE with parameters, the JSON body for POST/PATCH, and nothing otherwise. The
timestamp is whole seconds. Coinbase Exchange's recipe looks alike but has a passphrase and other header names, so
the few lines are kept here rather than shared across venue folders.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from ordergate.venues.coinlist.constants import HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP


def sign(secret_b64: str, timestamp: str, method: str, target: str, body: bytes = b"") -> str:
    """`target` is the path plus "?query" when there is one. Raises ValueError for a secret that is not base64."""
    key = base64.b64decode(secret_b64, validate=True)
    message = timestamp.encode() + method.upper().encode() + target.encode() + body
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def signed_headers(api_key: str, secret_b64: str, timestamp: str, method: str, target: str, body: bytes = b"") -> dict:
    return {
        HEADER_KEY: api_key,
        HEADER_SIGN: sign(secret_b64, timestamp, method, target, body),
        HEADER_TIMESTAMP: timestamp,
        "Content-Type": "application/json",
    }


def now_s() -> int:
    return int(time.time())
