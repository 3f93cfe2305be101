"""NonceGate's turn-taking when a key is contended: one holder at a time, in arrival order, and a waiter that gives
up (timeout, cancellation) never leaves the key held by nobody."""

from __future__ import annotations

import asyncio
import random

import pytest

from ordergate.venues.nonces import NonceGate
from ordergate.venues.transport import NotDelivered


class _Inside:
    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.order: list[str] = []

    async def hold(self, gate: NonceGate, name: str, turns: int = 1, key: str = "key-A") -> None:
        async with gate.hold(key) as next_nonce:
            self.now += 1
            try:
                self.most = max(self.most, self.now)
                self.order.append(name)
                next_nonce()
                for _ in range(turns):
                    await asyncio.sleep(0)
            finally:
                self.now -= 1


async def test_a_waiter_that_times_out_is_not_delivered_and_the_queue_goes_on() -> None:
    gate = NonceGate(wait_timeout_s=0.05)
    inside = _Inside()
    release = asyncio.Event()

    async def slow() -> None:
        async with gate.hold("key-A"):
            await release.wait()

    holder = asyncio.create_task(slow())
    await asyncio.sleep(0)
    with pytest.raises(NotDelivered, match="key queue wait exceeded"):
        await inside.hold(gate, "late")
    later = asyncio.create_task(inside.hold(gate, "later"))
    await asyncio.sleep(0)
    assert inside.order == []  # still the slow holder's turn
    release.set()
    await asyncio.gather(holder, later)
    assert inside.order == ["later"]
    async with gate.hold("key-A") as next_nonce:  # and the key is free again
        assert next_nonce() > 0
    assert gate._states[next(iter(gate._states))].users == 0


async def test_a_cancelled_waiter_leaves_the_queue_in_order() -> None:
    gate = NonceGate()
    inside = _Inside()
    release = asyncio.Event()

    async def first() -> None:
        async with gate.hold("key-A"):
            inside.order.append("first")
            await release.wait()

    tasks = [asyncio.create_task(first())]
    await asyncio.sleep(0)
    for name in ("a", "b", "c"):
        tasks.append(asyncio.create_task(inside.hold(gate, name)))
        await asyncio.sleep(0)
    tasks[2].cancel()  # "b"
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[2], asyncio.CancelledError)
    assert inside.order == ["first", "a", "c"]
    assert inside.most == 1


async def test_a_turn_handed_to_a_waiter_cancelled_at_that_moment_goes_to_the_next() -> None:
    gate = NonceGate()
    inside = _Inside()
    release = asyncio.Event()

    async def first() -> None:
        async with gate.hold("key-A"):
            await release.wait()

    holder = asyncio.create_task(first())
    await asyncio.sleep(0)
    doomed = asyncio.create_task(inside.hold(gate, "doomed"))
    after = asyncio.create_task(inside.hold(gate, "after"))
    await asyncio.sleep(0)
    release.set()
    await asyncio.sleep(0)  # the holder leaves and hands the turn to "doomed"...
    doomed.cancel()  # ...which is cancelled before it runs again
    results = await asyncio.gather(holder, doomed, after, return_exceptions=True)
    # Python 3.11's wait_for returns a result that arrived with the cancellation (and drops the cancellation):
    # then "doomed" takes its turn; otherwise it passes the turn on. Either way "after" gets in, alone.
    assert ("doomed" in inside.order) != isinstance(results[1], asyncio.CancelledError)
    assert inside.order[-1] == "after"
    assert inside.most == 1
    assert sum(state.users for state in gate._states.values()) == 0


async def test_random_cancellations_never_let_two_holders_in_and_never_strand_the_key() -> None:
    rng = random.Random(16)
    for _ in range(30):
        gate = NonceGate(wait_timeout_s=rng.choice([0.001, 5.0]))
        inside = _Inside()
        tasks = [asyncio.create_task(inside.hold(gate, str(i), turns=rng.randrange(4))) for i in range(25)]
        for _ in range(10):
            await asyncio.sleep(0)
            rng.choice(tasks).cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        assert inside.most == 1
        # Arrival order among those that got in (a task cancelled while inside got in too).
        assert inside.order == sorted(inside.order, key=int)
        assert all(state.users == 0 for state in gate._states.values())
        async with gate.hold("key-A") as next_nonce:  # the key is free
            next_nonce()
