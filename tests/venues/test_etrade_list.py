"""ETradeAdapter.list_orders over a real Transport against the simulator on a real socket: List Orders
(`GET /v1/accounts/{accountIdKey}/orders`) with `count`, `marker`, `status`, `fromDate`/`toDate`."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.etrade.adapter import ETradeAdapter
from ordergate.venues.etrade.simulator import ETradeSimulator
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi
from tests.venues import broker_listing as checks


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ETradeSimulator, str]]:
    sim = ETradeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def book(served: tuple[ETradeSimulator, str], transport: Transport) -> checks.Book:
    sim, url = served
    account = sim.new_account()
    creds = Credentials(IntegrationType.eTrade, account.api_key, account.secret, account.passphrase, account.extras)
    adapter = ETradeAdapter(SPECS[IntegrationType.eTrade], url, transport)
    seconds = itertools.count(1)
    start_ms = int(time.time() * 1000) - 60_000

    def place() -> str:
        order_id = sim.place(account)[0]
        with sim._lock:  # one order a second, as a person places them, so that `since` can fall between two
            sim._orders[int(order_id)].placed_ms = start_ms + 1000 * next(seconds)
        return order_id

    async def cancel(order_id: str) -> None:
        await adapter.cancel(creds, OrderRef(order_id, is_cryptocurrency=False))

    def created(order_id: str) -> int:
        return sim.describe(order_id)["OrderDetail"][0]["placedTime"] // 1000

    return checks.Book(adapter, creds, place, sim.fill, cancel, lambda: transport.requests_sent, created)


async def test_an_empty_account(book: checks.Book) -> None:
    await checks.empty_account(book)


async def test_one_page(book: checks.Book) -> None:
    await checks.one_page(book)


async def test_several_pages_reach_every_order_once_newest_first(book: checks.Book) -> None:
    await checks.several_pages(book)


async def test_statuses(book: checks.Book) -> None:
    await checks.statuses(book)


async def test_since(book: checks.Book) -> None:
    await checks.since(book)


async def test_open_orders_are_the_status_filter_and_count_is_capped(
    served: tuple[ETradeSimulator, str], book: checks.Book
) -> None:
    sim, _ = served
    book.place()
    before = sim.total_requests
    query = OrderQuery(count=250, statuses=frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled}))
    page = await book.adapter.list_orders(book.creds, query)
    # The simulator refuses a count over 100, as E*TRADE documents the bound: 250 went out as 100.
    assert len(page.orders) == 1 and sim.total_requests - before == 1


async def test_a_cursor_from_elsewhere_is_refused(book: checks.Book) -> None:
    with pytest.raises(GatewayError) as caught:
        await book.adapter.list_orders(book.creds, OrderQuery(count=2, cursor={"marker": "../x"}))
    assert caught.value.error_type.value == "invalidField"
