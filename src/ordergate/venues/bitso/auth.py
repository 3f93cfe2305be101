"""Bitso request signing, and the per-key nonce order it demands.

Authorization: `Bitso <key>:<nonce>:<hex HMAC-SHA256(secret, nonce + METHOD + request path (+ query) + body)>`,
over the exact bytes sent (GET and DELETE send none). Bitso refuses a nonce not above the key's last one, so one
key's sign+send+answer run one at a time: across workers through `coordination.key_sequencer` (Redis) when
configured, otherwise through `venues.nonces.NonceGate` in this process. Nonces are microseconds: Bitso's own
error text quotes 16-digit nonces, and they stay above the millisecond nonces another client (ccxt) may have used.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, nonce: int | str, method: str, path: str, body: bytes = b"") -> str:
    message = f"{nonce}{method.upper()}{path}".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def authorization(api_key: str, secret: str, nonce: int | str, method: str, path: str, body: bytes = b"") -> str:
    return f"Bitso {api_key}:{nonce}:{sign(secret, nonce, method, path, body)}"
