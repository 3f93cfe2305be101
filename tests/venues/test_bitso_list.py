"""BitsoAdapter.list_orders against the simulator on a real socket: Bitso lists open orders, newest first, paged
with `marker`; it keeps no list of closed orders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderQuery
from ordergate.venues.bitso.adapter import BitsoAdapter
from ordergate.venues.bitso.simulator import BitsoSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitsoDirect]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitsoSimulator, str]]:
    sim = BitsoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitsoSimulator, str]) -> BitsoSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitsoSimulator, str], transport: Transport) -> BitsoAdapter:
    return BitsoAdapter(SPEC, served[1], transport)


def account(sim: BitsoSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.bitsoDirect, key.api_key, key.secret)


def placed(sim: BitsoSimulator, creds: Credentials, n: int) -> list[str]:
    """n open orders, oldest first, each a second older than the next."""
    oids = [sim.place_order(creds.api_key, price=str(100 + i)) for i in range(n)]
    for age, oid in enumerate(reversed(oids)):
        sim.age(oid, age)
    return oids


async def test_an_empty_account(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    page = await adapter.list_orders(account(sim), OrderQuery(count=100))
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_one_page_newest_first_in_mesh_shape(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    oids = placed(sim, creds, 3)
    sim.fill(oids[0], "0.25")
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    assert [o.order_id for o in page.orders] == oids[::-1]
    assert page.cursor is None
    oldest = page.orders[-1]
    assert (oldest.status, oldest.amount, oldest.filled, oldest.symbol_pair) == (
        OrderStatus.partiallyFilled, 1.0, 0.25, "btc_mxn",
    )  # fmt: skip
    assert sim.count(creds.api_key, "open_orders") == 1


async def test_pages_reach_every_order_once(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    oids = placed(sim, creds, 5)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = await adapter.list_orders(creds, OrderQuery(count=2, cursor=cursor))
        assert len(page.orders) <= 2
        seen += [o.order_id for o in page.orders]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == oids[::-1]
    assert sim.count(creds.api_key, "open_orders") == 3


async def test_an_order_closing_between_pages_does_not_shift_the_next(
    sim: BitsoSimulator, adapter: BitsoAdapter
) -> None:
    creds = account(sim)
    oids = placed(sim, creds, 4)
    first = await adapter.list_orders(creds, OrderQuery(count=2))
    assert [o.order_id for o in first.orders] == [oids[3], oids[2]]
    await adapter.cancel(creds, OrderRef(oids[2], True))  # the marker itself leaves the open orders
    rest = await adapter.list_orders(creds, OrderQuery(count=2, cursor=first.cursor))
    assert [o.order_id for o in rest.orders] == [oids[1], oids[0]] and rest.cursor is None


async def test_open_only_is_one_request(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    oids = placed(sim, creds, 3)
    sim.fill(oids[1], "0.5")
    sent = adapter.transport.requests_sent
    page = await adapter.list_orders(creds, OrderQuery(count=100, statuses=frozenset({OrderStatus.partiallyFilled})))
    assert [o.order_id for o in page.orders] == [oids[1]]
    assert adapter.transport.requests_sent - sent == 1 and sim.count(creds.api_key, "open_orders") == 1


@pytest.mark.parametrize("status", [OrderStatus.cancelled, OrderStatus.success])
async def test_closed_only_is_refused_not_answered_empty(
    sim: BitsoSimulator, adapter: BitsoAdapter, status: OrderStatus
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    await adapter.cancel(creds, OrderRef(oid, True))
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset({status})))
    assert caught.value.error_type is ErrorType.listingNotSupported
    assert "open orders only" in caught.value.message
    assert adapter.transport.requests_sent == sent


async def test_every_status_lists_what_bitso_lists_open(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    kept, gone = placed(sim, creds, 2)
    await adapter.cancel(creds, OrderRef(gone, True))
    page = await adapter.list_orders(creds, OrderQuery(count=10))
    assert [o.order_id for o in page.orders] == [kept]


async def test_since_stops_at_the_first_older_order(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    old, *recent = placed(sim, creds, 3)
    sim.age(old, 7200)
    newest = await adapter.list_orders(creds, OrderQuery(count=1))
    since = newest.orders[0].created_at
    assert since is not None
    page = await adapter.list_orders(creds, OrderQuery(count=10, since=since - 5))
    assert [o.order_id for o in page.orders] == recent[::-1] and page.cursor is None


async def test_a_book_filters_at_bitso(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    sim.place_order(creds.api_key)
    eth = sim.place_order(creds.api_key, book="eth_mxn")
    page = await adapter.list_orders(creds, OrderQuery(count=10, symbol_pair="eth_mxn"))
    assert [o.order_id for o in page.orders] == [eth]


async def test_another_accounts_orders_are_never_listed(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds, other = account(sim), account(sim)
    sim.place_order(other.api_key)
    assert (await adapter.list_orders(creds, OrderQuery(count=10))).orders == ()
