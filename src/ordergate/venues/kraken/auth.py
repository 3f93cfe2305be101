"""Kraken request signing and the per-key nonce discipline it demands.

Kraken rejects any nonce not greater than the last one it accepted for the key, and counts those rejections
toward a ~15 minute lockout. Strictly increasing nonces are not enough on their own: two requests signed in
order can still arrive out of order over separate connections. So one key's sign+send+response run one at a
time (`venues.nonces.NonceGate`, shared with the other nonce venues; across workers, the Redis sequencer).
"""

from __future__ import annotations

import base64
import hashlib
from binascii import b2a_base64

from ordergate.venues.common import KeyedMac, keyed_mac, mac
from ordergate.venues.nonces import NonceGate

__all__ = ["NonceGate", "sign", "sign_with"]


def sign(path: str, body: bytes, nonce: str | int, secret_b64: str) -> str:
    """API-Sign = base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body))).

    Raises ValueError when the secret is not base64 (binascii.Error is a ValueError).
    """
    return sign_with(path.encode(), body, nonce, signing_mac(base64.b64decode(secret_b64, validate=True)))


def signing_mac(secret: bytes) -> KeyedMac:
    """The decoded secret as a keyed HMAC-SHA512 context (the adapter keeps one per opened token)."""
    return keyed_mac(secret, "sha512")


def sign_with(path: bytes, body: bytes, nonce: str | int, keyed: KeyedMac) -> str:
    """`sign` with the secret already decoded and keyed (`signing_mac`)."""
    digest = hashlib.sha256(str(nonce).encode() + body).digest()
    return b2a_base64(mac(keyed, path + digest), newline=False).decode()
