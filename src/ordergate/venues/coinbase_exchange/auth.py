"""Coinbase Exchange request signing.

CB-ACCESS-SIGN = base64(HMAC-SHA256(base64-decoded secret, timestamp + METHOD + requestPath + body)), where
requestPath includes the `?query` when there is one (the docs sign the request target, and ccxt signs GET queries
the same way). Coinbase Prime signs with the secret's raw bytes and never the query, so the two folders each keep
their own few lines rather than share a helper with flags.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(timestamp: str, method: str, request_path: str, body: bytes, secret_b64: str) -> str:
    """Raises ValueError when the secret is not base64 (binascii.Error is a ValueError)."""
    key = base64.b64decode(secret_b64, validate=True)
    message = timestamp.encode() + method.upper().encode() + request_path.encode() + body
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def headers(api_key: str, passphrase: str, timestamp: str, signature: str) -> dict[str, str]:
    return {
        "CB-ACCESS-KEY": api_key,
        "CB-ACCESS-SIGN": signature,
        "CB-ACCESS-TIMESTAMP": timestamp,
        "CB-ACCESS-PASSPHRASE": passphrase,
        "Accept": "application/json",
    }
