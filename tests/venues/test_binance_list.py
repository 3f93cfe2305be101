"""BinanceAdapter.list_orders against the simulator on a real socket: openOrders for open orders (every symbol at
once), allOrders per symbol for the rest, newest first, paged backwards by endTime."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.binance.adapter import BinanceAdapter
from ordergate.venues.binance.simulator import BinanceSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.binanceInternational]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BinanceSimulator, str]]:
    sim = BinanceSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BinanceSimulator, str]) -> BinanceSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BinanceSimulator, str], transport: Transport) -> BinanceAdapter:
    return BinanceAdapter(SPEC, served[1], transport)


def account(sim: BinanceSimulator) -> Credentials:
    made = sim.new_account()
    return Credentials(IntegrationType.binanceInternational, made.api_key, made.secret)


def ago(seconds: int) -> int:
    return (int(time.time()) - seconds) * 1000


async def every_page(adapter: BinanceAdapter, creds: Credentials, query: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, query)]
    while pages[-1].cursor is not None:
        assert len(pages) < 50, "paging does not end"
        nxt = OrderQuery(query.count, query.statuses, query.since, pages[-1].cursor, query.symbol_pair)
        pages.append(await adapter.list_orders(creds, nxt))
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def test_empty_account(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    assert await adapter.list_orders(creds, OrderQuery(100, OPEN)) == OrderPage((), None, 0)
    assert await adapter.list_orders(creds, OrderQuery(100, symbol_pair="BTCUSDT")) == OrderPage((), None, None)


async def test_one_page_newest_first_in_meshs_shape(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    first = sim.place_order(creds.api_key, quantity="2", price="50", time_ms=ago(30))
    second = sim.place_order(creds.api_key, time_ms=ago(20))
    sim.fill(str(first), "0.5")
    page = await adapter.list_orders(creds, OrderQuery(100, symbol_pair="BTC/USDT"))
    assert [o.order_id for o in page.orders] == [str(second), str(first)]
    assert page.cursor is None
    partial = page.orders[1]
    assert (partial.status, partial.amount, partial.filled, partial.symbol, partial.payment_symbol) == (
        OrderStatus.partiallyFilled,
        2.0,
        0.5,
        "BTC",
        "USDT",
    )
    assert (partial.symbol_pair, partial.created_at) == ("BTCUSDT", ago(30) // 1000)
    seen = sim.seen[-1]
    assert (seen.op, seen.params["symbol"], seen.params["limit"], "endTime" in seen.params) == (
        "allOrders",
        "BTCUSDT",
        "101",
        False,
    )


async def test_paging_reaches_every_order_once_newest_first_across_shared_milliseconds(
    sim: BinanceSimulator, adapter: BinanceAdapter
) -> None:
    creds = account(sim)
    # Three orders in one millisecond: endTime alone cannot step past them, the cursor's orderId and count do.
    times = [ago(50), ago(40), ago(40), ago(40), ago(10)]
    placed = [sim.place_order(creds.api_key, time_ms=t) for t in times]
    sim.place_order(creds.api_key, symbol="ETHUSDT")  # another symbol's history is not this one's
    pages = await every_page(adapter, creds, OrderQuery(2, symbol_pair="BTCUSDT"))
    expected = [str(placed[4]), str(placed[3]), str(placed[2]), str(placed[1]), str(placed[0])]
    assert ids(pages) == expected
    assert all(len(page.orders) <= 2 for page in pages)
    assert [p.cursor["phase"] for p in pages[:-1] if p.cursor] == ["all"] * (len(pages) - 1)


async def test_open_only_is_one_request_for_every_symbol(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    btc = sim.place_order(creds.api_key, time_ms=ago(30))
    eth = sim.place_order(creds.api_key, symbol="ETHUSDT", time_ms=ago(20))
    done = sim.place_order(creds.api_key, time_ms=ago(10))
    sim.fill(str(done))
    before = sim.total_requests
    page = await adapter.list_orders(creds, OrderQuery(100, OPEN))
    assert sim.total_requests - before == 1
    assert [o.order_id for o in page.orders] == [str(eth), str(btc)]
    assert (page.total, page.cursor) == (2, None)
    assert (sim.seen[-1].op, sim.seen[-1].params.keys()) == ("openOrders", {"timestamp", "recvWindow"})


async def test_open_only_pages_and_takes_a_symbol(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    placed = [sim.place_order(creds.api_key, time_ms=ago(50 - i)) for i in range(3)]
    sim.place_order(creds.api_key, symbol="ETHUSDT")
    pages = await every_page(adapter, creds, OrderQuery(2, OPEN, symbol_pair="BTCUSDT"))
    assert ids(pages) == [str(i) for i in reversed(placed)]
    assert [p.total for p in pages] == [3, 3]
    assert sim.seen[-1].params["symbol"] == "BTCUSDT"


@pytest.mark.parametrize("wanted", [OrderStatus.cancelled, OrderStatus.success])
async def test_final_statuses_only(
    sim: BinanceSimulator, adapter: BinanceAdapter, transport: Transport, wanted: OrderStatus
) -> None:
    creds = account(sim)
    placed = [sim.place_order(creds.api_key, time_ms=ago(60 - i)) for i in range(6)]
    for order_id in placed[::3]:
        sim.fill(str(order_id))

    for order_id in placed[1::3]:
        await adapter.cancel(creds, OrderRef(str(order_id), True, symbol_pair="BTCUSDT"))
    pages = await every_page(adapter, creds, OrderQuery(1, frozenset({wanted}), symbol_pair="BTCUSDT"))
    chosen = placed[::3] if wanted is OrderStatus.success else placed[1::3]
    assert ids(pages) == [str(i) for i in reversed(chosen)]
    assert {o.status for page in pages for o in page.orders} == {wanted}


async def test_since_filters_and_ends_the_paging(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    old = [sim.place_order(creds.api_key, time_ms=ago(7200 + i)) for i in range(3)]
    new = [sim.place_order(creds.api_key, time_ms=ago(60 - i)) for i in range(3)]
    since = int(time.time()) - 3600
    pages = await every_page(adapter, creds, OrderQuery(2, since=since, symbol_pair="BTCUSDT"))
    assert ids(pages) == [str(i) for i in reversed(new)]
    assert not set(ids(pages)) & {str(i) for i in old}
    open_page = await adapter.list_orders(creds, OrderQuery(10, OPEN, since=since))
    assert [o.order_id for o in open_page.orders] == [str(i) for i in reversed(new)]


async def test_history_needs_a_symbol_and_sends_nothing_without_one(
    sim: BinanceSimulator, adapter: BinanceAdapter
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for statuses in (
        None,
        frozenset({OrderStatus.cancelled}),
        frozenset({OrderStatus.inProgress, OrderStatus.success}),
    ):
        with pytest.raises(GatewayError) as caught:
            await adapter.list_orders(creds, OrderQuery(10, statuses))
        assert (caught.value.error_type, list(caught.value.error_data["fields"])) == (
            ErrorType.missingField,
            ["symbolPair"],
        )
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, symbol_pair="BTC&USDT"))
    assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent


async def test_errors_of_a_listing_are_binances(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, symbol_pair="NOPEUSDT"))
    assert caught.value.error_type is ErrorType.institutionRejected

    sim.inject(Fault("venue_error", "openOrders", api_key=creds.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, OPEN))
    assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, 30)
