"""Bybit v5 request signing (HMAC keys), over the exact bytes that are sent.

X-BAPI-SIGN = hex(HMAC-SHA256(secret, timestamp + api_key + recv_window + payload)) where payload is the query
string for GET (as it appears in the URL) and the raw JSON body for POST. Bybit checks only that the timestamp
lies in [server_time - recv_window, server_time + 1000), so there is no per-key ordering to keep, unlike Kraken.
RSA keys (base64 RSA-SHA256 signatures) are not supported: Mesh hands over an API key and an HMAC secret.
"""

from __future__ import annotations

import time

from ordergate.venues.bybit.constants import HEADER_KEY, HEADER_RECV_WINDOW, HEADER_SIGN, HEADER_TIMESTAMP
from ordergate.venues.common import KeyedMac, keyed_mac, mac


def sign(secret: str | KeyedMac, timestamp: int | str, api_key: str, recv_window: int | str, payload: bytes) -> str:
    """`secret`: the HMAC secret, or `signing_mac` of it (the adapter keeps one per opened token)."""
    keyed = signing_mac(secret) if isinstance(secret, str) else secret
    return mac(keyed, f"{timestamp}{api_key}{recv_window}".encode() + payload).hex()


def signing_mac(secret: str) -> KeyedMac:
    return keyed_mac(secret.encode(), "sha256")


def signed_headers(
    api_key: str, secret: str | KeyedMac, timestamp: int, recv_window: int, payload: bytes
) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_RECV_WINDOW: str(recv_window),
        HEADER_SIGN: sign(secret, timestamp, api_key, recv_window, payload),
    }


def now_ms() -> int:
    return time.time_ns() // 1_000_000
