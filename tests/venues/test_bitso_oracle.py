"""An independent Bitso client (ccxt's bitso) against the simulator over real HTTP.

ccxt shares no code with ordergate: when it loads the books, signs, places, looks up, lists and cancels orders and
its error mapping recognises the simulator's answers, the simulator speaks Bitso's protocol rather than
ordergate's idea of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import ccxt
import httpx
import pytest

from ordergate.venues.bitso.simulator import BitsoSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitsoSimulator, str]]:
    sim = BitsoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount) -> ccxt.bitso:
    exchange = ccxt.bitso({"apiKey": account.api_key, "secret": account.secret, "enableRateLimit": False})
    exchange.urls["api"] = {"rest": url + "/api"}  # ccxt signs "/api/v3/..." whatever the host
    # Books from the simulator's public endpoint; the currency catalogue only lends amount precision.
    currencies = {c: {"precision": 1e-8} for c in ("BTC", "ETH", "USD", "MXN")}
    exchange.fetch_currencies = lambda params={}: currencies  # noqa: B006 - ccxt's own signature
    exchange.load_markets()
    return exchange


def test_ccxt_places_looks_up_and_cancels(served: tuple[BitsoSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    placed = exchange.create_order("BTC/MXN", "limit", "buy", 0.5, 500000)
    oid = placed["id"]
    assert sim.status(oid).value == "inProgress"
    fetched = exchange.fetch_order(oid)
    assert (fetched["id"], fetched["status"], fetched["side"], fetched["amount"]) == (oid, "open", "buy", 0.5)
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/MXN")] == [oid]

    cancelled = exchange.cancel_order(oid)
    assert cancelled["id"] == oid and cancelled["info"] == {"success": True, "payload": [oid]}
    assert sim.status(oid).value == "cancelled"
    assert exchange.fetch_order(oid)["status"] == "cancelled"  # within the hour Bitso still shows it
    # A second cancel is not an error at Bitso: the oid is simply absent.
    again = exchange.cancel_order(oid)
    assert again["id"] is None and again["info"] == {"success": True, "payload": []}


def test_fills_show_in_the_lookup_and_the_trades(served: tuple[BitsoSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    oid = exchange.create_order("ETH/MXN", "limit", "sell", 2, 40000)["id"]
    sim.fill(oid, "0.5")
    fetched = exchange.fetch_order(oid)
    assert (fetched["status"], fetched["remaining"], fetched["filled"]) == ("open", 1.5, 0.5)
    trades = exchange.fetch_order_trades(oid, "ETH/MXN")
    assert [(t["order"], t["amount"], t["price"]) for t in trades] == [(oid, 0.5, 40000.0)]
    sim.fill(oid)
    assert exchange.fetch_order(oid)["status"] == "closed"
    assert exchange.cancel_order(oid)["id"] is None
    sim.age(oid, 3601)  # out of the lookup window: ccxt finds nothing, the trades remain
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order(oid)
    assert len(exchange.fetch_order_trades(oid, "ETH/MXN")) == 2


def test_unknown_and_foreign_orders_are_absent_not_errors(served: tuple[BitsoSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    foreign = sim.place_order(sim.new_account().api_key)
    for oid in (foreign, "qqqqqqqqqqqqqqqq"):
        assert exchange.cancel_order(oid)["info"] == {"success": True, "payload": []}
        with pytest.raises(ccxt.OrderNotFound):
            exchange.fetch_order(oid)
    assert sim.status(foreign).value == "inProgress"


def test_ccxt_maps_the_simulators_errors(served: tuple[BitsoSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    oid = sim.place_order(account.api_key)
    with pytest.raises(ccxt.AuthenticationError):  # 0201
        client(url, SimAccount(account.api_key, sim.new_account().secret)).cancel_order(oid)
    with pytest.raises(ccxt.AuthenticationError):
        client(url, SimAccount("nosuchkey0", account.secret)).cancel_order(oid)
    reader = sim.new_account(can_trade=False)
    with pytest.raises(ccxt.ExchangeError, match="0202"):
        client(url, reader).cancel_order(sim.place_order(reader.api_key))
    with pytest.raises(ccxt.BadSymbol):
        client(url, account).create_order("BTC/EUR", "limit", "buy", 1, 1)
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        client(url, account).cancel_order(oid)
    assert sim.status(oid).value == "inProgress"


def test_a_replayed_request_is_refused_for_its_nonce(served: tuple[BitsoSimulator, str]) -> None:
    import hashlib
    import hmac

    sim, url = served
    account = sim.new_account()
    oid = sim.place_order(account.api_key)
    path, nonce = f"/api/v3/orders/{oid}", "1000"
    # Signed here from Bitso's published recipe, not with ordergate's code.
    digest = hmac.new(account.secret.encode(), f"{nonce}DELETE{path}".encode(), hashlib.sha256).hexdigest()
    headers = {"Authorization": f"Bitso {account.api_key}:{nonce}:{digest}"}
    first = httpx.delete(url + path, headers=headers)
    again = httpx.delete(url + path, headers=headers)
    assert first.json() == {"success": True, "payload": [oid]}
    assert again.status_code == 401 and again.json()["error"]["code"] == "0207"


def test_ccxt_lists_open_orders_newest_first_by_book(served: tuple[BitsoSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    oids = [exchange.create_order("BTC/MXN", "limit", "buy", 0.1, 400000 + i)["id"] for i in range(3)]
    eth = exchange.create_order("ETH/MXN", "limit", "sell", 1, 40000)["id"]
    exchange.cancel_order(oids[1])
    listed = exchange.fetch_open_orders("BTC/MXN")  # book=btc_mxn&limit=25, as ccxt sends it
    assert sorted(o["id"] for o in listed) == sorted([oids[2], oids[0]])  # ccxt re-sorts by time itself
    assert {o["status"] for o in listed} == {"open"} and eth not in [o["id"] for o in listed]
    # ccxt passes Bitso's own paging parameters through.
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/MXN", None, 1)] == [oids[2]]
    ascending = exchange.fetch_open_orders("ETH/MXN", None, 25, {"sort": "asc"})
    assert [o["id"] for o in ascending] == [eth]
