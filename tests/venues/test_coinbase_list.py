"""CoinbaseAdapter.list_orders over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.coinbase.adapter import CoinbaseAdapter
from ordergate.venues.coinbase.simulator import CoinbaseSimulator
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.coinbase]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbaseSimulator, str]]:
    sim = CoinbaseSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CoinbaseSimulator, str]) -> CoinbaseSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CoinbaseSimulator, str], transport: Transport) -> CoinbaseAdapter:
    return CoinbaseAdapter(SPEC, served[1], transport)


def account(sim: CoinbaseSimulator, kind: str = "ec") -> tuple[Credentials, str]:
    issued = sim.new_credentials(kind)
    return Credentials(
        IntegrationType.coinbase, issued.api_key, issued.secret, extras=dict(issued.extras)
    ), issued.api_key


def placed(sim: CoinbaseSimulator, label: str, n: int, *, start: datetime | None = None) -> list[str]:
    """n orders one minute apart, oldest first."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    ids = []
    for i in range(n):
        order_id = sim.place_order(label)
        sim.set_created(order_id, start + timedelta(minutes=i))
        ids.append(order_id)
    return ids


async def every_page(adapter: CoinbaseAdapter, creds: Credentials, query: OrderQuery) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):
        page = await adapter.list_orders(creds, OrderQuery(query.count, query.statuses, query.since, cursor))
        assert len(page.orders) <= query.count and page.total is None
        pages.append([o.order_id for o in page.orders])
        cursor = page.cursor
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


async def cancel(adapter: CoinbaseAdapter, creds: Credentials, order_id: str) -> None:
    await adapter.cancel(creds, OrderRef(id=order_id, is_cryptocurrency=True, side=OrderSide.buy))


@pytest.mark.parametrize("kind", ["ec", "ed25519", "oauth"])
async def test_an_empty_account_lists_nothing_in_one_request(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter, kind: str
) -> None:
    creds, label = account(sim, kind)
    page = await adapter.list_orders(creds, OrderQuery(100))
    assert (page.orders, page.cursor, page.total) == ((), None, None)
    assert sim.count(label, "list_orders") == 1


async def test_one_page_holds_every_order_newest_first(sim: CoinbaseSimulator, adapter: CoinbaseAdapter) -> None:
    creds, label = account(sim)
    ids = placed(sim, label, 3)
    sim.fill(ids[0])
    sim.fill(ids[1], "0.5")
    page = await adapter.list_orders(creds, OrderQuery(10))
    assert [o.order_id for o in page.orders] == ids[::-1]
    assert [o.status for o in page.orders] == [OrderStatus.inProgress, OrderStatus.partiallyFilled, OrderStatus.success]
    assert (page.orders[0].symbol_pair, page.orders[0].side, page.cursor) == ("BTC-USD", OrderSide.buy, None)


async def test_pages_of_two_reach_every_order_once_newest_first(sim: CoinbaseSimulator, adapter: CoinbaseAdapter):
    creds, label = account(sim)
    ids = placed(sim, label, 5)
    _, other_label = account(sim)
    placed(sim, other_label, 2)  # another key's orders never show
    pages = await every_page(adapter, creds, OrderQuery(2))
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]
    assert sim.count(label, "list_orders") == 3


async def test_open_only_is_one_request_with_order_status_open(sim: CoinbaseSimulator, adapter: CoinbaseAdapter):
    creds, label = account(sim)
    ids = placed(sim, label, 4)
    sim.fill(ids[0])
    await cancel(adapter, creds, ids[1])
    sim.fill(ids[2], "0.25")
    page = await adapter.list_orders(creds, OrderQuery(50, OPEN_STATUSES))
    assert [o.order_id for o in page.orders] == [ids[3], ids[2]]
    assert (page.cursor, sim.count(label, "list_orders")) == (None, 1)


@pytest.mark.parametrize(
    ("wanted", "expect"),
    [
        (frozenset({OrderStatus.cancelled}), [1]),
        (frozenset({OrderStatus.success, OrderStatus.expired}), [0, 3]),
        (frozenset({OrderStatus.cancelled, OrderStatus.inProgress}), [1, 2, 4]),
    ],
)
async def test_statuses_filter_pages_without_losing_orders(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter, wanted: frozenset[OrderStatus], expect: list[int]
) -> None:
    creds, label = account(sim)
    ids = placed(sim, label, 5)
    sim.fill(ids[0])
    await cancel(adapter, creds, ids[1])
    sim.expire(ids[3])
    pages = await every_page(adapter, creds, OrderQuery(2, wanted))
    assert [i for page in pages for i in page] == [ids[n] for n in sorted(expect, reverse=True)]


async def test_since_is_coinbases_start_date(sim: CoinbaseSimulator, adapter: CoinbaseAdapter) -> None:
    creds, label = account(sim)
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    ids = placed(sim, label, 5, start=start)
    since = int((start + timedelta(minutes=2)).timestamp())
    pages = await every_page(adapter, creds, OrderQuery(2, since=since))
    assert [i for page in pages for i in page] == [ids[4], ids[3], ids[2]]
    assert len(pages) == 2  # filtered by Coinbase, not here: no page is thinned


async def test_a_refused_listing_is_a_definite_error(sim: CoinbaseSimulator, adapter: CoinbaseAdapter) -> None:
    creds, label = account(sim)
    sim.inject(Fault("venue_error", "list_orders", api_key=label, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10))
    assert caught.value.error_type is ErrorType.rateLimited
