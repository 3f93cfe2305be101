"""BitstampAdapter.list_orders against the simulator on a real socket: open orders (`/api/v2/open_orders/all/`), the
only order list Bitstamp documents; a listing that would include closed orders is refused before any request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.bitstamp.adapter import BitstampAdapter
from ordergate.venues.bitstamp.simulator import BitstampSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitstamp]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitstampSimulator, str]]:
    sim = BitstampSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitstampSimulator, str]) -> BitstampSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitstampSimulator, str], transport: Transport) -> BitstampAdapter:
    return BitstampAdapter(SPEC, served[1], transport)


def account(sim: BitstampSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.bitstamp, key.api_key, key.secret)


def place(sim: BitstampSimulator, creds: Credentials) -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret), volume="1", price="20000")[0]


async def walk(adapter: BitstampAdapter, creds: Credentials, count: int, **query: object) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, OrderQuery(count, statuses=OPEN, **query))]  # type: ignore[arg-type]
    while pages[-1].cursor is not None:
        assert len(pages) < 20, "the cursor never ends"
        cursor = pages[-1].cursor
        pages.append(await adapter.list_orders(creds, OrderQuery(count, statuses=OPEN, cursor=cursor, **query)))  # type: ignore[arg-type]
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def test_empty_account(adapter: BitstampAdapter, sim: BitstampSimulator) -> None:
    creds = account(sim)
    assert await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN)) == OrderPage(())
    assert sim.count(creds.api_key, "open_orders") == 1


async def test_closed_orders_are_refused_before_any_request(adapter: BitstampAdapter, sim: BitstampSimulator) -> None:
    creds = account(sim)
    for statuses in (frozenset({OrderStatus.cancelled}), frozenset({OrderStatus.success, OrderStatus.expired})):
        with pytest.raises(GatewayError) as caught:
            await adapter.list_orders(creds, OrderQuery(10, statuses=statuses))
        assert caught.value.error_type is ErrorType.listingNotSupported
    assert sim.count_key(creds.api_key) == 0


async def test_a_listing_of_every_status_holds_the_open_orders(
    adapter: BitstampAdapter, sim: BitstampSimulator
) -> None:
    creds = account(sim)
    open_one, done = place(sim, creds), place(sim, creds)
    sim.fill(done)
    for statuses in (None, OPEN | {OrderStatus.success}):
        page = await adapter.list_orders(creds, OrderQuery(10, statuses=statuses))
        assert [o.order_id for o in page.orders] == [open_one]


async def test_one_page_and_partial_fills(adapter: BitstampAdapter, sim: BitstampSimulator) -> None:
    creds = account(sim)
    first, second, third = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(second, True))
    sim.fill(first, "0.25")
    before = sim.count_key(creds.api_key)
    page = await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN))
    assert sim.count_key(creds.api_key) - before == 1
    assert [(o.order_id, o.status, o.amount, o.filled) for o in page.orders] == [
        (third, OrderStatus.inProgress, 1.0, 0.0),
        (first, OrderStatus.partiallyFilled, 1.0, 0.25),
    ]
    assert page.cursor is None and page.orders[0].symbol_pair == "BTC/USD"
    only_partial = await adapter.list_orders(creds, OrderQuery(100, statuses=frozenset({OrderStatus.partiallyFilled})))
    assert [o.order_id for o in only_partial.orders] == [first]


async def test_pages_of_two_reach_every_order_once_newest_first(
    adapter: BitstampAdapter, sim: BitstampSimulator
) -> None:
    creds = account(sim)
    placed = [place(sim, creds) for _ in range(5)]
    for age, order_id in enumerate(placed[::-1]):  # distinct times, oldest first
        sim.backdate(order_id, age)
    pages = await walk(adapter, creds, 2)
    assert ids(pages) == placed[::-1] and [len(p.orders) for p in pages] == [2, 2, 1]
    assert sim.count(creds.api_key, "open_orders") == 3


async def test_since_filters_open_orders(adapter: BitstampAdapter, sim: BitstampSimulator) -> None:
    creds = account(sim)
    old, new = place(sim, creds), place(sim, creds)
    sim.backdate(old, 7200)
    since = sim._orders[new].created.timestamp() - 600
    page = await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN, since=int(since)))
    assert ids([page]) == [new]
