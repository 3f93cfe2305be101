"""KucoinAdapter.list_orders against the simulator on a real socket: classic accounts through
GET /api/v1/orders?status=active|done with currentPage/pageSize, HF accounts through /api/v1/hf/orders/active and
/api/v1/hf/orders/done with lastId; open orders first, then done ones."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.kucoin.adapter import KucoinAdapter
from ordergate.venues.kucoin.simulator import KucoinSimulator
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.kuCoin]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})
KINDS = pytest.mark.parametrize("hf", [False, True], ids=["classic", "hf"])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[KucoinSimulator, str]]:
    sim = KucoinSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[KucoinSimulator, str]) -> KucoinSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[KucoinSimulator, str], transport: Transport) -> KucoinAdapter:
    return KucoinAdapter(SPEC, served[1], transport)


def account(sim: KucoinSimulator, hf: bool) -> Credentials:
    made = sim.new_credentials(hf=hf)
    return Credentials(IntegrationType.kuCoin, made.api_key, made.secret, made.passphrase, {"hf": hf})


def ago(seconds: int) -> int:
    return (int(time.time()) - seconds) * 1000


def mine(sim: KucoinSimulator, creds: Credentials, since: int) -> list[tuple[str, dict[str, str]]]:
    seen = [s for s in list(sim.seen) if s.api_key == creds.api_key][since:]
    return [(s.op, dict(parse_qsl(urlsplit(s.endpoint).query))) for s in seen]


def query(
    count: int, statuses: frozenset[OrderStatus] | None = None, since: int | None = None, hf: bool = False
) -> OrderQuery:
    return OrderQuery(count, statuses, since, None, "BTC-USDT" if hf else None)


async def every_page(adapter: KucoinAdapter, creds: Credentials, first: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, first)]
    while pages[-1].cursor is not None:
        assert len(pages) < 50, "paging does not end"
        nxt = OrderQuery(first.count, first.statuses, first.since, pages[-1].cursor, first.symbol_pair)
        pages.append(await adapter.list_orders(creds, nxt))
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def mixed(sim: KucoinSimulator, adapter: KucoinAdapter, creds: Credentials) -> dict[str, list[str]]:
    """Open (one partly filled), filled and cancelled orders placed oldest first; each list oldest first."""
    placed = [sim.place_order(creds.api_key, created_ms=ago(600 - 60 * i)) for i in range(7)]
    sim.fill(placed[1], "0.5")
    for order_id in (placed[2], placed[5]):
        sim.fill(order_id)
    for order_id in (placed[3], placed[6]):
        await adapter.cancel(creds, OrderRef(order_id, True, symbol_pair="BTC-USDT"))
    return {
        "open": [placed[0], placed[1], placed[4]],
        "filled": [placed[2], placed[5]],
        "cancelled": [placed[3], placed[6]],
    }


def done_newest_first(made: dict[str, list[str]]) -> list[str]:
    # mixed() placed them filled[0], cancelled[0], filled[1], cancelled[1] (oldest first).
    return [made["cancelled"][1], made["filled"][1], made["cancelled"][0], made["filled"][0]]


@KINDS
async def test_empty_account(sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool) -> None:
    creds = account(sim, hf)
    assert await adapter.list_orders(creds, query(100, hf=hf)) == OrderPage((), None, None)
    expected = ["hf_active_orders", "hf_done_orders"] if hf else ["list_orders", "list_orders"]
    assert [op for op, _ in mine(sim, creds, 0)] == expected


@KINDS
async def test_one_page_open_first_then_done(sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool) -> None:
    creds = account(sim, hf)
    made = await mixed(sim, adapter, creds)
    start = len(mine(sim, creds, 0))
    page = await adapter.list_orders(creds, query(100, hf=hf))
    assert [o.order_id for o in page.orders] == [*reversed(made["open"]), *done_newest_first(made)]
    assert page.cursor is None
    partial = next(o for o in page.orders if o.order_id == made["open"][1])
    assert (partial.status, partial.filled, partial.symbol, partial.payment_symbol, partial.created_at) == (
        OrderStatus.partiallyFilled,
        0.5,
        "BTC",
        "USDT",
        ago(540) // 1000,
    )
    (_, first), (_, second) = mine(sim, creds, start)
    if hf:
        assert (first, second) == ({"symbol": "BTC-USDT"}, {"symbol": "BTC-USDT", "limit": "97"})
    else:
        assert (first["status"], first["pageSize"], second["status"], second["currentPage"]) == (
            "active",
            "100",
            "done",
            "1",
        )


@KINDS
async def test_paging_reaches_every_order_once(sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool) -> None:
    creds = account(sim, hf)
    made = await mixed(sim, adapter, creds)
    pages = await every_page(adapter, creds, query(2, hf=hf))
    assert ids(pages) == [*reversed(made["open"]), *done_newest_first(made)]
    assert all(len(p.orders) <= 2 for p in pages)


async def test_classic_pages_smaller_than_kucoins_minimum_read_within_one_venue_page(
    sim: KucoinSimulator, adapter: KucoinAdapter
) -> None:
    creds = account(sim, False)
    placed = [sim.place_order(creds.api_key, created_ms=ago(900 - 60 * i)) for i in range(12)]
    start = len(mine(sim, creds, 0))
    pages = await every_page(adapter, creds, query(5, OPEN))
    assert ids(pages) == list(reversed(placed))
    sent = [p for _, p in mine(sim, creds, start)]
    assert [(p["currentPage"], p["pageSize"]) for p in sent] == [("1", "10"), ("1", "10"), ("2", "10")]
    assert [p.total for p in pages] == [12, 12, 12]


@KINDS
async def test_open_only_is_one_request(sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool) -> None:
    creds = account(sim, hf)
    made = await mixed(sim, adapter, creds)
    total = sim.total_requests
    page = await adapter.list_orders(creds, query(100, OPEN, hf=hf))
    assert sim.total_requests - total == 1
    assert ([o.order_id for o in page.orders], page.cursor, page.total) == (list(reversed(made["open"])), None, 3)
    partial = await adapter.list_orders(creds, query(100, frozenset({OrderStatus.partiallyFilled}), hf=hf))
    assert [o.order_id for o in partial.orders] == [made["open"][1]]


@KINDS
async def test_cancelled_only_and_filled_only(sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool) -> None:
    creds = account(sim, hf)
    made = await mixed(sim, adapter, creds)
    start = len(mine(sim, creds, 0))
    cancelled = await every_page(adapter, creds, query(1, frozenset({OrderStatus.cancelled}), hf=hf))
    assert ids(cancelled) == list(reversed(made["cancelled"]))
    assert {op for op, _ in mine(sim, creds, start)} == {"hf_done_orders" if hf else "list_orders"}
    filled = await every_page(adapter, creds, query(10, frozenset({OrderStatus.success}), hf=hf))
    assert ids(filled) == list(reversed(made["filled"]))


@KINDS
async def test_since_is_start_at(sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool) -> None:
    creds = account(sim, hf)
    old_open = sim.place_order(creds.api_key, created_ms=ago(2 * 86400))
    old_done = sim.place_order(creds.api_key, created_ms=ago(2 * 86400 - 1))
    sim.fill(old_done)
    new = await mixed(sim, adapter, creds)
    since = int(time.time()) - 3600
    start = len(mine(sim, creds, 0))
    pages = await every_page(adapter, creds, query(3, since=since, hf=hf))
    assert sorted(ids(pages)) == sorted(sum(new.values(), []))
    assert not {old_open, old_done} & set(ids(pages))
    done = [p for op, p in mine(sim, creds, start) if op != "hf_active_orders"]
    assert done and all(p["startAt"] == str(since * 1000) for p in done)


async def test_hf_needs_a_symbol_and_errors_are_kucoins(sim: KucoinSimulator, adapter: KucoinAdapter) -> None:
    creds = account(sim, True)
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, OPEN))
    assert (caught.value.error_type, list(caught.value.error_data["fields"])) == (
        ErrorType.missingField,
        ["symbolPair"],
    )
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, OPEN, symbol_pair="BTC&USDT"))
    assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent
    classic = account(sim, False)
    sim.inject(Fault("venue_error", "list_orders", api_key=classic.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(classic, OrderQuery(10, OPEN))
    assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, 13)
