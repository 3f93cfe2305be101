"""BybitAdapter.list_orders against the simulator on a real socket: open orders from /v5/order/realtime, then final
ones from /v5/order/history, each paged by Bybit's nextPageCursor."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.bybit.adapter import BybitAdapter
from ordergate.venues.bybit.simulator import BybitSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bybit]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BybitSimulator, str]]:
    sim = BybitSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BybitSimulator, str]) -> BybitSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BybitSimulator, str], transport: Transport) -> BybitAdapter:
    return BybitAdapter(SPEC, served[1], transport)


def account(sim: BybitSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.bybit, key.api_key, key.secret)


def ago(seconds: int) -> int:
    return (int(time.time()) - seconds) * 1000


def mine(sim: BybitSimulator, creds: Credentials, since: int) -> list[tuple[str, dict[str, object]]]:
    return [(s.op, s.params) for s in list(sim.seen) if s.api_key == creds.api_key][since:]


async def every_page(adapter: BybitAdapter, creds: Credentials, query: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, query)]
    while pages[-1].cursor is not None:
        assert len(pages) < 50, "paging does not end"
        nxt = OrderQuery(query.count, query.statuses, query.since, pages[-1].cursor, query.symbol_pair)
        pages.append(await adapter.list_orders(creds, nxt))
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def mixed(sim: BybitSimulator, adapter: BybitAdapter, creds: Credentials) -> dict[str, list[str]]:
    """Two open orders, one partly filled; two filled; two cancelled; oldest first in each list."""
    placed = [sim.place_order(creds.api_key, created_ms=ago(600 - 60 * i)) for i in range(7)]
    sim.fill(placed[1], "0.5")
    for order_id in (placed[2], placed[5]):
        sim.fill(order_id)
    for order_id in (placed[3], placed[6]):
        await adapter.cancel(creds, OrderRef(order_id, True, symbol_pair="BTCUSDT"))
    return {
        "open": [placed[0], placed[1], placed[4]],
        "filled": [placed[2], placed[5]],
        "cancelled": [placed[3], placed[6]],
    }


async def test_empty_account(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    assert await adapter.list_orders(creds, OrderQuery(100)) == OrderPage((), None, None)
    assert [op for op, _ in mine(sim, creds, 0)] == ["realtime", "history"]


async def test_one_page_open_orders_first_then_history(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    start = len(mine(sim, creds, 0))
    page = await adapter.list_orders(creds, OrderQuery(100))
    final = sorted(made["filled"] + made["cancelled"], key=lambda i: sim.describe(i)["createdTime"], reverse=True)
    assert [o.order_id for o in page.orders] == [*reversed(made["open"]), *final]
    assert page.cursor is None
    partial = next(o for o in page.orders if o.order_id == made["open"][1])
    assert (partial.status, partial.filled, partial.symbol, partial.payment_symbol) == (
        OrderStatus.partiallyFilled,
        0.5,
        "BTC",
        "USDT",
    )
    (realtime, first), (history, second) = mine(sim, creds, start)
    assert (realtime, first["openOnly"], first["limit"], history, second["limit"]) == (
        "realtime",
        "0",
        "50",
        "history",
        "50",
    )
    assert "startTime" not in second and "orderStatus" not in second


async def test_paging_reaches_every_order_once(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    pages = await every_page(adapter, creds, OrderQuery(2))
    listed = ids(pages)
    assert sorted(listed) == sorted(made["open"] + made["filled"] + made["cancelled"])
    assert len(listed) == len(set(listed)) == 7
    assert listed[:3] == list(reversed(made["open"]))
    created = [int(sim.describe(i)["createdTime"]) for i in listed[3:]]
    assert created == sorted(created, reverse=True)
    assert all(len(p.orders) <= 2 for p in pages)


async def test_open_only_is_one_request(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    start, total = len(mine(sim, creds, 0)), sim.total_requests
    page = await adapter.list_orders(creds, OrderQuery(100, OPEN))
    assert sim.total_requests - total == 1
    assert [o.order_id for o in page.orders] == list(reversed(made["open"]))
    assert page.cursor is None
    [(op, params)] = mine(sim, creds, start)
    assert (op, params["openOnly"]) == ("realtime", "0")
    only_partial = await adapter.list_orders(creds, OrderQuery(100, frozenset({OrderStatus.partiallyFilled})))
    assert [o.order_id for o in only_partial.orders] == [made["open"][1]]


async def test_cancelled_only_and_filled_only_read_history_alone(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    start = len(mine(sim, creds, 0))
    pages = await every_page(adapter, creds, OrderQuery(1, frozenset({OrderStatus.cancelled})))
    assert ids(pages) == list(reversed(made["cancelled"]))
    assert {op for op, _ in mine(sim, creds, start)} == {"history"}
    assert all("orderStatus" not in p for _, p in mine(sim, creds, start))  # three Bybit statuses mean cancelled
    start = len(mine(sim, creds, 0))
    filled = await adapter.list_orders(creds, OrderQuery(10, frozenset({OrderStatus.success})))
    assert [o.order_id for o in filled.orders] == list(reversed(made["filled"]))
    [(op, params)] = mine(sim, creds, start)
    assert (op, params["orderStatus"]) == ("history", "Filled")
    assert await adapter.list_orders(creds, OrderQuery(10, frozenset({OrderStatus.expired}))) == OrderPage(())


async def test_since_is_bybits_start_time(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    old_open = sim.place_order(creds.api_key, created_ms=ago(2 * 86400))
    old_done = sim.place_order(creds.api_key, created_ms=ago(2 * 86400 - 1))
    sim.fill(old_done)
    new = await mixed(sim, adapter, creds)
    since = int(time.time()) - 3600
    start = len(mine(sim, creds, 0))
    pages = await every_page(adapter, creds, OrderQuery(3, since=since))
    assert sorted(ids(pages)) == sorted(sum(new.values(), []))
    assert not {old_open, old_done} & set(ids(pages))
    history = [p for op, p in mine(sim, creds, start) if op == "history"]
    assert history and all(p["startTime"] == str(since * 1000) for p in history)
    assert len({p["endTime"] for p in history}) == 1  # one window for the whole walk


async def test_symbol_pair_narrows_and_errors_are_bybits(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    btc = sim.place_order(creds.api_key)
    sim.place_order(creds.api_key, symbol="ETHUSDT")
    page = await adapter.list_orders(creds, OrderQuery(10, OPEN, symbol_pair="BTC/USDT"))
    assert [o.order_id for o in page.orders] == [btc]
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, symbol_pair="BTC&USDT"))
    assert caught.value.error_type is ErrorType.invalidField
    sim.inject(Fault("venue_error", "realtime", api_key=creds.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, OPEN))
    assert caught.value.error_type is ErrorType.rateLimited
