"""Kraken request signing and the per-key nonce discipline it demands.

Kraken rejects any nonce not greater than the last one it accepted for the key, and counts those rejections
toward a ~15 minute lockout. Strictly increasing nonces are not enough on their own: two requests signed in
order can still arrive out of order over separate connections. So one key's sign+send+response run one at a
time (`NonceGate.hold`). This holds within one process; several processes sharing a key would need the key's
nonce window raised on Kraken's side.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from ordergate.venues.transport import NotDelivered


def sign(path: str, body: bytes, nonce: str | int, secret_b64: str) -> str:
    """API-Sign = base64(HMAC-SHA512(b64decode(secret), path + SHA256(nonce + body))).

    Raises ValueError when the secret is not base64 (binascii.Error is a ValueError).
    """
    secret = base64.b64decode(secret_b64, validate=True)
    digest = hashlib.sha256(str(nonce).encode() + body).digest()
    mac = hmac.new(secret, path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def _microseconds() -> int:
    return time.time_ns() // 1000


@dataclass(slots=True)
class _KeyState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_nonce: int = 0
    users: int = 0  # holders plus waiters; an entry in use is never evicted


class NonceGate:
    """Per-API-key lock and strictly increasing uint64 nonce, bounded to `max_keys` idle entries.

    Keys are stored by SHA-256 digest so the table never holds API keys in clear. Evicting an idle key loses
    its last nonce; the clock (microseconds) has moved past it by the time the key comes back.
    """

    def __init__(
        self,
        *,
        max_keys: int = 50_000,
        wait_timeout_s: float = 30.0,
        clock: Callable[[], int] = _microseconds,
    ) -> None:
        self._states: OrderedDict[bytes, _KeyState] = OrderedDict()
        self._max_keys = max_keys
        self._wait_timeout_s = wait_timeout_s
        self._clock = clock

    def __len__(self) -> int:
        return len(self._states)

    @asynccontextmanager
    async def hold(self, api_key: str) -> AsyncIterator[Callable[[], int]]:
        """Serialize one key's requests; yields a function that issues the next nonce for that key."""
        slot = hashlib.sha256(api_key.encode()).digest()
        state = self._states.get(slot)
        if state is None:
            state = self._states[slot] = _KeyState()
        self._states.move_to_end(slot)
        state.users += 1
        try:
            if state.users == 1:
                # Nobody holds or awaits this key, so acquire() returns at once: skip wait_for, which costs a
                # task per call (the common case with many accounts).
                await state.lock.acquire()
            else:
                try:
                    await asyncio.wait_for(state.lock.acquire(), self._wait_timeout_s)
                except TimeoutError:
                    # Nothing was sent, so this is the same situation as a venue that cannot be reached.
                    raise NotDelivered("kraken key queue wait exceeded") from None
            try:
                yield lambda: self._next(state)
            finally:
                state.lock.release()
        finally:
            state.users -= 1
            self._evict()

    def _next(self, state: _KeyState) -> int:
        state.last_nonce = max(self._clock(), state.last_nonce + 1)
        return state.last_nonce

    def _evict(self) -> None:
        while len(self._states) > self._max_keys:
            # Least recently used first; entries in use are skipped, so the table may briefly exceed the cap.
            idle = next((slot for slot, st in self._states.items() if st.users == 0), None)
            if idle is None:
                return
            del self._states[idle]
