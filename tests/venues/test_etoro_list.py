"""EtoroAdapter.list_orders against the simulator on a real socket: the portfolio's pending orders, one request,
newest first; eToro lists no closed orders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.etoro.adapter import EtoroAdapter
from ordergate.venues.etoro.simulator import EtoroSimulator
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EtoroSimulator, str]]:
    sim = EtoroSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[EtoroSimulator, str]) -> EtoroSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[EtoroSimulator, str], transport: Transport) -> EtoroAdapter:
    return EtoroAdapter(SPECS[IntegrationType.etoro], served[1], transport)


def account(sim: EtoroSimulator) -> Credentials:
    acct = sim.new_account()
    return Credentials(IntegrationType.etoro, acct.api_key, acct.secret, acct.passphrase, acct.extras)


def placed(sim: EtoroSimulator, creds: Credentials, n: int) -> list[str]:
    """n pending limit orders of 2 units, oldest first, a second apart."""
    acct = SimAccount(creds.api_key, creds.secret, creds.passphrase, dict(creds.extras))
    ids = [sim.place(acct, volume="2", price=str(100 + i))[0] for i in range(n)]
    for age, order_id in enumerate(reversed(ids)):
        sim.age(order_id, age)
    return ids


async def test_an_empty_account(sim: EtoroSimulator, adapter: EtoroAdapter) -> None:
    page = await adapter.list_orders(account(sim), OrderQuery(count=100))
    assert (page.orders, page.cursor, page.total) == ((), None, None)


async def test_one_page_of_pending_orders(sim: EtoroSimulator, adapter: EtoroAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[0], "0.5")
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    assert [o.order_id for o in page.orders] == ids[::-1] and page.cursor is None
    oldest = page.orders[-1]
    assert (oldest.status, oldest.amount, oldest.filled, oldest.order_type) == (
        OrderStatus.partiallyFilled, 2.0, 0.5, "limit",
    )  # fmt: skip
    assert page.orders[0].status is OrderStatus.inProgress
    assert sim.count(creds.api_key, "portfolio") == 1


async def test_pages_reach_every_order_once(sim: EtoroSimulator, adapter: EtoroAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 5)
    query = OrderQuery(count=2)
    pages = [await adapter.list_orders(creds, query)]
    while pages[-1].cursor is not None and len(pages) < 6:
        pages.append(await adapter.list_orders(creds, replace(query, cursor=pages[-1].cursor)))
    assert [len(p.orders) for p in pages] == [2, 2, 1]
    assert [o.order_id for p in pages for o in p.orders] == ids[::-1]


async def test_open_only_is_one_request(sim: EtoroSimulator, adapter: EtoroAdapter) -> None:
    creds = account(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[1], "1")
    await adapter.cancel(creds, OrderRef(ids[2], False))
    sent = adapter.transport.requests_sent
    page = await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset({OrderStatus.partiallyFilled})))
    assert [o.order_id for o in page.orders] == [ids[1]]
    assert adapter.transport.requests_sent - sent == 1


@pytest.mark.parametrize("status", [OrderStatus.cancelled, OrderStatus.success])
async def test_closed_only_is_refused_not_answered_empty(
    sim: EtoroSimulator, adapter: EtoroAdapter, status: OrderStatus
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(count=10, statuses=frozenset({status})))
    assert caught.value.error_type is ErrorType.listingNotSupported and "pending orders only" in caught.value.message
    assert adapter.transport.requests_sent == sent


async def test_since(sim: EtoroSimulator, adapter: EtoroAdapter) -> None:
    creds = account(sim)
    old, *recent = placed(sim, creds, 3)
    sim.age(old, 7200)
    newest = (await adapter.list_orders(creds, OrderQuery(count=1))).orders[0].created_at
    assert newest is not None
    page = await adapter.list_orders(creds, OrderQuery(count=10, since=newest - 10))
    assert [o.order_id for o in page.orders] == recent[::-1]


async def test_a_wrong_key_is_auth_failed(sim: EtoroSimulator, adapter: EtoroAdapter) -> None:
    creds = account(sim)
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(replace(creds, secret="x" * 40), OrderQuery(count=10))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
