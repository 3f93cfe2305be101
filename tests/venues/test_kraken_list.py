"""KrakenAdapter.list_orders over a real Transport against the simulator on a real socket: OpenOrders, then
ClosedOrders paged by `ofs` (50 a time), newest first, the statuses filter and `since`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.kraken.adapter import KrakenAdapter
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.kraken]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[KrakenSimulator, str]]:
    sim = KrakenSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[KrakenSimulator, str]) -> KrakenSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[KrakenSimulator, str], transport: Transport) -> KrakenAdapter:
    return KrakenAdapter(SPEC, served[1], transport)


def account(sim: KrakenSimulator, **extras: Any) -> Credentials:
    key, secret = sim.new_credentials()
    return Credentials(IntegrationType.kraken, key, secret, extras=extras)


def place(sim: KrakenSimulator, creds: Credentials, n: int) -> list[str]:
    """n resting orders, oldest first."""
    return [sim.place_order(creds.api_key, volume="2", price=str(100 + i)) for i in range(n)]


async def walk(adapter: KrakenAdapter, creds: Credentials, **query: Any) -> list[OrderPage]:
    pages, cursor = [], None
    while True:
        page = await adapter.list_orders(creds, OrderQuery(cursor=cursor, **query))
        pages.append(page)
        cursor = page.cursor
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ends"


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


def requests(sim: KrakenSimulator, creds: Credentials) -> dict[str, int]:
    return {op: sim.count(creds.api_key, op) for op in ("OpenOrders", "ClosedOrders") if sim.count(creds.api_key, op)}


async def test_empty_account(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    assert (page.orders, page.cursor) == ((), None)
    assert requests(sim, creds) == {"OpenOrders": 1, "ClosedOrders": 1}


async def test_one_page_newest_first_with_the_details_mapping(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    oldest, middle, newest = place(sim, creds, 3)
    sim.fill(oldest)
    sim.fill(middle, "0.5")
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    assert [o.order_id for o in page.orders] == [newest, middle, oldest]
    assert [o.status for o in page.orders] == [OrderStatus.inProgress, OrderStatus.partiallyFilled, OrderStatus.success]
    assert page.cursor is None
    by_id = {o.order_id: o for o in page.orders}
    details = await adapter.get_order(creds, OrderRef(middle, True))
    assert by_id[middle] == details  # the same mapping /transactions/details renders


async def test_several_pages_reach_every_order_once_newest_first(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    placed = place(sim, creds, 5)
    sim.fill(placed[0])
    sim.fill(placed[1])
    pages = await walk(adapter, creds, count=2)
    assert ids(pages) == placed[::-1]
    assert [len(p.orders) for p in pages] == [2, 2, 1]


async def test_history_beyond_one_closed_orders_page(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    placed = place(sim, creds, 55)
    for txid in placed:
        sim.fill(txid)
    one = await adapter.list_orders(creds, OrderQuery(count=100))
    assert [o.order_id for o in one.orders] == placed[::-1] and one.cursor is None
    assert sim.requests[(creds.api_key, "ClosedOrders")] == 2  # Kraken's 50, then the rest at ofs=50
    pages = await walk(adapter, creds, count=30)
    assert ids(pages) == placed[::-1] and [len(p.orders) for p in pages] == [30, 25]


async def test_open_only_is_one_request(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    done, partial, resting = place(sim, creds, 3)
    sim.fill(done)
    sim.fill(partial, "1")
    page = await adapter.list_orders(creds, OrderQuery(count=100, statuses=OPEN))
    assert [o.order_id for o in page.orders] == [resting, partial]
    assert (page.cursor, page.total) == (None, 2)
    assert requests(sim, creds) == {"OpenOrders": 1}
    partial_only = await adapter.list_orders(
        creds, OrderQuery(count=100, statuses=frozenset({OrderStatus.partiallyFilled}))
    )
    assert [o.order_id for o in partial_only.orders] == [partial]


async def test_open_only_pages_by_position(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    placed = place(sim, creds, 5)
    first = await adapter.list_orders(creds, OrderQuery(count=2, statuses=OPEN))
    assert [o.order_id for o in first.orders] == placed[:2:-1] and first.total == 5
    sim.fill(placed[4])  # served already: its closing must not shift what comes next
    pages, cursor = [], first.cursor
    while cursor is not None:
        page = await adapter.list_orders(creds, OrderQuery(count=2, statuses=OPEN, cursor=cursor))
        pages.append(page)
        cursor = page.cursor
    assert ids(pages) == placed[2::-1]


async def test_final_statuses_only_skip_open_orders(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    filled, cancelled, resting = place(sim, creds, 3)
    sim.fill(filled)
    await adapter.cancel(creds, OrderRef(cancelled, True))
    page = await adapter.list_orders(creds, OrderQuery(count=100, statuses=frozenset({OrderStatus.cancelled})))
    assert [o.order_id for o in page.orders] == [cancelled]
    page = await adapter.list_orders(creds, OrderQuery(count=100, statuses=frozenset({OrderStatus.success})))
    assert [o.order_id for o in page.orders] == [filled]
    assert sim.count(creds.api_key, "OpenOrders") == 0
    assert resting not in ids([page])


async def test_a_filter_that_skips_most_history_still_pages_correctly(
    sim: KrakenSimulator, adapter: KrakenAdapter
) -> None:
    creds = account(sim)
    placed = place(sim, creds, 60)
    for i, txid in enumerate(placed):
        if i % 10 == 0:
            await adapter.cancel(creds, OrderRef(txid, True))
        else:
            sim.fill(txid)
    cancelled = placed[::10][::-1]
    pages = await walk(adapter, creds, count=2, statuses=frozenset({OrderStatus.cancelled}))
    assert ids(pages) == cancelled


async def test_since_maps_to_start_and_filters_open_orders(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    old_open, old_closed, new_closed, new_open = place(sim, creds, 4)
    sim.fill(old_closed)
    sim.fill(new_closed)
    sim.backdate(old_open, 7200)
    sim.backdate(old_closed, 7200)
    since = int(time.time()) - 3600
    page = await adapter.list_orders(creds, OrderQuery(count=100, since=since))
    assert [o.order_id for o in page.orders] == [new_open, new_closed]
    closed_query = next(s for s in reversed(sim.seen) if s.api_key == creds.api_key and s.method == "ClosedOrders")
    assert (closed_query.params["start"], closed_query.params["closetime"]) == (str(since - 1), "open")
    everything = await adapter.list_orders(creds, OrderQuery(count=100, since=0))
    assert {o.order_id for o in everything.orders} == {old_open, old_closed, new_closed, new_open}


async def test_listing_and_cancels_on_one_key_keep_nonces_in_order(
    sim: KrakenSimulator, adapter: KrakenAdapter
) -> None:
    creds = account(sim)
    placed = place(sim, creds, 10)
    calls = [adapter.cancel(creds, OrderRef(txid, True)) for txid in placed[:5]]
    calls += [adapter.list_orders(creds, OrderQuery(count=3)) for _ in range(5)]
    results = await asyncio.gather(*calls)
    assert len(results) == 10
    assert not any(s.error for s in sim.seen if s.api_key == creds.api_key)


async def test_key_with_two_factor_needs_its_code(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim, otp=True)
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(count=10))
    assert caught.value.error_type is ErrorType.mfaRequired
    assert sim.count_key(creds.api_key) == 0
