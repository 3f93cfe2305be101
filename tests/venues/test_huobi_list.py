"""HuobiAdapter.list_orders against the simulator on a real socket: open orders (`/v1/order/openOrders`, paged with
`from`/`direct`), then closed ones of the last 48 hours (`/v1/order/history`, paged with `end-time`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.huobi.adapter import HuobiAdapter
from ordergate.venues.huobi.simulator import HuobiSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.huobi]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[HuobiSimulator, str]]:
    sim = HuobiSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[HuobiSimulator, str]) -> HuobiSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[HuobiSimulator, str], transport: Transport) -> HuobiAdapter:
    return HuobiAdapter(SPEC, served[1], transport)


async def account(sim: HuobiSimulator, adapter: HuobiAdapter) -> Credentials:
    issued = sim.new_account()
    creds = Credentials(IntegrationType.huobi, issued.api_key, issued.secret)
    info = await adapter.verify_credentials(creds, None)  # as /authenticate seals it: the account id in extras
    return dataclasses.replace(creds, extras=dict(info.extras))


def place(sim: HuobiSimulator, creds: Credentials, age_s: float = 0) -> str:
    order_id = sim.place(SimAccount(creds.api_key, creds.secret), volume="1", price="20000")[0]
    with sim._lock:  # distinct creation times, oldest first, so "newest first" has one answer
        sim._orders[int(order_id)].created_ms -= 1000 * (1000 - len(sim._orders)) + int(age_s * 1000)
    return order_id


async def walk(adapter: HuobiAdapter, creds: Credentials, count: int, **query: object) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, OrderQuery(count, **query))]  # type: ignore[arg-type]
    while pages[-1].cursor is not None:
        assert len(pages) < 20, "the cursor never ends"
        pages.append(await adapter.list_orders(creds, OrderQuery(count, cursor=pages[-1].cursor, **query)))  # type: ignore[arg-type]
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def test_empty_account(adapter: HuobiAdapter, sim: HuobiSimulator) -> None:
    creds = await account(sim, adapter)
    assert await adapter.list_orders(creds, OrderQuery(100)) == OrderPage(())
    assert (sim.count(creds.api_key, "openOrders"), sim.count(creds.api_key, "history")) == (1, 1)


async def test_one_page_holds_open_then_closed_orders(adapter: HuobiAdapter, sim: HuobiSimulator) -> None:
    creds = await account(sim, adapter)
    first, second, third = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(second, True))
    sim.fill(first, "0.25")
    page = await adapter.list_orders(creds, OrderQuery(100))
    assert [(o.order_id, o.status) for o in page.orders] == [
        (third, OrderStatus.inProgress),
        (first, OrderStatus.partiallyFilled),
        (second, OrderStatus.cancelled),
    ]
    assert page.cursor is None and page.orders[0].symbol_pair == "btcusdt"


async def test_pages_of_two_reach_every_order_once_newest_first(adapter: HuobiAdapter, sim: HuobiSimulator) -> None:
    creds = await account(sim, adapter)
    placed = [place(sim, creds) for _ in range(5)]
    assert ids(await walk(adapter, creds, 2, statuses=OPEN)) == placed[::-1]
    assert sim.count(creds.api_key, "openOrders") == 3
    for order_id in placed:
        sim.fill(order_id)
    pages = await walk(adapter, creds, 2)
    assert ids(pages) == placed[::-1] and all(len(p.orders) <= 2 for p in pages)
    # Five orders created in the same millisecond: end-time is inclusive and the cursor skips those handed out.
    with sim._lock:
        for order_id in placed:
            sim._orders[int(order_id)].created_ms = sim._orders[int(placed[0])].created_ms
    tied = await walk(adapter, creds, 2, statuses=frozenset({OrderStatus.success}))
    assert sorted(ids(tied)) == sorted(placed) and len(ids(tied)) == 5


async def test_open_only_is_one_request_and_closed_only_skips_open_orders(
    adapter: HuobiAdapter, sim: HuobiSimulator
) -> None:
    creds = await account(sim, adapter)
    live, cancelled, filled = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(cancelled, True))
    sim.fill(filled)
    before = sim.count_key(creds.api_key)
    page = await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN))
    assert ids([page]) == [live] and page.cursor is None and sim.count_key(creds.api_key) - before == 1

    done = await adapter.list_orders(creds, OrderQuery(100, statuses=frozenset({OrderStatus.success})))
    assert [(o.order_id, o.status) for o in done.orders] == [(filled, OrderStatus.success)]
    assert sim.count(creds.api_key, "openOrders") == 1
    gone = await adapter.list_orders(creds, OrderQuery(100, statuses=frozenset({OrderStatus.cancelled})))
    assert ids([gone]) == [cancelled]


async def test_since_maps_to_start_time(adapter: HuobiAdapter, sim: HuobiSimulator) -> None:
    creds = await account(sim, adapter)
    old_live, old_closed = place(sim, creds, age_s=7200), place(sim, creds, age_s=7200)
    new_live, new_closed = place(sim, creds), place(sim, creds)
    for order_id in (old_closed, new_closed):
        sim.fill(order_id)
    since = sim._orders[int(new_live)].created_ms // 1000 - 5
    page = await adapter.list_orders(creds, OrderQuery(100, since=since))
    assert ids([page]) == [new_live, new_closed]
    everything = await adapter.list_orders(creds, OrderQuery(100))
    assert ids([everything]) == [new_live, old_live, new_closed, old_closed]


async def test_a_token_without_the_account_id_learns_it_and_errors_are_definite(
    adapter: HuobiAdapter, sim: HuobiSimulator
) -> None:
    issued = sim.new_account()
    creds = Credentials(IntegrationType.huobi, issued.api_key, issued.secret)
    assert await adapter.list_orders(creds, OrderQuery(10, statuses=OPEN)) == OrderPage(())
    assert sim.count(creds.api_key, "accounts") == 1
    sim.inject(Fault("venue_error", "openOrders", creds.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, statuses=OPEN))
    assert caught.value.error_type.value == "rateLimited" and creds.secret not in str(caught.value)
