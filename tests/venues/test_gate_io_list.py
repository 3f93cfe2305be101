"""GateIoAdapter.list_orders against the simulator on a real socket: open orders of every pair
(`/spot/open_orders`), or of one pair, then finished ones (`/spot/orders?status=finished`, which needs the pair)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.gate_io.adapter import GateIoAdapter
from ordergate.venues.gate_io.simulator import GateIoSimulator
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.gateIo]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GateIoSimulator, str]]:
    sim = GateIoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[GateIoSimulator, str]) -> GateIoSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[GateIoSimulator, str], transport: Transport) -> GateIoAdapter:
    return GateIoAdapter(SPEC, served[1], transport)


def account(sim: GateIoSimulator) -> Credentials:
    key = sim.new_account()
    return Credentials(IntegrationType.gateIo, key.api_key, key.secret)


def place(sim: GateIoSimulator, creds: Credentials, pair: str = "BTC_USDT") -> str:
    order_id = sim.place_order(creds.api_key, pair=pair)
    with sim._lock:  # distinct creation seconds, oldest first, so "newest first" has one answer
        sim._orders[int(order_id)].created -= 10 * (1000 - len(sim._orders))
    return order_id


async def walk(adapter: GateIoAdapter, creds: Credentials, count: int, **query: object) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, OrderQuery(count, **query))]  # type: ignore[arg-type]
    while pages[-1].cursor is not None:
        assert len(pages) < 20, "the cursor never ends"
        pages.append(await adapter.list_orders(creds, OrderQuery(count, cursor=pages[-1].cursor, **query)))  # type: ignore[arg-type]
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def test_empty_account(adapter: GateIoAdapter, sim: GateIoSimulator) -> None:
    creds = account(sim)
    assert await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN)) == OrderPage(())
    assert await adapter.list_orders(creds, OrderQuery(100, symbol_pair="BTC/USDT")) == OrderPage(())
    assert sim.count(creds.api_key, "open_orders") == 1 and sim.count(creds.api_key, "list") == 2


async def test_history_lists_every_pair_without_a_pair(adapter: GateIoAdapter, sim: GateIoSimulator) -> None:
    creds = account(sim)
    btc, eth, live = place(sim, creds), place(sim, creds, "ETH_USDT"), place(sim, creds, "ETH_BTC")
    sim.fill(btc)
    sim.fill(eth)
    page = await adapter.list_orders(creds, OrderQuery(100))
    assert ids([page]) == [live, eth, btc] and page.cursor is None
    assert [s.params.get("currency_pair") for s in sim.seen if s.api_key == creds.api_key and s.op == "list"] == [None]


async def test_one_page_holds_open_then_finished_orders(adapter: GateIoAdapter, sim: GateIoSimulator) -> None:
    creds = account(sim)
    first, second, third = (place(sim, creds) for _ in range(3))
    place(sim, creds, "ETH_USDT")  # another pair: not in a BTC_USDT listing
    await adapter.cancel(creds, OrderRef(second, True, symbol_pair="BTC_USDT"))
    sim.fill(first, "0.25")
    page = await adapter.list_orders(creds, OrderQuery(100, symbol_pair="BTC_USDT"))
    assert [(o.order_id, o.status) for o in page.orders] == [
        (third, OrderStatus.inProgress),
        (first, OrderStatus.partiallyFilled),
        (second, OrderStatus.cancelled),
    ]
    assert page.cursor is None and page.orders[0].symbol_pair == "BTC_USDT"


async def test_pages_of_two_reach_every_order_once_newest_first(adapter: GateIoAdapter, sim: GateIoSimulator) -> None:
    creds = account(sim)
    placed = [place(sim, creds, pair) for pair in ("BTC_USDT", "ETH_USDT", "BTC_USDT", "ETH_USDT", "BTC_USDT")]
    assert ids(await walk(adapter, creds, 2, statuses=OPEN)) == placed[::-1]  # every pair, no symbolPair needed
    btc = placed[::2]
    for order_id in btc:
        await adapter.cancel(creds, OrderRef(order_id, True, symbol_pair="BTC_USDT"))
    more = [place(sim, creds) for _ in range(2)]
    for order_id in more:
        sim.fill(order_id)
    pages = await walk(adapter, creds, 2, symbol_pair="BTC_USDT")
    assert ids(pages) == more[::-1] + btc[::-1] and all(len(p.orders) <= 2 for p in pages)
    # One open order and five finished: the first page ends inside Gate's first history page; none is lost.
    live = place(sim, creds)
    pages = await walk(adapter, creds, 2, symbol_pair="BTC_USDT")
    assert ids(pages) == [live] + more[::-1] + btc[::-1] and all(len(p.orders) <= 2 for p in pages)


async def test_open_only_is_one_request_and_closed_only_skips_open_orders(
    adapter: GateIoAdapter, sim: GateIoSimulator
) -> None:
    creds = account(sim)
    live, cancelled, filled = (place(sim, creds) for _ in range(3))
    await adapter.cancel(creds, OrderRef(cancelled, True, symbol_pair="BTC_USDT"))
    sim.fill(filled)
    before = sim.count_key(creds.api_key)
    page = await adapter.list_orders(creds, OrderQuery(100, statuses=OPEN))
    assert ids([page]) == [live] and page.cursor is None and sim.count_key(creds.api_key) - before == 1

    query = OrderQuery(100, statuses=frozenset({OrderStatus.success}), symbol_pair="BTC_USDT")
    done = await adapter.list_orders(creds, query)
    assert [(o.order_id, o.status) for o in done.orders] == [(filled, OrderStatus.success)]
    assert [s for s in sim.seen if s.api_key == creds.api_key][-1].params["status"] == "finished"
    gone = await adapter.list_orders(
        creds, OrderQuery(100, statuses=frozenset({OrderStatus.cancelled}), symbol_pair="BTC_USDT")
    )
    assert ids([gone]) == [cancelled]


async def test_since_maps_to_from(adapter: GateIoAdapter, sim: GateIoSimulator) -> None:
    creds = account(sim)
    old_live, old_closed, new_live, new_closed = (place(sim, creds) for _ in range(4))
    for order_id in (old_closed, new_closed):
        await adapter.cancel(creds, OrderRef(order_id, True, symbol_pair="BTC_USDT"))
    for order_id in (old_live, old_closed):
        sim.backdate(order_id, 7200)
    since = int(sim._orders[int(new_live)].created) - 5
    page = await adapter.list_orders(creds, OrderQuery(100, since=since, symbol_pair="BTC_USDT"))
    assert ids([page]) == [new_live, new_closed]
    assert [s for s in sim.seen if s.api_key == creds.api_key][-1].params["from"] == str(since)
