"""CexIoAdapter.list_orders over a real Transport against the simulator's get_my_orders on a real socket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.cex_io.adapter import CexIoAdapter
from ordergate.venues.cex_io.simulator import CexIoSimulator
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.cexIo]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CexIoSimulator, str]]:
    sim = CexIoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CexIoSimulator, str]) -> CexIoSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CexIoSimulator, str], transport: Transport) -> CexIoAdapter:
    return CexIoAdapter(SPEC, served[1], transport)


def account(sim: CexIoSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.cexIo, key.api_key, key.secret)


def query(count: int = 100, statuses: set[OrderStatus] | None = None, **kw: object) -> OrderQuery:
    return OrderQuery(count=count, statuses=None if statuses is None else frozenset(statuses), **kw)  # type: ignore[arg-type]


async def every_page(adapter: CexIoAdapter, creds: Credentials, q: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, q)]
    while pages[-1].cursor is not None:
        q = OrderQuery(q.count, q.statuses, q.since, pages[-1].cursor, q.symbol_pair)
        pages.append(await adapter.list_orders(creds, q))
    return pages


async def five_orders(sim: CexIoSimulator, adapter: CexIoAdapter, creds: Credentials, gap: float = 100) -> list[str]:
    """Open, partially filled, filled, cancelled, open (oldest to newest, `gap` seconds apart)."""
    ids = [sim.place(SimAccount(creds.api_key, creds.secret))[0] for _ in range(5)]
    for n, order_id in enumerate(ids):
        sim.age(order_id, seconds=gap * (5 - n))
    sim.fill(ids[1], "0.5")
    sim.fill(ids[2])
    await adapter.cancel(creds, OrderRef(id=ids[3], is_cryptocurrency=True))
    return ids


async def test_empty_account(sim: CexIoSimulator, adapter: CexIoAdapter) -> None:
    creds = account(sim)
    page = await adapter.list_orders(creds, query())
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_one_page_newest_first(sim: CexIoSimulator, adapter: CexIoAdapter) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    before = sim.count(creds.api_key, "get_my_orders")  # the cancel's own lookups
    page = await adapter.list_orders(creds, query())
    # The open orders end with room left in the page, so the same page goes on into the archive.
    assert [(o.order_id, o.status) for o in page.orders] == [
        (ids[4], OrderStatus.inProgress),
        (ids[1], OrderStatus.partiallyFilled),
        (ids[0], OrderStatus.inProgress),
        (ids[3], OrderStatus.cancelled),
        (ids[2], OrderStatus.success),
    ]
    assert page.cursor is None
    assert (page.orders[0].symbol_pair, page.orders[0].symbol, page.orders[0].payment_symbol) == (
        "BTC-USD",
        "BTC",
        "USD",
    )
    assert sim.count(creds.api_key, "get_my_orders") - before == 2


@pytest.mark.parametrize("gap", [100, 0], ids=["distinct times", "one millisecond"])
async def test_pages_of_two_reach_every_order_once(sim: CexIoSimulator, adapter: CexIoAdapter, gap: float) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds, gap)
    pages = await every_page(adapter, creds, query(2))
    seen = [o.order_id for p in pages for o in p.orders]
    assert (
        all(len(p.orders) <= 2 for p in pages)
        and all(p.orders for p in pages[:-1])
        and sorted(seen) == sorted(ids)
        and len(set(seen)) == 5
    )
    if gap:  # open orders first, then the archive, each newest first
        assert seen == [ids[4], ids[1], ids[0], ids[3], ids[2]]


async def test_open_only_is_one_request(sim: CexIoSimulator, adapter: CexIoAdapter) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    before = sim.count(creds.api_key, "get_my_orders")
    page = await adapter.list_orders(creds, query(statuses={OrderStatus.inProgress, OrderStatus.partiallyFilled}))
    assert [o.order_id for o in page.orders] == [ids[4], ids[1], ids[0]] and page.cursor is None
    assert sim.count(creds.api_key, "get_my_orders") - before == 1


@pytest.mark.parametrize(
    ("statuses", "picked"),
    [({OrderStatus.cancelled}, [3]), ({OrderStatus.success}, [2]), ({OrderStatus.partiallyFilled}, [1]),
     ({OrderStatus.cancelled, OrderStatus.success}, [3, 2])],
)  # fmt: skip
async def test_statuses_filter(
    sim: CexIoSimulator, adapter: CexIoAdapter, statuses: set[OrderStatus], picked: list[int]
) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    pages = await every_page(adapter, creds, query(1, statuses))
    assert [o.order_id for p in pages for o in p.orders] == [ids[i] for i in picked]


async def test_since_is_start_time(sim: CexIoSimulator, adapter: CexIoAdapter) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    pages = await every_page(adapter, creds, query(1, since=int(time.time()) - 250))
    assert sorted(o.order_id for p in pages for o in p.orders) == sorted([ids[4], ids[3]])


async def test_symbol_and_forged_cursor(sim: CexIoSimulator, adapter: CexIoAdapter) -> None:
    creds = account(sim)
    await five_orders(sim, adapter, creds)
    before = sim.count(creds.api_key, "get_my_orders")
    assert (await adapter.list_orders(creds, query(symbol_pair="ETH/USD"))).orders == ()
    for bad in (query(symbol_pair="BTC-USD&pageSize=9"), query(cursor={"phase": "archive", "page": 0, "size": 10**6})):
        with pytest.raises(GatewayError) as refused:
            await adapter.list_orders(creds, bad)
        assert refused.value.error_type is ErrorType.invalidField
    assert sim.count(creds.api_key, "get_my_orders") - before == 2  # an empty open phase goes on into the archive
