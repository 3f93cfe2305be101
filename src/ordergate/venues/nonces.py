"""Per-key request sequencing for venues whose nonces must strictly increase per API key (Kraken, Gemini,
Bitfinex): two requests signed in order can still arrive out of order over separate connections, so one key's
sign+send+response run one at a time (`NonceGate.hold`). This holds within one process; across workers the
shared `coordination.key_sequencer` (Redis) does the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from ordergate.venues.transport import NotDelivered


def slot_of(api_key: str) -> bytes:
    """Where a key's state is kept: its SHA-256, so the table never holds API keys in clear."""
    return hashlib.sha256(api_key.encode()).digest()


class _Hold:
    __slots__ = ("_gate", "_slot", "_state")

    def __init__(self, gate: NonceGate, slot: bytes) -> None:
        self._gate = gate
        self._slot = slot
        self._state: _KeyState | None = None

    async def __aenter__(self) -> Callable[[], int]:
        state = self._state = await self._gate._acquire(self._slot)
        return lambda: self._gate._next(state)

    async def __aexit__(self, *exc: object) -> None:
        assert self._state is not None
        self._gate._release(self._state)


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
        venue: str = "venue",
    ) -> None:
        self._venue = venue
        self._states: OrderedDict[bytes, _KeyState] = OrderedDict()
        self._max_keys = max_keys
        self._wait_timeout_s = wait_timeout_s
        self._clock = clock

    def __len__(self) -> int:
        return len(self._states)

    def hold(self, api_key: str, slot: bytes | None = None) -> _Hold:
        """Serialize one key's requests: `async with gate.hold(key) as next_nonce`, where `next_nonce()` issues the
        key's next nonce. `slot`: the key's `slot_of`, when the caller keeps it. (A class rather than an
        @asynccontextmanager: it is on every signed request's path.)"""
        return _Hold(self, slot if slot is not None else slot_of(api_key))

    async def _acquire(self, slot: bytes) -> _KeyState:
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
                    raise NotDelivered(f"{self._venue} key queue wait exceeded") from None
        except BaseException:
            self._done(state)
            raise
        return state

    def _release(self, state: _KeyState) -> None:
        state.lock.release()
        self._done(state)

    def _done(self, state: _KeyState) -> None:
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
