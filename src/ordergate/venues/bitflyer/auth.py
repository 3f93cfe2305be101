"""bitFlyer request signing, over the exact bytes that are sent.

ACCESS-SIGN = hex(HMAC-SHA256(secret, timestamp + METHOD + path(+"?"+query) + body)). bitFlyer signs the timestamp
as text and documents no freshness window, so there is no per-key ordering to keep (unlike Kraken's nonces).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from ordergate.venues.bitflyer.constants import HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP


def sign(secret: str, timestamp: str, method: str, path_and_query: str, body: bytes) -> str:
    message = f"{timestamp}{method}{path_and_query}".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    api_key: str, secret: str, timestamp: str, method: str, path_and_query: str, body: bytes
) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_TIMESTAMP: timestamp,
        HEADER_SIGN: sign(secret, timestamp, method, path_and_query, body),
    }


def now_s() -> str:
    """Unix seconds, as ccxt sends them."""
    return str(int(time.time()))
