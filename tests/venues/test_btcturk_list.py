"""BtcTurkAdapter.list_orders against the simulator on a real socket: open orders from openOrders (one request),
every other status from allOrders, per pair."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.btcturk.adapter import BtcTurkAdapter
from ordergate.venues.btcturk.simulator import BtcTurkSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.btcTurkDirect]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BtcTurkSimulator, str]]:
    sim = BtcTurkSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BtcTurkSimulator, str]) -> BtcTurkSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BtcTurkSimulator, str], transport: Transport) -> BtcTurkAdapter:
    return BtcTurkAdapter(SPEC, served[1], transport)


def account(sim: BtcTurkSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.btcTurkDirect, key.api_key, key.secret)


def placed(sim: BtcTurkSimulator, creds: Credentials, n: int, **kw: Any) -> list[str]:
    """n orders, oldest first, a second apart; buys and sells alternate (openOrders splits them)."""
    ids = [sim.place_order(creds.api_key, side=("buy", "sell")[i % 2], price=str(100 + i), **kw) for i in range(n)]
    for age, order_id in enumerate(reversed(ids)):
        sim.age(order_id, age)
    return ids


async def every_page(adapter: BtcTurkAdapter, creds: Credentials, query: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, query)]
    while pages[-1].cursor is not None and len(pages) < 10:
        pages.append(await adapter.list_orders(creds, replace(query, cursor=pages[-1].cursor)))
    return pages


@pytest.mark.parametrize("statuses", [OPEN, None])
async def test_an_empty_account(sim: BtcTurkSimulator, adapter: BtcTurkAdapter, statuses: Any) -> None:
    page = await adapter.list_orders(account(sim), OrderQuery(count=100, statuses=statuses, symbol_pair="BTCTRY"))
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_open_orders_one_page_newest_first(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[0], "0.5")
    sent = adapter.transport.requests_sent
    page = await adapter.list_orders(creds, OrderQuery(count=100, statuses=OPEN))
    assert adapter.transport.requests_sent - sent == 1 and sim.count(creds.api_key, "open_orders") == 1
    assert [o.order_id for o in page.orders] == ids[::-1] and page.cursor is None
    assert (page.orders[-1].status, page.orders[-1].filled, page.orders[-1].symbol_pair) == (
        OrderStatus.partiallyFilled, 0.5, "BTCTRY",
    )  # fmt: skip


async def test_open_orders_page_through_every_order_once(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 5)
    pages = await every_page(adapter, creds, OrderQuery(count=2, statuses=OPEN))
    assert [len(p.orders) for p in pages] == [2, 2, 1]
    assert [o.order_id for p in pages for o in p.orders] == ids[::-1]
    assert sim.count(creds.api_key, "open_orders") == 3 and sim.count(creds.api_key, "all_orders") == 0


async def test_history_pages_through_every_order_once(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 5)
    sim.fill(ids[1])
    await adapter.cancel(creds, OrderRef(ids[3], True))
    pages = await every_page(adapter, creds, OrderQuery(count=2, symbol_pair="BTCTRY"))
    assert [o.order_id for p in pages for o in p.orders] == ids[::-1]
    statuses = {o.order_id: o.status for p in pages for o in p.orders}
    assert (statuses[ids[1]], statuses[ids[3]], statuses[ids[0]]) == (
        OrderStatus.success, OrderStatus.cancelled, OrderStatus.inProgress,
    )  # fmt: skip


async def test_an_order_placed_between_pages_is_not_listed_twice(
    sim: BtcTurkSimulator, adapter: BtcTurkAdapter
) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 4)
    first = await adapter.list_orders(creds, OrderQuery(count=2, symbol_pair="BTCTRY"))
    assert [o.order_id for o in first.orders] == [ids[3], ids[2]]
    sim.place_order(creds.api_key)  # pushes ids[2] onto the second page of allOrders
    rest = await every_page(adapter, creds, OrderQuery(count=2, symbol_pair="BTCTRY", cursor=first.cursor))
    assert [o.order_id for p in rest for o in p.orders] == [ids[1], ids[0]]


@pytest.mark.parametrize("status", [OrderStatus.cancelled, OrderStatus.success])
async def test_closed_statuses(sim: BtcTurkSimulator, adapter: BtcTurkAdapter, status: OrderStatus) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[0])
    await adapter.cancel(creds, OrderRef(ids[1], True))
    page = await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset({status}), symbol_pair="BTCTRY"))
    assert [o.order_id for o in page.orders] == [ids[0] if status is OrderStatus.success else ids[1]]
    assert sim.count(creds.api_key, "all_orders") == 1


async def test_history_needs_a_pair(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset({OrderStatus.cancelled})))
    assert caught.value.error_type is ErrorType.missingField
    assert caught.value.error_data == {"fields": {"symbolPair": "required"}}
    assert adapter.transport.requests_sent == sent


async def test_since_is_bitcturks_start_time(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    old, *recent = placed(sim, creds, 3)
    sim.age(old, 7200)
    newest = (await adapter.list_orders(creds, OrderQuery(count=1, statuses=OPEN))).orders[0].created_at
    assert newest is not None
    for statuses in (OPEN, None):
        page = await adapter.list_orders(
            creds, OrderQuery(count=10, statuses=statuses, since=newest - 10, symbol_pair="BTCTRY")
        )
        assert [o.order_id for o in page.orders] == recent[::-1]


async def test_a_pair_filters_open_orders(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    sim.place_order(creds.api_key)
    usdt = sim.place_order(creds.api_key, pair="BTCUSDT")
    page = await adapter.list_orders(creds, OrderQuery(count=10, statuses=OPEN, symbol_pair="BTCUSDT"))
    assert [o.order_id for o in page.orders] == [usdt]
