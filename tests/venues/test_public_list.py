"""PublicAdapter.list_orders over a real Transport against the simulator on a real socket: the portfolio's orders
(`GET …/{accountId}/portfolio/v2`), Public's only list of orders, which holds the open ones; one request a page,
newest first. Closed-only listings are refused with listingNotSupported."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.public.adapter import PublicAdapter
from ordergate.venues.public.simulator import PublicSimulator
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[PublicSimulator, str]]:
    sim = PublicSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport(timeout_s=2.0)
    await transport.start()
    yield transport
    await transport.close()


@pytest.fixture
def sim(served: tuple[PublicSimulator, str]) -> PublicSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[PublicSimulator, str], transport: Transport) -> PublicAdapter:
    return PublicAdapter(SPECS[IntegrationType.public], served[1], transport)


@pytest.fixture
def account(sim: PublicSimulator) -> SimAccount:
    return sim.new_account()


@pytest.fixture
def creds(account: SimAccount) -> Credentials:
    return Credentials(IntegrationType.public, "", account.secret, extras={"accountId": account.api_key})


def placed(sim: PublicSimulator, account: SimAccount, n: int) -> list[str]:
    """n open limit orders of 2 shares, oldest first, a second apart."""
    ids = [sim.place(account, volume="2")[0] for _ in range(n)]
    for age, order_id in enumerate(reversed(ids)):
        sim.backdate(order_id, age)
    return ids


async def test_an_empty_account(adapter: PublicAdapter, creds: Credentials) -> None:
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_one_page_holds_the_open_orders_only(
    sim: PublicSimulator, adapter: PublicAdapter, account: SimAccount, creds: Credentials
) -> None:
    ids = placed(sim, account, 4)
    sim.fill(ids[0], "0.5")
    sim.fill(ids[1])
    await adapter.cancel(creds, OrderRef(ids[2], False))
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    listed = [(o.order_id, o.status) for o in page.orders]
    # ids[2]'s cancel is asynchronous: while it is PENDING_CANCEL it is still an open order
    live = [(ids[3], OrderStatus.inProgress)]
    if sim.status(ids[2]) is OrderStatus.inProgress:
        live.append((ids[2], OrderStatus.inProgress))
    assert listed == [*live, (ids[0], OrderStatus.partiallyFilled)] and page.cursor is None


async def test_pages_reach_every_order_once_newest_first(
    sim: PublicSimulator, adapter: PublicAdapter, account: SimAccount, creds: Credentials
) -> None:
    ids = placed(sim, account, 5)
    query = OrderQuery(count=2)
    pages = [await adapter.list_orders(creds, query)]
    while pages[-1].cursor is not None and len(pages) < 6:
        pages.append(await adapter.list_orders(creds, replace(query, cursor=pages[-1].cursor)))
    assert [len(p.orders) for p in pages] == [2, 2, 1]
    assert [o.order_id for p in pages for o in p.orders] == ids[::-1]


async def test_open_only_is_one_request(
    sim: PublicSimulator, adapter: PublicAdapter, account: SimAccount, creds: Credentials, transport: Transport
) -> None:
    await adapter.list_orders(creds, OrderQuery(count=1))  # the access token is exchanged once, then cached
    ids = placed(sim, account, 3)
    sim.fill(ids[1], "1")
    sent = transport.requests_sent
    page = await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset({OrderStatus.partiallyFilled})))
    assert [o.order_id for o in page.orders] == [ids[1]]
    assert transport.requests_sent - sent == 1
    assert sim.count(account.api_key, "portfolio") == 2


@pytest.mark.parametrize("statuses", [{OrderStatus.cancelled}, {OrderStatus.success, OrderStatus.failed}])
async def test_closed_only_is_refused_without_a_request(
    adapter: PublicAdapter, creds: Credentials, transport: Transport, statuses: set[OrderStatus]
) -> None:
    sent = transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset(statuses)))
    assert caught.value.error_type is ErrorType.listingNotSupported
    assert "current orders only" in caught.value.message and transport.requests_sent == sent


async def test_since(sim: PublicSimulator, adapter: PublicAdapter, account: SimAccount, creds: Credentials) -> None:
    old, *recent = placed(sim, account, 3)
    sim.backdate(old, 7200)
    newest = (await adapter.list_orders(creds, OrderQuery(count=1))).orders[0].created_at
    assert newest is not None
    page = await adapter.list_orders(creds, OrderQuery(count=10, since=newest - 60, statuses=OPEN))
    assert [o.order_id for o in page.orders] == recent[::-1]


async def test_another_users_account_is_not_listed(
    sim: PublicSimulator, adapter: PublicAdapter, creds: Credentials
) -> None:
    other = sim.new_account()
    sim.place(other)
    with pytest.raises(GatewayError):
        await adapter.list_orders(replace(creds, extras={"accountId": other.api_key}), OrderQuery(count=10))
