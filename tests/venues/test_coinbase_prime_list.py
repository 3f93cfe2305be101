"""CoinbasePrimeAdapter.list_orders over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.coinbase_prime.adapter import CoinbasePrimeAdapter
from ordergate.venues.coinbase_prime.simulator import CoinbasePrimeSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.coinbasePrime]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbasePrimeSimulator, str]]:
    sim = CoinbasePrimeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CoinbasePrimeSimulator, str]) -> CoinbasePrimeSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CoinbasePrimeSimulator, str], transport: Transport) -> CoinbasePrimeAdapter:
    return CoinbasePrimeAdapter(SPEC, served[1], transport)


def connected(sim: CoinbasePrimeSimulator) -> Credentials:
    issued = sim.new_account()
    return Credentials(IntegrationType.coinbasePrime, issued.api_key, issued.secret, issued.passphrase, issued.extras)


def placed(sim: CoinbasePrimeSimulator, creds: Credentials, n: int, *, start: datetime | None = None) -> list[str]:
    """n orders one minute apart, oldest first."""
    start = start or datetime.now(UTC) - timedelta(hours=1)
    owner = SimAccount(creds.api_key, creds.secret, creds.passphrase)
    ids = []
    for i in range(n):
        order_id = sim.place(owner, price="20000")[0]
        sim.set_created(order_id, start + timedelta(minutes=i))
        ids.append(order_id)
    return ids


async def every_page(adapter: CoinbasePrimeAdapter, creds: Credentials, query: OrderQuery) -> list[list[str]]:
    pages, cursor = [], None
    for _ in range(20):
        page = await adapter.list_orders(creds, OrderQuery(query.count, query.statuses, query.since, cursor))
        assert len(page.orders) <= query.count and page.total is None
        pages.append([o.order_id for o in page.orders])
        cursor = page.cursor
        if cursor is None:
            return pages
    raise AssertionError("paging did not end")


async def cancel(adapter: CoinbasePrimeAdapter, creds: Credentials, order_id: str) -> None:
    await adapter.cancel(creds, OrderRef(id=order_id, is_cryptocurrency=True))


def requests(sim: CoinbasePrimeSimulator, creds: Credentials) -> tuple[int, int]:
    return sim.count(creds.api_key, "ListOpenOrders"), sim.count(creds.api_key, "ListOrders")


async def test_an_empty_account_lists_nothing(sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter) -> None:
    creds = connected(sim)
    pages = await every_page(adapter, creds, OrderQuery(100))
    assert pages == [[]]  # open orders, then history, in one page
    assert requests(sim, creds) == (1, 1)


async def test_open_orders_come_first_then_history_newest_first(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter
) -> None:
    creds = connected(sim)
    ids = placed(sim, creds, 4)
    sim.fill(ids[1])
    sim.fill(ids[2], "0.5")
    await cancel(adapter, creds, ids[0])
    pages = await every_page(adapter, creds, OrderQuery(10))
    assert pages == [[ids[3], ids[2], ids[1], ids[0]]]  # the open orders leave room for the history
    statuses = [o.status for o in (await adapter.list_orders(creds, OrderQuery(10))).orders]
    assert statuses == [OrderStatus.inProgress, OrderStatus.partiallyFilled, OrderStatus.success, OrderStatus.cancelled]


async def test_pages_of_two_reach_every_order_once(sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter) -> None:
    creds = connected(sim)
    ids = placed(sim, creds, 5)
    placed(sim, connected(sim), 2)  # another portfolio's orders never show
    for order_id in ids[:2]:
        sim.fill(order_id)
    pages = await every_page(adapter, creds, OrderQuery(2))
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]


async def test_open_only_is_one_request(sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter) -> None:
    creds = connected(sim)
    ids = placed(sim, creds, 3)
    sim.fill(ids[0])
    page = await adapter.list_orders(creds, OrderQuery(50, OPEN_STATUSES))
    assert ([o.order_id for o in page.orders], page.cursor) == ([ids[2], ids[1]], None)
    assert requests(sim, creds) == (1, 0)


@pytest.mark.parametrize(
    ("wanted", "expect", "calls"),
    [
        (frozenset({OrderStatus.cancelled}), [1], (0, 1)),
        (frozenset({OrderStatus.success}), [3, 0], (0, 2)),
        (frozenset({OrderStatus.success, OrderStatus.inProgress}), [4, 2, 3, 0], (2, 2)),
    ],
)
async def test_statuses_filter(
    sim: CoinbasePrimeSimulator,
    adapter: CoinbasePrimeAdapter,
    wanted: frozenset[OrderStatus],
    expect: list[int],
    calls: tuple[int, int],
) -> None:
    creds = connected(sim)
    ids = placed(sim, creds, 5)
    sim.fill(ids[0])
    sim.fill(ids[3])
    await cancel(adapter, creds, ids[1])
    pages = await every_page(adapter, creds, OrderQuery(1, wanted))
    assert [i for page in pages for i in page] == [ids[n] for n in expect]
    assert requests(sim, creds) == calls


async def test_since_is_primes_start_date(sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter) -> None:
    creds = connected(sim)
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    ids = placed(sim, creds, 5, start=start)
    sim.fill(ids[4])
    since = int((start + timedelta(minutes=2)).timestamp())
    pages = await every_page(adapter, creds, OrderQuery(5, since=since))
    assert pages == [[ids[3], ids[2], ids[4]]]


async def test_a_refused_listing_is_a_definite_error(sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter):
    creds = connected(sim)
    sim.inject(Fault("venue_error", "ListOpenOrders", api_key=creds.api_key, error="permission"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10))
    assert caught.value.error_type is ErrorType.institutionPermissionDenied
    assert creds.secret not in str(caught.value)
