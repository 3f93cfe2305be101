"""An independent BtcTurk client (ccxt's btcturk) against the simulator over real HTTP.

ccxt shares no code with ordergate: when it loads the markets, signs, places, lists and cancels orders and its
error mapping recognises the simulator's answers, the simulator speaks BtcTurk's protocol.
"""

from __future__ import annotations

from collections.abc import Iterator

import ccxt
import pytest

from ordergate.venues.btcturk.simulator import BtcTurkSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BtcTurkSimulator, str]]:
    sim = BtcTurkSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount) -> ccxt.btcturk:
    exchange = ccxt.btcturk({"apiKey": account.api_key, "secret": account.secret, "enableRateLimit": False})
    exchange.urls["api"] = {"public": url + "/api/v2", "private": url + "/api/v1", "graph": url}
    return exchange


def test_ccxt_places_lists_and_cancels(served: tuple[BtcTurkSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    placed = exchange.create_order("BTC/TRY", "limit", "buy", 0.5, 2000000)
    oid = placed["id"]
    assert (placed["symbol"], placed["side"], placed["amount"]) == ("BTC/TRY", "buy", 0.5)
    (listed,) = exchange.fetch_open_orders("BTC/TRY")
    assert (listed["id"], listed["status"], listed["remaining"]) == (oid, "open", 0.5)
    cancelled = exchange.cancel_order(oid)
    assert cancelled["info"] == {"success": True, "message": "SUCCESS", "code": 0, "data": None}
    assert sim.status(oid).value == "cancelled" and exchange.fetch_open_orders("BTC/TRY") == []
    (closed,) = [o for o in exchange.fetch_orders("BTC/TRY") if o["id"] == oid]
    assert closed["status"] == "canceled"


def test_closed_unknown_and_foreign_orders_are_errors(served: tuple[BtcTurkSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    filled = sim.place_order(account.api_key)
    sim.fill(filled)
    with pytest.raises(ccxt.ExchangeError, match="ORDER_COULD_NOT_BE_CANCELED"):
        exchange.cancel_order(filled)
    foreign = sim.place_order(sim.new_account().api_key)
    for oid in (foreign, "7777777777"):
        with pytest.raises(ccxt.ExchangeError, match="NO_ORDER_MATCHES_YOUR_REQUEST"):
            exchange.cancel_order(oid)
    assert [o["id"] for o in exchange.fetch_orders("BTC/TRY")] == [filled]  # allOrders: this account's only
    assert sim.status(foreign).value == "inProgress"


def test_wrong_secret_permission_and_rate_limit(served: tuple[BtcTurkSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    oid = sim.place_order(account.api_key)
    with pytest.raises(ccxt.ExchangeError, match="Invalid Signature"):
        client(url, SimAccount(account.api_key, sim.new_account().secret)).cancel_order(oid)
    reader = sim.new_account(can_trade=False)
    with pytest.raises(ccxt.ExchangeError, match="Unauthorized"):
        client(url, reader).cancel_order(sim.place_order(reader.api_key))
    assert client(url, reader).fetch_balance()["BTC"]["free"] == 10.0  # the key itself is fine
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.ExchangeError, match="TOO_MANY_REQUESTS"):
        client(url, account).cancel_order(oid)
    assert sim.status(oid).value == "inProgress"


def test_a_stale_stamp_is_refused(served: tuple[BtcTurkSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    exchange.nonce = lambda: 1700000000000
    with pytest.raises(ccxt.ExchangeError, match="Invalid Nonce"):
        exchange.fetch_balance()


def test_ccxt_lists_by_pair_with_time_and_page(served: tuple[BtcTurkSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    ids = [exchange.create_order("BTC/TRY", "limit", "buy", 0.1, 2000000 + i)["id"] for i in range(3)]
    usdt = exchange.create_order("BTC/USDT", "limit", "sell", 0.1, 70000)["id"]
    sim.age(ids[0], 7200)
    exchange.cancel_order(ids[1])
    assert {o["id"] for o in exchange.fetch_open_orders()} == {ids[0], ids[2], usdt}  # every pair without a symbol
    assert {o["id"] for o in exchange.fetch_open_orders("BTC/USDT")} == {usdt}
    recent = exchange.fetch_orders("BTC/TRY", since=exchange.milliseconds() - 3_600_000)
    assert {(o["id"], o["status"]) for o in recent} == {(ids[1], "canceled"), (ids[2], "open")}
    # ccxt sends BtcTurk's own page and limit through; the simulator pages newest first.
    second = exchange.fetch_orders("BTC/TRY", None, None, {"page": 2, "limit": 1})
    assert [o["id"] for o in second] == [ids[1]]
