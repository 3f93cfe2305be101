"""CoinbaseExchangeAdapter.list_orders over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.coinbase_exchange.adapter import CoinbaseExchangeAdapter
from ordergate.venues.coinbase_exchange.simulator import CoinbaseExchangeSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.coinbasePro]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbaseExchangeSimulator, str]]:
    sim = CoinbaseExchangeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CoinbaseExchangeSimulator, str]) -> CoinbaseExchangeSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CoinbaseExchangeSimulator, str], transport: Transport) -> CoinbaseExchangeAdapter:
    return CoinbaseExchangeAdapter(SPEC, served[1], transport)


def account(sim: CoinbaseExchangeSimulator) -> Credentials:
    issued = sim.new_account()
    return Credentials(IntegrationType.coinbasePro, issued.api_key, issued.secret, issued.passphrase)


def placed(sim: CoinbaseExchangeSimulator, creds: Credentials, n: int, *, start: datetime | None = None) -> list[str]:
    """n orders one minute apart, oldest first."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    owner = SimAccount(creds.api_key, creds.secret, creds.passphrase)
    ids = []
    for i in range(n):
        order_id = sim.place(owner, price="20000")[0]
        sim.set_created(order_id, start + timedelta(minutes=i))
        ids.append(order_id)
    return ids


async def every_page(adapter: CoinbaseExchangeAdapter, creds: Credentials, query: OrderQuery) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):
        page = await adapter.list_orders(creds, OrderQuery(query.count, query.statuses, query.since, cursor))
        assert len(page.orders) <= query.count and page.total is None
        pages.append([o.order_id for o in page.orders])
        cursor = page.cursor
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


async def cancel(adapter: CoinbaseExchangeAdapter, creds: Credentials, order_id: str) -> None:
    await adapter.cancel(creds, OrderRef(id=order_id, is_cryptocurrency=True, symbol_pair="BTC-USD"))


async def test_an_empty_account_lists_nothing_in_one_request(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    page = await adapter.list_orders(creds, OrderQuery(100))
    assert (page.orders, page.cursor, page.total) == ((), None, None)
    assert sim.count(creds.api_key, "GetOrders") == 1


async def test_one_page_holds_every_order_newest_first(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[0])
    sim.fill(ids[1], "0.5")
    page = await adapter.list_orders(creds, OrderQuery(10))
    assert [o.order_id for o in page.orders] == ids[::-1]
    assert [o.status for o in page.orders] == [OrderStatus.inProgress, OrderStatus.partiallyFilled, OrderStatus.success]
    assert (page.orders[0].symbol_pair, page.cursor) == ("BTC-USD", None)


async def test_pages_of_two_reach_every_order_once_newest_first(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 5)
    placed(sim, account(sim), 2)  # another profile's orders never show
    pages = await every_page(adapter, creds, OrderQuery(2))
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]


async def test_open_only_is_one_request(sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 4)
    sim.fill(ids[0])
    sim.fill(ids[2], "0.25")
    await cancel(adapter, creds, ids[1])
    page = await adapter.list_orders(creds, OrderQuery(50, OPEN_STATUSES))
    assert [o.order_id for o in page.orders] == [ids[3], ids[2]]
    assert (page.cursor, sim.count(creds.api_key, "GetOrders")) == (None, 1)


async def test_cancelled_lists_only_orders_that_had_fills_because_coinbase_purges_the_rest(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 4)
    sim.fill(ids[0])
    sim.fill(ids[1], "0.5")
    await cancel(adapter, creds, ids[1])  # partly filled, then cancelled: kept as done/canceled
    await cancel(adapter, creds, ids[2])  # never filled: purged, as Coinbase Exchange does
    cancelled = await every_page(adapter, creds, OrderQuery(1, frozenset({OrderStatus.cancelled})))
    assert [i for page in cancelled for i in page] == [ids[1]]
    filled = await every_page(adapter, creds, OrderQuery(5, frozenset({OrderStatus.success})))
    assert [i for page in filled for i in page] == [ids[0]]
    mixed = await every_page(adapter, creds, OrderQuery(1, frozenset({OrderStatus.success, OrderStatus.inProgress})))
    assert [i for page in mixed for i in page] == [ids[3], ids[0]]


async def test_since_is_coinbases_start_date(sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter) -> None:
    creds = account(sim)
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    ids = placed(sim, creds, 5, start=start)
    since = int((start + timedelta(minutes=2)).timestamp())
    pages = await every_page(adapter, creds, OrderQuery(2, since=since))
    assert [i for page in pages for i in page] == [ids[4], ids[3], ids[2]]


async def test_a_refused_listing_is_a_definite_error(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    sim.inject(Fault("venue_error", "GetOrders", api_key=creds.api_key, error="auth"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert creds.secret not in str(caught.value)
