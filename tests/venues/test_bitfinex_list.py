"""BitfinexAdapter.list_orders against the simulator on a real socket: active orders (`/v2/auth/r/orders`), then
closed ones (`/v2/auth/r/orders/hist`, newest first, paged with `end`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.bitfinex.adapter import BitfinexAdapter
from ordergate.venues.bitfinex.simulator import BitfinexSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitfinex]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitfinexSimulator, str]]:
    sim = BitfinexSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitfinexSimulator, str]) -> BitfinexSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitfinexSimulator, str], transport: Transport) -> BitfinexAdapter:
    return BitfinexAdapter(SPEC, served[1], transport)


def account(sim: BitfinexSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.bitfinex, key.api_key, key.secret)


def place(sim: BitfinexSimulator, creds: Credentials, age_s: int = 0) -> str:
    number = sim.place_order(creds.api_key)
    with sim._lock:  # distinct creation times, oldest first, so "newest first" has one answer
        order = sim._orders[number]
        order.created -= 10_000 * (1000 - len(sim._orders)) + age_s * 1000
    return str(number)


def stamp_updates(sim: BitfinexSimulator, order_ids: list[str], *, same: bool = False) -> None:
    with sim._lock:
        base = max(o.updated for o in sim._orders.values())
        for k, order_id in enumerate(order_ids):
            sim._orders[int(order_id)].updated = base + (0 if same else k + 1)


async def walk(adapter: BitfinexAdapter, creds: Credentials, count: int, **query: object) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, OrderQuery(count, **query))]  # type: ignore[arg-type]
    while pages[-1].cursor is not None:
        assert len(pages) < 20, "the cursor never ends"
        pages.append(await adapter.list_orders(creds, OrderQuery(count, cursor=pages[-1].cursor, **query)))  # type: ignore[arg-type]
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def test_empty_account(adapter: BitfinexAdapter, sim: BitfinexSimulator) -> None:
    creds = account(sim)
    assert await adapter.list_orders(creds, OrderQuery(100)) == OrderPage(())
    assert (sim.count(creds.api_key, "orders"), sim.count(creds.api_key, "hist")) == (1, 1)


async def test_one_page_holds_active_then_closed_orders(adapter: BitfinexAdapter, sim: BitfinexSimulator) -> None:
    creds = account(sim)
    first, second, third = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(second, True))
    sim.fill(first, "0.25")
    page = await adapter.list_orders(creds, OrderQuery(100))
    assert [(o.order_id, o.status) for o in page.orders] == [
        (third, OrderStatus.inProgress),
        (first, OrderStatus.partiallyFilled),
        (second, OrderStatus.cancelled),
    ]
    assert page.cursor is None and page.total is None and page.orders[0].symbol_pair == "tBTCUSD"


async def test_pages_of_two_reach_every_order_once_newest_first(
    adapter: BitfinexAdapter, sim: BitfinexSimulator
) -> None:
    creds = account(sim)
    placed = [place(sim, creds) for _ in range(5)]
    assert ids(await walk(adapter, creds, 2)) == placed[::-1]

    closed = [place(sim, creds) for _ in range(5)]
    for order_id in closed:
        await adapter.cancel(creds, OrderRef(order_id, True))
    stamp_updates(sim, closed)
    pages = await walk(adapter, creds, 2, statuses=frozenset({OrderStatus.cancelled}))
    assert ids(pages) == closed[::-1] and all(len(p.orders) <= 2 for p in pages)
    # Five orders closed in the same millisecond: `end` is inclusive and the cursor skips the ones handed out.
    stamp_updates(sim, closed, same=True)
    tied = await walk(adapter, creds, 2, statuses=frozenset({OrderStatus.cancelled}))
    assert sorted(ids(tied)) == sorted(closed) and len(ids(tied)) == 5


async def test_the_last_page_is_never_empty(adapter: BitfinexAdapter, sim: BitfinexSimulator) -> None:
    creds = account(sim)
    live = [place(sim, creds) for _ in range(2)]
    only_active = await walk(adapter, creds, 2)
    assert [ids([p]) for p in only_active] == [live[::-1]]  # the history request asked one row and found none

    closed = [place(sim, creds) for _ in range(2)]
    for order_id in closed:
        await adapter.cancel(creds, OrderRef(order_id, True))
    stamp_updates(sim, closed)
    pages = await walk(adapter, creds, 2)
    assert [ids([p]) for p in pages] == [live[::-1], closed[::-1]]


async def test_open_only_is_one_request_and_closed_only_skips_active_orders(
    adapter: BitfinexAdapter, sim: BitfinexSimulator
) -> None:
    creds = account(sim)
    live, cancelled, filled = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(cancelled, True))
    sim.fill(filled)
    before = sim.count_key(creds.api_key)
    page = await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN))
    assert ids([page]) == [live] and page.cursor is None
    assert sim.count_key(creds.api_key) - before == 1 and sim.count(creds.api_key, "hist") == 0

    done = await adapter.list_orders(creds, OrderQuery(100, statuses=frozenset({OrderStatus.success})))
    assert [(o.order_id, o.status) for o in done.orders] == [(filled, OrderStatus.success)]
    assert sim.count(creds.api_key, "orders") == 1
    gone = await adapter.list_orders(creds, OrderQuery(100, statuses=frozenset({OrderStatus.cancelled})))
    assert ids([gone]) == [cancelled]


async def test_since_maps_to_start(adapter: BitfinexAdapter, sim: BitfinexSimulator) -> None:
    creds = account(sim)
    old_live, old_closed, new_live, new_closed = (place(sim, creds) for _ in range(4))
    for order_id in (old_closed, new_closed):
        await adapter.cancel(creds, OrderRef(order_id, True))
    for order_id in (old_live, old_closed):
        sim.backdate(order_id, 7200)
    since = sim._orders[int(new_live)].created // 1000 - 600
    page = await adapter.list_orders(creds, OrderQuery(100, since=since))
    assert ids([page]) == [new_live, new_closed]


async def test_a_refused_listing_is_a_definite_error(adapter: BitfinexAdapter, sim: BitfinexSimulator) -> None:
    creds = account(sim)
    sim.inject(Fault("venue_error", "hist", creds.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, statuses=frozenset({OrderStatus.cancelled})))
    assert caught.value.error_type.value == "rateLimited" and creds.secret not in str(caught.value)
