"""BlockchainComAdapter.list_orders against the simulator on a real socket: live orders without a status, one
closed status per request, paged by `to`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.blockchain_com.adapter import BlockchainComAdapter
from ordergate.venues.blockchain_com.simulator import BlockchainComSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.blockchainCom]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BlockchainComSimulator, str]]:
    sim = BlockchainComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BlockchainComSimulator, str]) -> BlockchainComSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BlockchainComSimulator, str], transport: Transport) -> BlockchainComAdapter:
    return BlockchainComAdapter(SPEC, served[1], transport)


def account(sim: BlockchainComSimulator) -> Credentials:
    acct = sim.new_account()
    return Credentials(IntegrationType.blockchainCom, acct.api_key, acct.secret)


def placed(sim: BlockchainComSimulator, creds: Credentials, n: int) -> list[str]:
    """n orders, oldest first, a second apart."""
    ids = [sim.place_order(creds.secret, price=str(100 + i)) for i in range(n)]
    for age, order_id in enumerate(reversed(ids)):
        sim.age(order_id, age)
    return ids


async def every_page(adapter: BlockchainComAdapter, creds: Credentials, query: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, query)]
    while pages[-1].cursor is not None and len(pages) < 12:
        pages.append(await adapter.list_orders(creds, replace(query, cursor=pages[-1].cursor)))
    return pages


@pytest.mark.parametrize("statuses", [OPEN, None])
async def test_an_empty_account(sim: BlockchainComSimulator, adapter: BlockchainComAdapter, statuses: object) -> None:
    page = await adapter.list_orders(account(sim), OrderQuery(count=100, statuses=statuses))  # type: ignore[arg-type]
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_one_page_open_first_then_history(sim: BlockchainComSimulator, adapter: BlockchainComAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 4)
    sim.fill(ids[0])
    sim.fill(ids[1], "0.5")
    await adapter.cancel(creds, OrderRef(ids[2], True))
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    assert [(o.order_id, o.status) for o in page.orders] == [
        (ids[3], OrderStatus.inProgress), (ids[1], OrderStatus.partiallyFilled),
        (ids[0], OrderStatus.success), (ids[2], OrderStatus.cancelled),
    ]  # fmt: skip
    assert page.cursor is None
    assert sim.count(creds.api_key, "orders") == 5  # live, FILLED, CANCELED, REJECTED, EXPIRED


async def test_pages_reach_every_order_once(sim: BlockchainComSimulator, adapter: BlockchainComAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 5)
    sim.fill(ids[0])
    sim.fill(ids[2])
    pages = await every_page(adapter, creds, OrderQuery(count=2))
    assert all(len(p.orders) <= 2 for p in pages)
    assert [o.order_id for p in pages for o in p.orders] == [ids[4], ids[3], ids[1], ids[2], ids[0]]


async def test_orders_of_one_millisecond_page_without_loss(transport: Transport) -> None:
    sim = BlockchainComSimulator(clock=lambda: 1_700_000_000_000)  # a burst: every order in one millisecond
    with serve_asgi(sim.app) as url:
        adapter = BlockchainComAdapter(SPEC, url, transport)
        creds = account(sim)
        ids = [sim.place_order(creds.secret) for _ in range(5)]
        pages = await every_page(adapter, creds, OrderQuery(count=2, statuses=OPEN))
    listed = [o.order_id for p in pages for o in p.orders]
    assert sorted(listed) == sorted(ids) and len(listed) == 5


async def test_open_only_is_one_request(sim: BlockchainComSimulator, adapter: BlockchainComAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[1], "0.5")
    sim.fill(ids[0])
    sent = adapter.transport.requests_sent
    page = await adapter.list_orders(creds, OrderQuery(count=100, statuses=frozenset({OrderStatus.inProgress})))
    assert [o.order_id for o in page.orders] == [ids[2]] and page.cursor is None
    assert adapter.transport.requests_sent - sent == 1 and sim.count(creds.api_key, "orders") == 1


@pytest.mark.parametrize("status", [OrderStatus.cancelled, OrderStatus.success])
async def test_closed_statuses_ask_for_their_state_only(
    sim: BlockchainComSimulator, adapter: BlockchainComAdapter, status: OrderStatus
) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[0])
    await adapter.cancel(creds, OrderRef(ids[1], True))
    page = await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset({status})))
    assert [o.order_id for o in page.orders] == [ids[0] if status is OrderStatus.success else ids[1]]
    assert sim.count(creds.api_key, "orders") == 1


async def test_since_is_from(sim: BlockchainComSimulator, adapter: BlockchainComAdapter) -> None:
    creds = account(sim)
    old, *recent = placed(sim, creds, 3)
    sim.age(old, 7200)
    newest = (await adapter.list_orders(creds, OrderQuery(count=1, statuses=OPEN))).orders[0].created_at
    assert newest is not None
    page = await adapter.list_orders(creds, OrderQuery(count=10, since=newest - 10))
    assert [o.order_id for o in page.orders] == recent[::-1]


async def test_a_symbol_filters_at_the_venue(sim: BlockchainComSimulator, adapter: BlockchainComAdapter) -> None:
    creds = account(sim)
    sim.place_order(creds.secret)
    eth = sim.place_order(creds.secret, symbol="ETH-USD")
    page = await adapter.list_orders(creds, OrderQuery(count=10, statuses=OPEN, symbol_pair="ETH-USD"))
    assert [o.order_id for o in page.orders] == [eth]
