"""Coinbase Prime request signing.

X-CB-ACCESS-SIGNATURE = base64(HMAC-SHA256(secret as its raw UTF-8 bytes, timestamp + METHOD + url_path + body)).
Unlike Coinbase Exchange the secret is not base64-decoded and the query string is never signed (the docs' example
takes `urlparse(uri).path`; Coinbase's own prime-sdk-py signs the path alone). The timestamp is integer seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(timestamp: str, method: str, url_path: str, body: bytes, secret: str) -> str:
    message = timestamp.encode() + method.upper().encode() + url_path.encode() + body
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def headers(api_key: str, passphrase: str, timestamp: str, signature: str) -> dict[str, str]:
    return {
        "X-CB-ACCESS-KEY": api_key,
        "X-CB-ACCESS-PASSPHRASE": passphrase,
        "X-CB-ACCESS-SIGNATURE": signature,
        "X-CB-ACCESS-TIMESTAMP": timestamp,
        "Accept": "application/json",
    }
