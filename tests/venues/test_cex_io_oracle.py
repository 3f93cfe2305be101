"""ccxt's `cex` (independent of ordergate) against the simulator over real HTTP.

ccxt signs, places, fetches and cancels the way it does against trade.cex.io/api/spot/rest; when that works and its
error mapping sees CEX.IO's own messages, the simulator speaks CEX.IO's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import ccxt
import pytest

from ordergate.venues.cex_io.simulator import SUB_ACCOUNT, CexIoSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CexIoSimulator, str]]:
    sim = CexIoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount) -> ccxt.cex:
    exchange = ccxt.cex({"apiKey": account.api_key, "secret": account.secret, "enableRateLimit": False})
    exchange.urls["api"] = {"public": url + "/public", "private": url}
    exchange.options["createOrder"] = {"accountId": SUB_ACCOUNT}
    return exchange


def test_ccxt_places_fetches_and_cancels(served: tuple[CexIoSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    assert "BTC/USD" in exchange.load_markets()
    assert exchange.fetch_balance()["USD"]["total"] == 100000.0

    placed = exchange.create_order("BTC/USD", "limit", "buy", 0.5, 25000)
    assert (placed["status"], placed["amount"], placed["price"]) == ("open", 0.5, 25000.0)
    fetched = exchange.fetch_open_order(placed["id"])
    assert (fetched["id"], fetched["status"], fetched["symbol"], fetched["side"]) == (
        placed["id"],
        "open",
        "BTC/USD",
        "buy",
    )
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/USD")] == [placed["id"]]

    exchange.cancel_order(placed["id"])  # {"ok":"ok","data":{}}: accepted, nothing more
    assert sim.status(placed["id"]).value == "cancelled"
    closed = exchange.fetch_closed_order(placed["id"])
    assert (closed["id"], closed["status"]) == (placed["id"], "canceled")
    assert exchange.fetch_open_orders() == []


def test_partial_fill_filled_and_unknown_orders(served: tuple[CexIoSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    placed = exchange.create_order("BTC/USD", "limit", "sell", 2, 31000)
    sim.fill(placed["id"], "0.5")
    partly = exchange.fetch_open_order(placed["id"])
    assert (partly["status"], partly["filled"], partly["info"]["status"]) == ("open", 0.5, "PARTIALLY_FILLED")
    sim.fill(placed["id"])
    assert exchange.fetch_closed_order(placed["id"])["status"] == "closed"

    # CEX.IO acknowledges a cancel it will refuse exactly like one it accepts (its docs: "never been created");
    # the refusal is an orderCancelReject event, which ccxt's REST client never sees.
    before = len(sim.cancel_rejects)
    exchange.cancel_order(placed["id"])
    exchange.cancel_order("987654321")
    assert [r["cancelRejectReason"] for r in sim.cancel_rejects[before:]] == ["too_late_to_cancel", "unknown_order"]
    assert sim.status(placed["id"]).value == "success"

    market = exchange.create_order("BTC/USD", "market", "buy", 0.1)
    assert market["status"] == "closed" and market["filled"] == 0.1


def test_credentials_and_permissions_are_checked_like_cex(served: tuple[CexIoSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    with pytest.raises(ccxt.AuthenticationError, match="key not passed or incorrect"):
        client(url, SimAccount("not-a-key", account.secret)).fetch_balance()
    with pytest.raises(ccxt.ExchangeError, match="Signature"):
        client(url, SimAccount(account.api_key, "another secret")).fetch_balance()

    reader = sim.new_account(can_trade=False)
    order_id, _ = sim.place(reader)
    exchange = client(url, reader)
    assert exchange.fetch_open_order(order_id)["id"] == order_id  # "Read" is enough to look
    with pytest.raises(ccxt.ExchangeError, match="Trade permission"):
        exchange.cancel_order(order_id)
    assert sim.status(order_id).value == "inProgress"


def test_main_account_orders_and_bad_requests_are_refused(served: tuple[CexIoSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    exchange.load_markets()
    with pytest.raises(ccxt.BadRequest, match="Main account"):
        exchange.create_order("BTC/USD", "limit", "buy", 0.5, 25000, {"accountId": ""})
    with pytest.raises(ccxt.ExchangeError, match="ClientOrderId or orderId should be specified"):
        exchange.privatePostDoCancelMyOrder({"cancelRequestId": "c_1", "timestamp": exchange.milliseconds()})
    with pytest.raises(ccxt.ExchangeError, match="not both"):
        exchange.privatePostDoCancelMyOrder(
            {"orderId": 1, "clientOrderId": "x", "cancelRequestId": "c_2", "timestamp": exchange.milliseconds()}
        )


def test_rate_limit_and_injected_errors_reach_ccxt_as_cex_words(served: tuple[CexIoSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    sim.inject(Fault("venue_error", "get_my_orders", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_open_orders()
    sim.inject(Fault("venue_error", "get_my_orders", api_key=account.api_key, error="auth"))
    with pytest.raises(ccxt.AuthenticationError):
        exchange.fetch_open_orders()

    now = time.time()  # one frozen minute: the budget cannot roll over between the calls
    tight = CexIoSimulator(points_per_minute=10, clock=lambda: now)  # a key's 200 points a minute, scaled down
    with serve_asgi(tight.app) as tight_url:
        small = client(tight_url, tight.new_account())
        small.fetch_open_orders()
        small.fetch_open_orders()
        with pytest.raises(ccxt.RateLimitExceeded, match="API rate limit reached"):
            small.fetch_open_orders()


def test_ccxt_lists_open_and_archived_orders(served: tuple[CexIoSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    exchange.load_markets()
    ids = [exchange.create_order("BTC/USD", "limit", "buy", 0.01, 20000 + i)["id"] for i in range(3)]
    for n, order_id in enumerate(ids):
        sim.age(order_id, seconds=100 * (3 - n))
    exchange.cancel_order(ids[0], "BTC/USD")
    assert {o["id"] for o in exchange.fetch_open_orders("BTC/USD")} == set(ids[1:])
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/USD", limit=1)] == [ids[2]]  # newest first
    closed = exchange.fetch_closed_orders("BTC/USD")  # archived: true, serverCreateTimestampFrom a year back
    assert [(o["id"], o["status"]) for o in closed] == [(ids[0], "canceled")]
    assert exchange.fetch_open_orders("BTC/USD", since=int((time.time() - 150) * 1000))[0]["id"] == ids[2]
