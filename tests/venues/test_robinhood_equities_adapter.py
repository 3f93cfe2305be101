"""RobinhoodAdapter's equities half over a real Transport against the simulator on a real socket: refreshes of one
authToken are serialised (Robinhood spends a refresh token when it is used), and the refreshed-bearer cache is
bounded and keyed by a digest, never the refresh token itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.robinhood.adapter import RobinhoodAdapter
from ordergate.venues.robinhood.equities import BearerCache, _Session
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi


class Clock:
    now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RobinhoodSimulator, str, Clock]]:
    clock = Clock()
    sim = RobinhoodSimulator(clock=clock, kit_half="equities")
    with serve_asgi(sim.app) as url:
        yield sim, url, clock


async def test_concurrent_requests_on_an_expired_bearer_refresh_once(
    served: tuple[RobinhoodSimulator, str, Clock], transport: Transport
) -> None:
    sim, url, clock = served
    adapter = RobinhoodAdapter(SPECS[IntegrationType.robinhood], url, transport)
    account = sim.new_account()
    creds = Credentials(IntegrationType.robinhood, account.api_key, account.secret, extras=dict(account.extras))
    orders = [sim.place(account)[0] for _ in range(8)]
    clock.now += 86400 + 1
    acks = await asyncio.gather(*(adapter.cancel(creds, OrderRef(oid, False)) for oid in orders))
    assert [a.status.value for a in acks] == ["inProgress"] * 8
    assert sim.count(account.secret, "token") == 1  # one refresh, whatever the concurrency
    assert all(sim.status(oid).value == "cancelled" for oid in orders)
    key = BearerCache.key(account.secret)
    assert account.secret not in key and adapter.equities.bearers.get(key) is not None


def test_the_cache_is_bounded() -> None:
    cache = BearerCache(limit=2)
    for n in range(3):
        cache.put(BearerCache.key(f"r{n}"), _Session(f"a{n}", f"r{n}"))
    assert cache.get(BearerCache.key("r0")) is None and cache.get(BearerCache.key("r2")).access == "a2"  # type: ignore[union-attr]
