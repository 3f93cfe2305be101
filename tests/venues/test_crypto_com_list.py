"""CryptoComAdapter.list_orders over a real Transport against the simulator's get-open-orders and
get-order-history on a real socket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.crypto_com.adapter import CryptoComAdapter
from ordergate.venues.crypto_com.simulator import CryptoComSimulator
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.cryptoCom]
OPEN, HISTORY = "private/get-open-orders", "private/get-order-history"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CryptoComSimulator, str]]:
    sim = CryptoComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CryptoComSimulator, str]) -> CryptoComSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CryptoComSimulator, str], transport: Transport) -> CryptoComAdapter:
    return CryptoComAdapter(SPEC, served[1], transport)


def account(sim: CryptoComSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.cryptoCom, key.api_key, key.secret)


def query(count: int = 100, statuses: set[OrderStatus] | None = None, **kw: object) -> OrderQuery:
    return OrderQuery(count=count, statuses=None if statuses is None else frozenset(statuses), **kw)  # type: ignore[arg-type]


def calls(sim: CryptoComSimulator, creds: Credentials) -> tuple[int, int]:
    return sim.count(creds.api_key, OPEN), sim.count(creds.api_key, HISTORY)


async def every_page(adapter: CryptoComAdapter, creds: Credentials, q: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, q)]
    while pages[-1].cursor is not None:
        q = OrderQuery(q.count, q.statuses, q.since, pages[-1].cursor, q.symbol_pair)
        pages.append(await adapter.list_orders(creds, q))
    return pages


async def five_orders(sim: CryptoComSimulator, adapter: CryptoComAdapter, creds: Credentials) -> list[str]:
    """Open, partially filled, filled, cancelled, open (oldest to newest)."""
    ids = [sim.place_order(creds.api_key) for _ in range(5)]
    sim.fill(ids[1], "0.5")
    sim.fill(ids[2])
    await adapter.cancel(creds, OrderRef(id=ids[3], is_cryptocurrency=True))
    return ids


async def test_empty_account(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    page = await adapter.list_orders(creds, query())
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_one_page_open_orders_then_history(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    page = await adapter.list_orders(creds, query())
    assert [o.order_id for o in page.orders] == [ids[4], ids[1], ids[0], ids[3], ids[2]] and page.cursor is None
    assert [o.status for o in page.orders] == [
        OrderStatus.inProgress, OrderStatus.partiallyFilled, OrderStatus.inProgress, OrderStatus.cancelled,
        OrderStatus.success,
    ]  # fmt: skip
    assert (page.orders[0].symbol_pair, page.orders[0].symbol, page.orders[0].payment_symbol) == (
        "BTC_USDT",
        "BTC",
        "USDT",
    )
    assert calls(sim, creds) == (1, 1)


async def test_pages_of_two_reach_every_order_once(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    more = [sim.place_order(creds.api_key) for _ in range(2)]
    for order_id in more:
        await adapter.cancel(creds, OrderRef(id=order_id, is_cryptocurrency=True))
    pages = await every_page(adapter, creds, query(2))
    seen = [o.order_id for p in pages for o in p.orders]
    assert seen == [ids[4], ids[1], ids[0], more[1], more[0], ids[3], ids[2]]
    assert all(len(p.orders) <= 2 for p in pages) and len(seen) == len(set(seen))


async def test_open_only_is_one_request(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    page = await adapter.list_orders(creds, query(statuses={OrderStatus.inProgress, OrderStatus.partiallyFilled}))
    assert [o.order_id for o in page.orders] == [ids[4], ids[1], ids[0]] and page.cursor is None
    assert calls(sim, creds) == (1, 0)


@pytest.mark.parametrize(
    ("statuses", "picked", "requests"),
    [({OrderStatus.cancelled}, [3], (0, 1)), ({OrderStatus.success}, [2], (0, 1)),
     ({OrderStatus.partiallyFilled, OrderStatus.success}, [1, 2], (1, 1))],
)  # fmt: skip
async def test_statuses_filter(
    sim: CryptoComSimulator,
    adapter: CryptoComAdapter,
    statuses: set[OrderStatus],
    picked: list[int],
    requests: tuple[int, int],
) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    page = await adapter.list_orders(creds, query(statuses=statuses))
    assert [o.order_id for o in page.orders] == [ids[i] for i in picked] and page.cursor is None
    assert calls(sim, creds) == requests


async def test_since_is_the_history_start_time(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    ids = await five_orders(sim, adapter, creds)
    now = int(time.time())
    for age, order_id in zip((5 * 86400, 400, 3 * 86400, 200, 100), ids, strict=True):
        sim.set_created(order_id, now - age)
    recent = await every_page(adapter, creds, query(2, since=now - 250))
    assert [o.order_id for p in recent for o in p.orders] == [ids[4], ids[3]]
    # Without `from`, orders older than Crypto.com's one-day default window are listed too.
    everything = await every_page(adapter, creds, query(2))
    assert [o.order_id for p in everything for o in p.orders] == [ids[4], ids[1], ids[0], ids[3], ids[2]]


async def test_symbol_pair_narrows_to_one_instrument(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    await five_orders(sim, adapter, creds)
    other = sim.place_order(creds.api_key, instrument="ETH_USDT", price="2000")
    page = await adapter.list_orders(creds, query(symbol_pair="eth/usdt"))
    assert [o.order_id for o in page.orders] == [other]
    with pytest.raises(GatewayError) as bad:
        await adapter.list_orders(creds, query(symbol_pair="ETH_USDT&x=1"))
    assert bad.value.error_type is ErrorType.invalidField


async def test_a_forged_cursor_is_refused_before_any_request(
    sim: CryptoComSimulator, adapter: CryptoComAdapter
) -> None:
    creds = account(sim)
    with pytest.raises(GatewayError) as bad:
        await adapter.list_orders(creds, query(cursor={"phase": "history", "end": "1; drop"}))
    assert bad.value.error_type is ErrorType.invalidField and sim.count_key(creds.api_key) == 0
