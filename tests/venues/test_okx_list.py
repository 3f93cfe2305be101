"""OkxAdapter.list_orders against the simulator on a real socket: orders-pending, then orders-history (last 7
days), instType SPOT, each paged by `after` (the last ordId handed out)."""

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
from ordergate.venues.okx.adapter import OkxAdapter
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.okx]
OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[OkxSimulator, str]]:
    sim = OkxSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[OkxSimulator, str]) -> OkxSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[OkxSimulator, str], transport: Transport) -> OkxAdapter:
    return OkxAdapter(SPEC, served[1], transport)


def account(sim: OkxSimulator) -> Credentials:
    key, secret, passphrase = sim.new_credentials()
    return Credentials(IntegrationType.okx, key, secret, passphrase)


def ago(seconds: int) -> int:
    return (int(time.time()) - seconds) * 1000


def mine(sim: OkxSimulator, creds: Credentials, since: int) -> list[tuple[str, dict[str, str]]]:
    seen = [s for s in list(sim.seen) if s.api_key == creds.api_key][since:]
    return [(s.op, dict(parse_qsl(urlsplit(s.target).query))) for s in seen]


async def every_page(adapter: OkxAdapter, creds: Credentials, query: OrderQuery) -> list[OrderPage]:
    pages = [await adapter.list_orders(creds, query)]
    while pages[-1].cursor is not None:
        assert len(pages) < 50, "paging does not end"
        nxt = OrderQuery(query.count, query.statuses, query.since, pages[-1].cursor, query.symbol_pair)
        pages.append(await adapter.list_orders(creds, nxt))
    return pages


def ids(pages: list[OrderPage]) -> list[str]:
    return [o.order_id for page in pages for o in page.orders]


async def mixed(sim: OkxSimulator, adapter: OkxAdapter, creds: Credentials) -> dict[str, list[str]]:
    """Open (one partly filled), filled and cancelled orders, placed oldest first; each list oldest first."""
    placed = [sim.place_order(creds.api_key, c_time=ago(600 - 60 * i)) for i in range(7)]
    sim.fill(placed[1], "0.5")
    for ord_id in (placed[2], placed[5]):
        sim.fill(ord_id)
    for ord_id in (placed[3], placed[6]):
        await adapter.cancel(creds, OrderRef(ord_id, True, symbol_pair="BTC-USDT"))
    return {
        "open": [placed[0], placed[1], placed[4]],
        "filled": [placed[2], placed[5]],
        "cancelled": [placed[3], placed[6]],
    }


async def test_empty_account(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    assert await adapter.list_orders(creds, OrderQuery(100)) == OrderPage((), None, None)
    assert [op for op, _ in mine(sim, creds, 0)] == ["orders-pending", "orders-history"]


async def test_one_page_open_first_then_history_newest_first(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    start = len(mine(sim, creds, 0))
    page = await adapter.list_orders(creds, OrderQuery(100))
    final = sorted(made["filled"] + made["cancelled"], key=int, reverse=True)
    assert [o.order_id for o in page.orders] == [*reversed(made["open"]), *final]
    assert page.cursor is None
    partial = next(o for o in page.orders if o.order_id == made["open"][1])
    assert (partial.status, partial.filled, partial.symbol, partial.payment_symbol, partial.created_at) == (
        OrderStatus.partiallyFilled,
        0.5,
        "BTC",
        "USDT",
        ago(540) // 1000,
    )
    (pending, first), (history, second) = mine(sim, creds, start)
    assert (pending, first, history, second) == (
        "orders-pending",
        {"instType": "SPOT", "limit": "100"},
        "orders-history",
        {"instType": "SPOT", "limit": "97"},
    )


async def test_paging_reaches_every_order_once(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    pages = await every_page(adapter, creds, OrderQuery(2))
    final = sorted(made["filled"] + made["cancelled"], key=int, reverse=True)
    assert ids(pages) == [*reversed(made["open"]), *final]
    assert all(len(p.orders) <= 2 for p in pages)
    assert any(p.cursor and p.cursor.get("after") for p in pages)


async def test_open_only_is_one_request(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    start, total = len(mine(sim, creds, 0)), sim.total_requests
    page = await adapter.list_orders(creds, OrderQuery(100, OPEN))
    assert sim.total_requests - total == 1
    assert ([o.order_id for o in page.orders], page.cursor) == (list(reversed(made["open"])), None)
    assert [op for op, _ in mine(sim, creds, start)] == ["orders-pending"]
    partial = await adapter.list_orders(creds, OrderQuery(100, frozenset({OrderStatus.partiallyFilled})))
    assert [o.order_id for o in partial.orders] == [made["open"][1]]
    assert mine(sim, creds, start)[-1][1]["state"] == "partially_filled"


async def test_cancelled_only_and_filled_only(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    made = await mixed(sim, adapter, creds)
    start = len(mine(sim, creds, 0))
    pages = await every_page(adapter, creds, OrderQuery(1, frozenset({OrderStatus.cancelled})))
    assert ids(pages) == list(reversed(made["cancelled"]))
    assert {op for op, _ in mine(sim, creds, start)} == {"orders-history"}
    assert all("state" not in p for _, p in mine(sim, creds, start))  # canceled and mmp_canceled both mean it
    start = len(mine(sim, creds, 0))
    filled = await adapter.list_orders(creds, OrderQuery(10, frozenset({OrderStatus.success})))
    assert [o.order_id for o in filled.orders] == list(reversed(made["filled"]))
    [(op, params)] = mine(sim, creds, start)
    assert (op, params["state"]) == ("orders-history", "filled")
    assert await adapter.list_orders(creds, OrderQuery(10, frozenset({OrderStatus.expired}))) == OrderPage(())


async def test_since_is_begin_for_history_and_filters_pending(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    old_open = sim.place_order(creds.api_key, c_time=ago(2 * 86400))
    old_done = sim.place_order(creds.api_key, c_time=ago(2 * 86400 - 1))
    sim.fill(old_done)
    new = await mixed(sim, adapter, creds)
    since = int(time.time()) - 3600
    start = len(mine(sim, creds, 0))
    pages = await every_page(adapter, creds, OrderQuery(3, since=since))
    assert sorted(ids(pages)) == sorted(sum(new.values(), []))
    assert not {old_open, old_done} & set(ids(pages))
    history = [p for op, p in mine(sim, creds, start) if op == "orders-history"]
    assert history and all(p["begin"] == str(since * 1000) for p in history)


async def test_symbol_pair_is_inst_id_and_errors_are_okxs(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    btc = sim.place_order(creds.api_key)
    sim.place_order(creds.api_key, inst_id="ETH-USDT")
    page = await adapter.list_orders(creds, OrderQuery(10, OPEN, symbol_pair="BTC/USDT"))
    assert [o.order_id for o in page.orders] == [btc]
    assert mine(sim, creds, 0)[-1][1]["instId"] == "BTC-USDT"
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, symbol_pair="BTC&USDT"))
    assert caught.value.error_type is ErrorType.invalidField
    sim.inject(Fault("venue_error", "orders-pending", api_key=creds.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.list_orders(creds, OrderQuery(10, OPEN))
    assert caught.value.error_type is ErrorType.rateLimited
