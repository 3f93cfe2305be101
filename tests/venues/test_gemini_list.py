"""GeminiAdapter.list_orders against the simulator on a real socket: live orders (`/v1/orders`), then closed ones
(`/v1/orders/history`, walked forward in time as Gemini documents)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.gemini.adapter import GeminiAdapter
from ordergate.venues.gemini.simulator import GeminiSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.gemini]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GeminiSimulator, str]]:
    sim = GeminiSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[GeminiSimulator, str]) -> GeminiSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[GeminiSimulator, str], transport: Transport) -> GeminiAdapter:
    return GeminiAdapter(SPEC, served[1], transport)


def account(sim: GeminiSimulator) -> Credentials:
    issued = sim.new_account()
    return Credentials(IntegrationType.gemini, issued.api_key, issued.secret, None, {"nonce": "session"})


def place(sim: GeminiSimulator, creds: Credentials) -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret), volume="1", price="20000")[0]


async def walk(adapter: GeminiAdapter, creds: Credentials, count: int, **query: object) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, OrderQuery(count, **query))]  # type: ignore[arg-type]
    while pages[-1].cursor is not None:
        assert len(pages) < 20, "the cursor never ends"
        pages.append(await adapter.list_orders(creds, OrderQuery(count, cursor=pages[-1].cursor, **query)))  # type: ignore[arg-type]
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def test_empty_account(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    creds = account(sim)
    page = await adapter.list_orders(creds, OrderQuery(100))
    assert page == OrderPage(())
    assert (sim.count(creds.api_key, "ActiveOrders"), sim.count(creds.api_key, "OrdersHistory")) == (1, 1)


async def test_one_page_holds_live_then_closed_orders(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    creds = account(sim)
    first, second, third = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(second, True))
    sim.fill(first, "0.25")
    page = await adapter.list_orders(creds, OrderQuery(100))
    assert [(o.order_id, o.status) for o in page.orders] == [
        (third, OrderStatus.inProgress),
        (first, OrderStatus.partiallyFilled),
        (second, OrderStatus.cancelled),
    ]
    assert page.cursor is None and page.total is None
    assert page.orders[0].symbol_pair == "BTCUSD" and page.orders[0].amount == 1.0


async def test_pages_of_two_reach_every_order_once_newest_first(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    creds = account(sim)
    placed = [place(sim, creds) for _ in range(5)]
    pages = await walk(adapter, creds, 2)
    assert ids(pages) == placed[::-1]
    assert all(len(p.orders) <= 2 for p in pages)

    closed = [place(sim, creds) for _ in range(5)]
    for order_id in closed:
        await adapter.cancel(creds, OrderRef(order_id, True))
    history = await walk(adapter, creds, 2, statuses=frozenset({OrderStatus.cancelled}))
    assert sorted(ids(history)) == sorted(closed) and len(ids(history)) == 5
    # Gemini walks history forward in time: pages run oldest chunk first, each page newest first.
    assert [ids([p]) for p in history if p.orders] == [closed[1::-1], closed[3:1:-1], closed[4:]]


async def test_open_only_is_one_request_and_closed_only_skips_live_orders(
    adapter: GeminiAdapter, sim: GeminiSimulator
) -> None:
    creds = account(sim)
    live, cancelled, filled = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(cancelled, True))
    sim.fill(filled)
    before = sim.count_key(creds.api_key)
    page = await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN))
    assert ids([page]) == [live] and page.cursor is None
    assert sim.count_key(creds.api_key) - before == 1 and sim.count(creds.api_key, "OrdersHistory") == 0

    done = await adapter.list_orders(creds, OrderQuery(100, statuses=frozenset({OrderStatus.success})))
    assert [(o.order_id, o.status) for o in done.orders] == [(filled, OrderStatus.success)]
    assert sim.count(creds.api_key, "ActiveOrders") == 1  # a closed-only query never asks for live orders
    gone = await adapter.list_orders(creds, OrderQuery(100, statuses=frozenset({OrderStatus.cancelled})))
    assert ids([gone]) == [cancelled]


async def test_since_bounds_live_and_closed_orders(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    creds = account(sim)
    old_live, old_closed, new_live, new_closed = (place(sim, creds) for _ in range(4))
    for order_id in (old_closed, new_closed):
        await adapter.cancel(creds, OrderRef(order_id, True))
    for order_id in (old_live, old_closed):
        sim.backdate(order_id, 3600)
    since = int(sim._orders[int(new_live)].created_ms // 1000) - 60
    page = await adapter.list_orders(creds, OrderQuery(100, since=since))
    assert ids([page]) == [new_live, new_closed]


async def test_a_refused_listing_is_a_definite_error(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    creds = account(sim)
    sim.inject(Fault("venue_error", "ActiveOrders", creds.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10))
    assert caught.value.error_type.value == "rateLimited" and creds.secret not in str(caught.value)
