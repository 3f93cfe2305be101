"""Bitfinex v2 request signing, and the per-key nonce order it demands.

bfx-signature = hex(HMAC-SHA384(secret, "/api" + path + nonce + body)) over the exact body sent. Bitfinex rejects
any nonce not above the last one it accepted for the key ("nonce: small", 10114), so one key's sign+send+answer
run one at a time: across workers through `coordination.key_sequencer` (Redis) when configured, otherwise through
`NonceGate` in this process. Nonces are microseconds, as the official SDK issues them: a key once used with it
would refuse smaller (millisecond) nonces for good.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from ordergate.venues.bitfinex.constants import HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, SIGNED_PREFIX
from ordergate.venues.transport import NotDelivered


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


def microseconds() -> int:
    return time.time_ns() // 1000


class NonceGate:
    """Per-key lock and strictly increasing nonce in one process; keys held by SHA-256 digest, idle ones evicted
    beyond `max_keys` (the clock has passed an evicted key's last nonce by the time it returns)."""

    def __init__(
        self, *, max_keys: int = 50_000, wait_timeout_s: float = 30.0, clock: Callable[[], int] = microseconds
    ) -> None:
        self._keys: OrderedDict[bytes, list] = OrderedDict()  # digest → [lock, last nonce, users]
        self._max_keys, self._wait, self._clock = max_keys, wait_timeout_s, clock

    def __len__(self) -> int:
        return len(self._keys)

    @asynccontextmanager
    async def hold(self, api_key: str) -> AsyncIterator[Callable[[], int]]:
        slot = hashlib.sha256(api_key.encode()).digest()
        state = self._keys.setdefault(slot, [asyncio.Lock(), 0, 0])
        self._keys.move_to_end(slot)
        state[2] += 1
        try:
            try:
                await asyncio.wait_for(state[0].acquire(), self._wait)
            except TimeoutError:
                raise NotDelivered("bitfinex key queue wait exceeded") from None  # nothing was sent

            def next_nonce() -> int:
                state[1] = max(self._clock(), state[1] + 1)
                return state[1]

            try:
                yield next_nonce
            finally:
                state[0].release()
        finally:
            state[2] -= 1
            while len(self._keys) > self._max_keys:
                idle = next((k for k, s in self._keys.items() if s[2] == 0), None)
                if idle is None:
                    break
                del self._keys[idle]
