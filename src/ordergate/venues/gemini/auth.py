"""Gemini request signing and the nonces its keys demand.

X-GEMINI-PAYLOAD = base64(JSON payload); X-GEMINI-SIGNATURE = hex(HMAC-SHA384(secret as text, the base64 string)).
The payload is serialised once and those exact bytes are both sent and signed.

Nonces. An ordinary ("session") key rejects any nonce not above the last one it accepted, and two requests
signed in order can still arrive out of order over separate connections; so one key's sign+send+response run one
at a time, with the shared per-key sequencer (`coordination.key_sequencer`, Redis when configured) or, in a single
process, `venues.nonces.NonceGate`. Keys created with "time-based nonce" take a timestamp within ±30 s and need no
ordering.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any


def encode_payload(payload: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()


def sign(payload_b64: str, secret: str) -> str:
    return hmac.new(secret.encode(), payload_b64.encode(), hashlib.sha384).hexdigest()


def headers(api_key: str, payload_b64: str, signature: str) -> dict[str, str]:
    return {
        "Content-Type": "text/plain",
        "Cache-Control": "no-cache",
        "X-GEMINI-APIKEY": api_key,
        "X-GEMINI-PAYLOAD": payload_b64,
        "X-GEMINI-SIGNATURE": signature,
    }


class TimeNonces:
    """Milliseconds, unique within this process (a second request in the same millisecond takes the next one)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._last = 0
        self._clock = clock

    def next(self) -> int:
        self._last = max(int(self._clock() * 1000), self._last + 1)
        return self._last
