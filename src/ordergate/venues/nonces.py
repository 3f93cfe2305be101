"""Per-key request sequencing for venues whose nonces must strictly increase per API key (Kraken, Gemini,
Bitfinex): two requests signed in order can still arrive out of order over separate connections, so one key's
sign+send+response run one at a time (`NonceGate.hold`). This holds within one process; across workers the
shared `coordination.key_sequencer` (Redis) does the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from ordergate.venues.transport import NotDelivered


def slot_of(api_key: str) -> bytes:
    """Where a key's state is kept: its SHA-256, so the table never holds API keys in clear."""
    return hashlib.sha256(api_key.encode()).digest()


class _Hold:
    """One turn with a key. A key nobody else holds or awaits is entered without any lock operation or extra
    coroutine (the common case: many accounts, each with a request at a time); otherwise the turn is awaited in
    arrival order (`NonceGate._wait_turn`)."""

    __slots__ = ("_gate", "_slot", "_state")

    def __init__(self, gate: NonceGate, slot: bytes) -> None:
        self._gate = gate
        self._slot = slot
        self._state: _KeyState | None = None

    async def __aenter__(self) -> Callable[[], int]:
        gate = self._gate
        states = gate._states
        state = states.get(self._slot)
        if state is None:
            state = states[self._slot] = _KeyState()
        else:
            states.move_to_end(self._slot)
        state.users += 1
        if state.users > 1:
            await gate._wait_turn(state)
        self._state = state
        return self.next_nonce

    def next_nonce(self) -> int:
        state = self._state
        assert state is not None
        nonce = self._gate._clock()
        if nonce <= state.last_nonce:
            nonce = state.last_nonce + 1
        state.last_nonce = nonce
        return nonce

    async def __aexit__(self, *exc: object) -> None:
        state = self._state
        assert state is not None
        gate = self._gate
        if state.waiters or len(gate._states) > gate._max_keys:
            gate._pass_turn(state)
        else:  # `_pass_turn` with nobody waiting and nothing to evict, without its two calls
            state.users -= 1


def _microseconds() -> int:
    return time.time_ns() // 1000


@dataclass(slots=True)
class _KeyState:
    last_nonce: int = 0
    users: int = 0  # the holder plus waiters; an entry in use is never evicted
    waiters: deque[asyncio.Future[None]] | None = None  # in arrival order; a waiter's future resolves on its turn


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

    async def _wait_turn(self, state: _KeyState) -> None:
        """Wait until the holder (and every earlier waiter) has passed the turn on; `state.users` already counts
        this waiter. On a timeout or cancellation the waiter leaves the queue, and a turn handed to it in the
        meantime goes to the next one, so the key is never left held by nobody."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if state.waiters is None:
            state.waiters = deque()
        state.waiters.append(turn)
        try:
            await asyncio.wait_for(turn, self._wait_timeout_s)
        except BaseException as exc:
            if turn.done() and not turn.cancelled():
                self._pass_turn(state)  # handed to us as we gave up
            else:
                if turn in state.waiters:
                    state.waiters.remove(turn)
                self._leave(state)
            if isinstance(exc, TimeoutError):
                # Nothing was sent, so this is the same situation as a venue that cannot be reached.
                raise NotDelivered(f"{self._venue} key queue wait exceeded") from None
            raise

    def _pass_turn(self, state: _KeyState) -> None:
        """The holder is done: the first waiter still waiting holds the key next."""
        waiters = state.waiters
        while waiters:
            turn = waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                break
        self._leave(state)

    def _leave(self, state: _KeyState) -> None:
        state.users -= 1
        if len(self._states) > self._max_keys:
            self._evict()

    def _evict(self) -> None:
        while len(self._states) > self._max_keys:
            # Least recently used first; entries in use are skipped, so the table may briefly exceed the cap.
            idle = next((slot for slot, st in self._states.items() if st.users == 0), None)
            if idle is None:
                return
            del self._states[idle]
