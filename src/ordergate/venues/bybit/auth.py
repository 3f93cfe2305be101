"""Bybit v5 request signing (HMAC keys), over the exact bytes that are sent.

X-BAPI-SIGN = hex(HMAC-SHA256(secret, timestamp + api_key + recv_window + payload)) where payload is the query
string for GET (as it appears in the URL) and the raw JSON body for POST. Bybit checks only that the timestamp
lies in [server_time - recv_window, server_time + 1000), so there is no per-key ordering to keep, unlike Kraken.
RSA keys (base64 RSA-SHA256 signatures) are not supported: Mesh hands over an API key and an HMAC secret.
"""

from __future__ import annotations

import hmac
import time

from ordergate.venues.bybit.constants import HEADER_KEY, HEADER_RECV_WINDOW, HEADER_SIGN, HEADER_TIMESTAMP


def sign(secret: str, timestamp: int | str, api_key: str, recv_window: int | str, payload: bytes) -> str:
    message = f"{timestamp}{api_key}{recv_window}".encode() + payload
    return hmac.digest(secret.encode(), message, "sha256").hex()  # hmac.new(...).hexdigest(), one C call


def signed_headers(api_key: str, secret: str, timestamp: int, recv_window: int, payload: bytes) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_RECV_WINDOW: str(recv_window),
        HEADER_SIGN: sign(secret, timestamp, api_key, recv_window, payload),
    }


def now_ms() -> int:
    return time.time_ns() // 1_000_000
