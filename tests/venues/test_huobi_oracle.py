"""ccxt's htx (independent of ordergate) against the simulator over real HTTP.

ccxt signs with its own configured hostname (urls.hostnames.spot), not the URL it calls, so it is told the
simulator's host:port, as a client of any HTX-compatible server would be. huobi-sdk 2.3.3 could not be the oracle:
it pins websocket-client<1, which the venv's kucoin-universal-sdk (>=1.8) and pybit need.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import ccxt
import httpx
import pytest

from ordergate.venues.huobi.auth import signed_query
from ordergate.venues.huobi.simulator import HuobiSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[HuobiSimulator, str]]:
    sim = HuobiSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount, *, hostname: str | None = None, **overrides: str) -> ccxt.htx:
    options = {"apiKey": account.api_key, "secret": account.secret, **overrides}
    exchange = ccxt.htx(
        {
            **options,
            "enableRateLimit": False,
            "options": {"fetchMarkets": {"types": {"spot": True, "linear": False, "inverse": False}}},
        }
    )
    host = url.removeprefix("http://")
    exchange.has["fetchCurrencies"] = False  # /v2/reference/currencies: networks, not needed to trade
    exchange.urls["hostnames"]["spot"] = hostname or host  # what ccxt puts in the signed text
    exchange.urls["api"] = {name: f"http://{host}" for name in exchange.urls["api"]}  # where it sends
    return exchange


def test_ccxt_places_fetches_and_cancels(served: tuple[HuobiSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    assert "BTC/USDT" in exchange.load_markets()
    assert exchange.fetch_balance()["USDT"]["free"] == 100000.0

    placed = exchange.create_order("BTC/USDT", "limit", "buy", 0.5, 25000)
    # fetchOpenOrders sends openOrders with the account-id it loaded, as ordergate's listing does.
    assert [(o["id"], o["status"]) for o in exchange.fetch_open_orders("BTC/USDT")] == [(placed["id"], "open")]
    fetched = exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["amount"], fetched["price"], fetched["symbol"], fetched["side"]) == (
        "open",
        0.5,
        25000.0,
        "BTC/USDT",
        "buy",
    )
    cancelled = exchange.cancel_order(placed["id"], "BTC/USDT")
    assert (cancelled["id"], cancelled["status"]) == (placed["id"], "canceled")
    assert exchange.fetch_order(placed["id"])["status"] == "canceled"
    assert exchange.fetch_open_orders("BTC/USDT") == []
    history = exchange.spotPrivateGetV1OrderHistory({"size": 10})
    assert history["status"] == "ok" and [(str(o["id"]), o["state"]) for o in history["data"]] == [
        (placed["id"], "canceled")
    ]
    # A second cancel: order-orderstate-error, which ccxt maps to OrderNotFound.
    with pytest.raises(ccxt.OrderNotFound, match='"order-state":7'):
        exchange.cancel_order(placed["id"], "BTC/USDT")
    assert sim.status(placed["id"]).value == "cancelled"


def test_partial_fill_filled_and_foreign_orders(served: tuple[HuobiSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    exchange.load_markets()
    placed = exchange.create_order("BTC/USDT", "limit", "sell", 1, 31000)
    sim.fill(placed["id"], "0.25")
    partial = exchange.fetch_order(placed["id"])
    assert (partial["status"], partial["filled"], partial["info"]["state"]) == ("open", 0.25, "partial-filled")
    exchange.cancel_order(placed["id"])
    after = exchange.fetch_order(placed["id"])
    assert (after["status"], after["filled"], after["info"]["state"]) == ("canceled", 0.25, "partial-canceled")

    filled, _ = sim.place(account)
    sim.fill(filled)
    assert exchange.fetch_order(filled)["status"] == "closed"
    with pytest.raises(ccxt.OrderNotFound, match='"order-state":6'):
        exchange.cancel_order(filled)
    foreign, _ = sim.place(sim.new_account())
    for call in (exchange.fetch_order, exchange.cancel_order):
        with pytest.raises(ccxt.OrderNotFound, match="base-record-invalid"):
            call(foreign)
    assert sim.status(foreign).value == "inProgress"


def test_credentials_are_checked_like_htx(served: tuple[HuobiSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    cases = [
        ("Verification failure", client(url, account, secret=other.secret)),
        ("Incorrect Access key", client(url, account, apiKey="aaaaaaaa-bbbbbbbb-cccccccc-ddddd")),
        # Signed for api.huobi.pro but sent here: the host is part of what is signed.
        ("Verification failure", client(url, account, hostname="api.huobi.pro")),
    ]
    for message, exchange in cases:
        with pytest.raises(ccxt.AuthenticationError, match=message):
            exchange.fetch_balance()
    stale = client(url, account)
    stale.nonce = lambda: int(time.time() * 1000) - 301_000
    with pytest.raises(ccxt.AuthenticationError, match="Invalid submission time"):
        stale.fetch_accounts()


def test_a_read_only_key_may_read_but_not_cancel(served: tuple[HuobiSimulator, str]) -> None:
    sim, url = served
    reader = sim.new_account(can_trade=False)
    order_id, _ = sim.place(reader)
    exchange = client(url, reader)
    assert exchange.fetch_order(order_id)["status"] == "open"
    with pytest.raises(ccxt.AuthenticationError, match="no permission"):
        exchange.cancel_order(order_id)
    assert sim.status(order_id).value == "inProgress"


def test_the_query_as_sent_is_what_is_signed(served: tuple[HuobiSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    host = url.removeprefix("http://")
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    good = signed_query(account.api_key, account.secret, "GET", host, "/v1/account/accounts", stamp)
    assert httpx.get(f"{url}/v1/account/accounts?{good}").json()["status"] == "ok"
    # The same signature for another path, or with a parameter added, is refused.
    order_id, _ = sim.place(account)
    moved = httpx.post(f"{url}/v1/order/orders/{order_id}/submitcancel?{good}", json={}).json()
    extra = httpx.get(f"{url}/v1/account/accounts?{good}&symbol=btcusdt").json()
    for answer in (moved, extra):
        assert (answer["status"], answer["err-code"]) == ("error", "api-signature-not-valid")
    assert httpx.get(f"{url}/v1/account/accounts").json()["err-code"] == "login-required"
    assert sim.status(order_id).value == "inProgress"


def test_injected_venue_errors_and_control_surface(served: tuple[HuobiSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    sim.inject(Fault("venue_error", "accounts", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_accounts()
    with httpx.Client(base_url=url) as http:
        created = http.post("/_control/accounts", json={}).json()
        placed = http.post("/_control/orders", json={"apiKey": created["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {}
        partial = http.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["state"], partial["filled-amount"]) == ("partial-filled", f"{0.5:.18f}")
