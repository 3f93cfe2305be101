"""Bitfinex v2 request signing, and the per-key nonce order it demands.

bfx-signature = hex(HMAC-SHA384(secret, "/api" + path + nonce + body)) over the exact body sent. Bitfinex rejects
any nonce not above the last one it accepted for the key ("nonce: small", 10114), so one key's sign+send+answer
run one at a time: across workers through `coordination.key_sequencer` (Redis) when configured, otherwise through
`venues.nonces.NonceGate` in this process. Nonces are microseconds, as the official SDK issues them: a key once used
with it would refuse smaller (millisecond) nonces for good.
"""

from __future__ import annotations

import hashlib
import hmac

from ordergate.venues.bitfinex.constants import HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, SIGNED_PREFIX


def sign(secret: str, path: str, nonce: int | str, body: bytes) -> str:
    message = f"{SIGNED_PREFIX}{path}{nonce}".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha384).hexdigest()


def signed_headers(api_key: str, secret: str, path: str, nonce: int, body: bytes) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_NONCE: str(nonce),
        HEADER_SIGNATURE: sign(secret, path, nonce, body),
        "Content-Type": "application/json",
    }
