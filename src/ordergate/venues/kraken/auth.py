"""Kraken request signing and the per-key nonce discipline it demands.

Kraken rejects any nonce not greater than the last one it accepted for the key, and counts those rejections
toward a ~15 minute lockout. Strictly increasing nonces are not enough on their own: two requests signed in
order can still arrive out of order over separate connections. So one key's sign+send+response run one at a
time (`venues.nonces.NonceGate`, shared with the other nonce venues; across workers, the Redis sequencer).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from ordergate.venues.nonces import NonceGate

__all__ = ["NonceGate", "sign", "sign_with"]


def sign(path: str, body: bytes, nonce: str | int, secret_b64: str) -> str:
    """API-Sign = base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body))).

    Raises ValueError when the secret is not base64 (binascii.Error is a ValueError).
    """
    return sign_with(path.encode(), body, nonce, base64.b64decode(secret_b64, validate=True))


def sign_with(path: bytes, body: bytes, nonce: str | int, secret: bytes) -> str:
    """`sign` with the secret already decoded (the adapter decodes it once per opened token)."""
    digest = hashlib.sha256(str(nonce).encode() + body).digest()
    return base64.b64encode(hmac.digest(secret, path + digest, "sha512")).decode()
