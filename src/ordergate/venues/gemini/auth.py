"""Gemini request signing and the nonces its keys demand.

X-GEMINI-PAYLOAD = base64(JSON payload); X-GEMINI-SIGNATURE = hex(HMAC-SHA384(secret as text, the base64 string)).
The payload is serialised once and those exact bytes are both sent and signed.

Nonces. An ordinary ("session") key rejects any nonce not above the last one it accepted, and two requests
signed in order can still arrive out of order over separate connections; so one key's sign+send+response run one
at a time, with the shared per-key sequencer (`coordination.key_sequencer`, Redis when configured) or, in a single
process, `KeyQueue`. Keys created with "time-based nonce" take a timestamp within ±30 s and need no ordering.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from ordergate.venues.transport import NotDelivered


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


def _microseconds() -> int:
    return time.time_ns() // 1000


class KeyQueue:
    """In-process per-key lock and strictly increasing nonce (µs clock, or last + 1), bounded to `max_keys` idle
    entries. The same contract as `coordination.KeySequencer`, used when no shared one is configured (venue folders
    do not import each other, so Kraken's gate is not reused). Keys are held by digest, never in clear."""

    def __init__(self, *, max_keys: int = 50_000, wait_timeout_s: float = 30.0) -> None:
        self._states: OrderedDict[bytes, list[Any]] = OrderedDict()  # [lock, last nonce, users]
        self._max_keys = max_keys
        self._wait_timeout_s = wait_timeout_s

    @asynccontextmanager
    async def hold(self, api_key: str) -> AsyncIterator[Callable[[], int]]:
        slot = hashlib.sha256(api_key.encode()).digest()
        state = self._states.setdefault(slot, [asyncio.Lock(), 0, 0])
        self._states.move_to_end(slot)
        state[2] += 1
        try:
            try:
                await asyncio.wait_for(state[0].acquire(), self._wait_timeout_s)
            except TimeoutError:
                raise NotDelivered("gemini key queue wait exceeded") from None
            try:

                def next_nonce() -> int:
                    state[1] = max(_microseconds(), state[1] + 1)
                    return int(state[1])

                yield next_nonce
            finally:
                state[0].release()
        finally:
            state[2] -= 1
            while len(self._states) > self._max_keys:
                idle = next((s for s, st in self._states.items() if st[2] == 0), None)
                if idle is None:
                    break
                del self._states[idle]


class TimeNonces:
    """Milliseconds, unique within this process (a second request in the same millisecond takes the next one)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._last = 0
        self._clock = clock

    def next(self) -> int:
        self._last = max(int(self._clock() * 1000), self._last + 1)
        return self._last
