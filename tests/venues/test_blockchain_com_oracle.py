"""An independent Blockchain.com client (ccxt's blockchaincom) against the simulator over real HTTP.

ccxt shares no code with ordergate: when it loads the markets, authenticates, places, fetches, lists and cancels
orders and its error mapping recognises the simulator's answers, the simulator speaks Blockchain.com's protocol.
"""

from __future__ import annotations

from collections.abc import Iterator

import ccxt
import pytest

from ordergate.venues.blockchain_com.simulator import BlockchainComSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BlockchainComSimulator, str]]:
    sim = BlockchainComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount) -> ccxt.blockchaincom:
    exchange = ccxt.blockchaincom({"secret": account.secret, "enableRateLimit": False})
    exchange.urls["api"] = {"public": url, "private": url}
    return exchange


def test_ccxt_places_fetches_and_cancels(served: tuple[BlockchainComSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    placed = exchange.create_order("BTC/USD", "limit", "buy", 0.5, 20000)
    oid = placed["id"]
    assert (placed["symbol"], placed["side"], placed["status"]) == ("BTC/USD", "buy", "open")
    (listed,) = exchange.fetch_open_orders("BTC/USD")
    assert (listed["id"], listed["remaining"]) == (oid, 0.5)
    exchange.cancel_order(oid)
    assert sim.status(oid).value == "cancelled" and exchange.fetch_open_orders("BTC/USD") == []
    assert exchange.fetch_order(oid)["status"] == "canceled"
    assert exchange.fetch_balance()["BTC"]["free"] == 10.0


def test_closed_unknown_and_foreign_orders_are_not_found(served: tuple[BlockchainComSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    filled = sim.place_order(account.secret)
    sim.fill(filled)
    foreign = sim.place_order(sim.new_account().secret)
    for oid in (filled, foreign, "7777777777"):
        with pytest.raises(ccxt.OrderNotFound):
            exchange.cancel_order(oid)
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order(foreign)
    assert exchange.fetch_order(filled)["status"] == "closed"
    assert sim.status(foreign).value == "inProgress"


def test_wrong_token_permission_and_rate_limit(served: tuple[BlockchainComSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    oid = sim.place_order(account.secret)
    with pytest.raises(ccxt.AuthenticationError):
        client(url, SimAccount(account.api_key, "f" * 64)).cancel_order(oid)
    reader = sim.new_account(can_trade=False)
    with pytest.raises(ccxt.BaseError, match="403 Forbidden"):  # ccxt maps no 403 of its own
        client(url, reader).cancel_order(sim.place_order(reader.secret))
    assert client(url, reader).fetch_balance()["BTC"]["free"] == 10.0  # the token itself is fine
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        client(url, account).cancel_order(oid)
    assert sim.status(oid).value == "inProgress"


def test_ccxt_lists_by_state_with_from_to_and_limit(served: tuple[BlockchainComSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    ids = [exchange.create_order("BTC/USD", "limit", "buy", 1, 20000 + i)["id"] for i in range(4)]
    for age, oid in enumerate(reversed(ids)):
        sim.age(oid, age)
    sim.fill(ids[0])
    exchange.cancel_order(ids[1])
    assert {o["id"] for o in exchange.fetch_open_orders("BTC/USD")} == {ids[2], ids[3]}
    assert [(o["id"], o["status"]) for o in exchange.fetch_closed_orders("BTC/USD")] == [(ids[0], "closed")]
    assert [(o["id"], o["status"]) for o in exchange.fetch_canceled_orders("BTC/USD")] == [(ids[1], "canceled")]
    # getOrders' own parameters through ccxt: the newest open one, then those at or before a timestamp.
    (newest,) = exchange.fetch_open_orders("BTC/USD", None, None, {"limit": 1})
    assert newest["id"] == ids[3]
    older = exchange.fetch_open_orders("BTC/USD", None, None, {"to": newest["timestamp"] - 1})
    assert [o["id"] for o in older] == [ids[2]]
