"""IbkrAdapter.list_orders over a real Transport against the simulator on a real socket: the session's orders from
`GET /iserver/account/orders` (filters, accountId; never force), paged here newest first. Client Portal keeps no
order history beyond the session's orders, so that is what is listed."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.ibkr.adapter import IbkrAdapter
from ordergate.venues.ibkr.simulator import IbkrSimulator
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi
from tests.venues import broker_listing as checks

IBKR = IntegrationType.interactiveBrokers


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[IbkrSimulator, str]]:
    sim = IbkrSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport(timeout_s=2.0)
    await transport.start()
    yield transport
    await transport.close()


@pytest.fixture
def book(served: tuple[IbkrSimulator, str], transport: Transport) -> checks.Book:
    sim, url = served
    account = sim.new_account()
    creds = Credentials(IBKR, "", "", extras={"account": account.api_key})
    adapter = IbkrAdapter(SPECS[IBKR], url, transport)
    seconds = itertools.count(1)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    def place() -> str:
        order_id = sim.place(account)[0]
        with sim._lock:  # one order a second, as a person places them, so that `since` can fall between two
            sim._orders[order_id].created = start + timedelta(seconds=next(seconds))
        return order_id

    async def cancel(order_id: str) -> None:
        await adapter.cancel(creds, OrderRef(order_id, is_cryptocurrency=False))
        sim._settle(order_id)

    def created(order_id: str) -> int:
        return int(sim._orders[order_id].created.timestamp())

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


async def test_only_this_accounts_orders(served: tuple[IbkrSimulator, str], book: checks.Book) -> None:
    sim, _ = served
    mine = book.place()
    sim.place(sim.new_account())  # another account the same gateway login holds
    page = await book.adapter.list_orders(book.creds, OrderQuery(count=100))
    assert [o.order_id for o in page.orders] == [mine]


async def test_force_would_answer_nothing_so_it_is_never_sent(
    served: tuple[IbkrSimulator, str], book: checks.Book, transport: Transport
) -> None:
    sim, url = served
    placed = book.place()
    account = book.creds.extras["account"]
    forced = await transport.send("GET", f"{url}/v1/api/iserver/account/orders?accountId={account}&force=true")
    assert forced.status == 200 and b'"orders":[]' in forced.body
    page = await book.adapter.list_orders(book.creds, OrderQuery(count=100))
    assert [o.order_id for o in page.orders] == [placed]
    assert page.orders[0].status is OrderStatus.inProgress
