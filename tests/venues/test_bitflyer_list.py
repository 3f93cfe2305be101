"""BitflyerAdapter.list_orders over a real Transport against the simulator's getchildorders on a real socket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.bitflyer.adapter import BitflyerAdapter
from ordergate.venues.bitflyer.simulator import BitflyerSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitFlyer]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitflyerSimulator, str]]:
    sim = BitflyerSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitflyerSimulator, str]) -> BitflyerSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitflyerSimulator, str], transport: Transport) -> BitflyerAdapter:
    return BitflyerAdapter(SPEC, served[1], transport)


def account(sim: BitflyerSimulator) -> tuple[Credentials, SimAccount]:
    key = sim.new_account()
    return Credentials(IntegrationType.bitFlyer, key.api_key, key.secret), key


def query(count: int = 100, statuses: set[OrderStatus] | None = None, **kw: object) -> OrderQuery:
    frozen = None if statuses is None else frozenset(statuses)
    return OrderQuery(count=count, statuses=frozen, symbol_pair=kw.pop("symbol_pair", "BTC/JPY"), **kw)  # type: ignore[arg-type]


async def every_page(adapter: BitflyerAdapter, creds: Credentials, q: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, q)]
    while pages[-1].cursor is not None:
        q = OrderQuery(q.count, q.statuses, q.since, pages[-1].cursor, q.symbol_pair)
        pages.append(await adapter.list_orders(creds, q))
    return pages


def five_orders(sim: BitflyerSimulator, key: SimAccount) -> list[str]:
    """Open, partially filled, filled, cancelled, open (oldest to newest)."""
    ids = [sim.place(key)[0] for _ in range(5)]
    sim.fill(ids[1], "0.5")
    sim.fill(ids[2])
    sim.set_state(ids[3], "CANCELED")
    return ids


async def test_empty_account_is_one_empty_last_page(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds, _ = account(sim)
    page = await adapter.list_orders(creds, query())
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_one_page_newest_first_in_mesh_shape(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds, key = account(sim)
    ids = five_orders(sim, key)
    page = await adapter.list_orders(creds, query())
    assert [o.order_id for o in page.orders] == ids[::-1] and page.cursor is None
    assert [o.status for o in page.orders] == [
        OrderStatus.inProgress, OrderStatus.cancelled, OrderStatus.success, OrderStatus.partiallyFilled,
        OrderStatus.inProgress,
    ]  # fmt: skip
    assert (page.orders[0].symbol_pair, page.orders[0].symbol, page.orders[0].payment_symbol) == (
        "BTC_JPY",
        "BTC",
        "JPY",
    )
    assert sim.count(creds.api_key, "getchildorders") == 1


async def test_pages_of_two_reach_every_order_once(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds, key = account(sim)
    ids = five_orders(sim, key)
    pages = await every_page(adapter, creds, query(2))
    assert [len(p.orders) for p in pages] == [2, 2, 1]
    assert [o.order_id for p in pages for o in p.orders] == ids[::-1]
    assert sim.count(creds.api_key, "getchildorders") == 3


async def test_open_only_is_one_request_filtered_by_bitflyer(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds, key = account(sim)
    ids = five_orders(sim, key)
    page = await adapter.list_orders(creds, query(statuses={OrderStatus.inProgress, OrderStatus.partiallyFilled}))
    assert [o.order_id for o in page.orders] == [ids[4], ids[1], ids[0]] and page.cursor is None
    assert sim.count(creds.api_key, "getchildorders") == 1


@pytest.mark.parametrize(
    ("statuses", "picked"),
    [({OrderStatus.cancelled}, [3]), ({OrderStatus.success}, [2]), ({OrderStatus.partiallyFilled}, [1]),
     ({OrderStatus.cancelled, OrderStatus.success}, [3, 2])],
)  # fmt: skip
async def test_statuses_filter(
    sim: BitflyerSimulator, adapter: BitflyerAdapter, statuses: set[OrderStatus], picked: list[int]
) -> None:
    creds, key = account(sim)
    ids = five_orders(sim, key)
    pages = await every_page(adapter, creds, query(1, statuses))
    assert [o.order_id for p in pages for o in p.orders] == [ids[i] for i in picked]


async def test_since_ends_the_listing_at_the_first_older_order(
    sim: BitflyerSimulator, adapter: BitflyerAdapter
) -> None:
    creds, key = account(sim)
    ids = five_orders(sim, key)
    now = int(time.time())
    for age, order_id in zip((500, 400, 300, 200, 100), ids, strict=True):
        sim.set_created(order_id, now - age)
    pages = await every_page(adapter, creds, query(2, since=now - 250))
    assert [o.order_id for p in pages for o in p.orders] == [ids[4], ids[3]]


async def test_symbol_pair_is_required_and_checked(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds, _ = account(sim)
    with pytest.raises(GatewayError) as missing:
        await adapter.list_orders(creds, query(symbol_pair=None))
    assert missing.value.error_type is ErrorType.missingField
    with pytest.raises(GatewayError) as bad:
        await adapter.list_orders(creds, query(symbol_pair="BTC/JPY?x=1"))
    assert bad.value.error_type is ErrorType.invalidField
    assert sim.count_key(creds.api_key) == 0


async def test_other_products_are_not_listed(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds, key = account(sim)
    five_orders(sim, key)
    page = await adapter.list_orders(creds, query(symbol_pair="ETH_JPY"))
    assert page.orders == () and page.cursor is None
