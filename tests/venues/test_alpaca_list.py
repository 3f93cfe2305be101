"""AlpacaAdapter.list_orders over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials
from ordergate.venues.alpaca.adapter import AlpacaAdapter
from ordergate.venues.alpaca.simulator import AlpacaSimulator
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.alpaca]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[AlpacaSimulator, str]]:
    sim = AlpacaSimulator()
    with serve_asgi(sim.app, date_header=False) as url:
        yield sim, url


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport(timeout_s=2.0)
    await transport.start()
    yield transport
    await transport.close()


@pytest.fixture
def sim(served: tuple[AlpacaSimulator, str]) -> AlpacaSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[AlpacaSimulator, str], transport: Transport) -> AlpacaAdapter:
    return AlpacaAdapter(SPEC, served[1], transport)


def creds_of(account: SimAccount) -> Credentials:
    return Credentials(IntegrationType.alpaca, account.api_key, account.secret)


def placed(sim: AlpacaSimulator, account: SimAccount, n: int, *, start: datetime | None = None) -> list[str]:
    """n orders one minute apart, oldest first."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    ids = []
    for i in range(n):
        order_id, _ = sim.place(account)
        sim.set_created(order_id, start + timedelta(minutes=i))
        ids.append(order_id)
    return ids


async def every_page(adapter: AlpacaAdapter, creds: Credentials, query: OrderQuery) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):
        page = await adapter.list_orders(creds, OrderQuery(query.count, query.statuses, query.since, cursor))
        assert len(page.orders) <= query.count
        pages.append([o.order_id for o in page.orders])
        cursor = page.cursor
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


async def test_an_empty_account_lists_nothing_in_one_request(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    page = await adapter.list_orders(creds_of(account), OrderQuery(100))
    assert (page.orders, page.cursor, page.total) == ((), None, None)
    assert sim.count(account.api_key, "list") == 1


async def test_one_page_holds_every_order_newest_first_in_mesh_terms(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    ids = placed(sim, account, 3)
    sim.fill(ids[0])
    sim.fill(ids[1], "0.5")
    page = await adapter.list_orders(creds_of(account), OrderQuery(10))
    assert [o.order_id for o in page.orders] == ids[::-1]
    assert [o.status for o in page.orders] == [OrderStatus.inProgress, OrderStatus.partiallyFilled, OrderStatus.success]
    assert page.orders[0].symbol_pair == "AAPL" and page.orders[0].amount == 1.0
    assert page.cursor is None


async def test_pages_of_two_reach_every_order_once_newest_first(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    ids = placed(sim, account, 5)
    pages = await every_page(adapter, creds_of(account), OrderQuery(2))
    assert [i for page in pages for i in page] == ids[::-1]
    assert [len(p) for p in pages[:3]] == [2, 2, 1]


async def test_orders_sharing_one_timestamp_are_neither_lost_nor_repeated(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    moment = datetime.now(UTC) - timedelta(minutes=5)
    ids = placed(sim, account, 5, start=moment)
    for order_id in ids[1:4]:
        sim.set_created(order_id, moment + timedelta(minutes=1))  # three orders in the same microsecond
    pages = await every_page(adapter, creds_of(account), OrderQuery(2))
    listed = [i for page in pages for i in page]
    assert sorted(listed) == sorted(ids) and len(listed) == 5
    assert (listed[0], listed[-1]) == (ids[4], ids[0])


async def test_open_only_is_one_request_for_open_orders(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    ids = placed(sim, account, 4)
    sim.fill(ids[0])
    sim.set_status(ids[1], "canceled")
    sim.fill(ids[2], "0.25")
    page = await adapter.list_orders(creds_of(account), OrderQuery(50, OPEN_STATUSES))
    assert [o.order_id for o in page.orders] == [ids[3], ids[2]]
    assert page.cursor is None
    assert sim.count(account.api_key, "list") == 1

    partial = await adapter.list_orders(creds_of(account), OrderQuery(50, frozenset({OrderStatus.partiallyFilled})))
    assert [o.order_id for o in partial.orders] == [ids[2]]
    assert sim.count(account.api_key, "list") == 2


@pytest.mark.parametrize(
    ("wanted", "expect"),
    [
        (frozenset({OrderStatus.cancelled}), [1, 3]),
        (frozenset({OrderStatus.success}), [0]),
        (frozenset({OrderStatus.success, OrderStatus.cancelled, OrderStatus.inProgress}), [0, 1, 2, 3, 4]),
    ],
)
async def test_statuses_filter_pages_without_losing_orders(
    sim: AlpacaSimulator, adapter: AlpacaAdapter, wanted: frozenset[OrderStatus], expect: list[int]
):
    account = sim.new_account()
    ids = placed(sim, account, 6)
    sim.fill(ids[0])
    sim.set_status(ids[1], "canceled")
    sim.set_status(ids[3], "replaced")  # Mesh has no "replaced": this id was cancelled
    sim.set_status(ids[5], "expired")
    pages = await every_page(adapter, creds_of(account), OrderQuery(1, wanted))
    assert [i for page in pages for i in page] == [ids[n] for n in sorted(expect, reverse=True)]


async def test_since_keeps_orders_created_at_or_after_it(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    ids = placed(sim, account, 5, start=start)
    since = int((start + timedelta(minutes=2)).timestamp())
    pages = await every_page(adapter, creds_of(account), OrderQuery(2, since=since))
    assert [i for page in pages for i in page] == [ids[4], ids[3], ids[2]]


async def test_a_refused_listing_is_a_definite_error(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    sim.inject(Fault("venue_error", "list", api_key=account.api_key, error="auth"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds_of(account), OrderQuery(10))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert account.secret not in str(caught.value)
