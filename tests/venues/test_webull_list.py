"""WebullAdapter.list_orders over a real Transport against the simulator on a real socket: open orders
(`open-orders/list`, pagination_key only) and order history (`historical-orders/list`, start_time / end_time /
pagination_key), both paged at Webull's own page size, newest first."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.transport import Transport
from ordergate.venues.webull.adapter import WebullAdapter
from ordergate.venues.webull.simulator import PAGE_SIZE, WebullSimulator
from tests.support.servers import serve_asgi
from tests.venues import broker_listing as checks


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[WebullSimulator, str]]:
    sim = WebullSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[WebullSimulator, str]) -> Iterator[WebullSimulator]:
    yield served[0]
    served[0].page_size = PAGE_SIZE


@pytest.fixture
def book(served: tuple[WebullSimulator, str], sim: WebullSimulator, transport: Transport) -> checks.Book:
    account = sim.new_account()
    creds = Credentials(IntegrationType.weBull, account.api_key, account.secret, extras=dict(account.extras))
    adapter = WebullAdapter(SPECS[IntegrationType.weBull], served[1], transport)
    seconds = itertools.count(1)
    start = datetime.now(UTC) - timedelta(minutes=10)

    def place() -> str:
        order_id = sim.place(account)[0]
        with sim._lock:  # one order a second, as a person places them, so that `since` can fall between two
            sim._find(order_id).placed = start + timedelta(seconds=next(seconds))
        return order_id

    async def cancel(order_id: str) -> None:
        await adapter.cancel(creds, OrderRef(order_id, is_cryptocurrency=False))
        sim._settle(sim._find(order_id))  # Webull only accepts a cancel; its engine acts right after

    def created(order_id: str) -> int:
        return int(sim._find(order_id).placed.timestamp())

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


@pytest.mark.parametrize("count", [1, 2, 3, 7])
async def test_pages_ending_inside_webulls_pages_still_reach_every_order_once(
    sim: WebullSimulator, book: checks.Book, count: int
) -> None:
    sim.page_size = 2  # Webull's own page is not ordergate's: pages end inside and across Webull's
    placed = [book.place() for _ in range(5)]
    book.fill(placed[1])
    ids, _ = await checks.walk(book, count)
    assert ids == placed[::-1]
    live, _ = await checks.walk(book, count, statuses=frozenset({OrderStatus.inProgress}))
    assert live == [placed[4], placed[3], placed[2], placed[0]]


async def test_history_reaches_past_webulls_default_seven_days(sim: WebullSimulator, book: checks.Book) -> None:
    old, new = book.place(), book.place()
    sim.backdate(old, 8 * 86_400)
    sim.fill(old)
    page = await book.adapter.list_orders(book.creds, OrderQuery(count=10))
    assert [o.order_id for o in page.orders] == [new, old]
    # Asked without a time range, Webull's history covers the last 7 days only: the adapter always sends one.
    recent = sim._history(sim._apps[book.creds.api_key], {"account_id": book.creds.extras["account_id"]}, {}, None)
    assert [o["client_order_id"] for o in recent["orders"]] == [new]


async def test_from_in_the_future_is_empty_without_a_request(book: checks.Book) -> None:
    book.place()
    before = book.requests()
    page = await book.adapter.list_orders(book.creds, OrderQuery(count=10, since=2**40))
    assert (page.orders, page.cursor, book.requests() - before) == ((), None, 0)
