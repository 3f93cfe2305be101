"""ccxt's `cryptocom` (independent of ordergate) against the simulator over real HTTP.

ccxt signs, places, fetches and cancels the way it does against api.crypto.com/exchange/v1 (id and nonce as strings,
its own params string), and its error map sees Crypto.com's own codes; when that works the simulator speaks
Crypto.com's protocol rather than ordergate's idea of it. The unofficial `cryptocom-exchange` SDK would be a second
oracle, but it pins httpx < 0.29 and websockets < 16, which conflict with this project's environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import ccxt
import httpx
import pytest

from ordergate.venues.crypto_com.auth import now_ms, sign
from ordergate.venues.crypto_com.simulator import CryptoComSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CryptoComSimulator, str]]:
    sim = CryptoComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount, **overrides: str) -> ccxt.cryptocom:
    options = {"apiKey": account.api_key, "secret": account.secret, **overrides}
    # private/get-currency-networks is not simulated (ccxt skips it for sub-accounts too).
    exchange = ccxt.cryptocom(
        {**options, "enableRateLimit": False, "options": {"fetchCurrencies": {"skipFetchCurrencies": True}}}
    )
    exchange.urls["api"] = {"base": url, "v1": url, "v2": url, "derivatives": url}
    return exchange


def test_ccxt_places_fetches_and_cancels(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    assert "BTC/USDT" in exchange.load_markets()

    placed = exchange.create_order("BTC/USDT", "limit", "buy", 0.5, 25000)
    assert placed["id"].isdigit() and len(placed["id"]) == 19
    fetched = exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["amount"], fetched["price"], fetched["symbol"]) == (
        "open",
        0.5,
        25000.0,
        "BTC/USDT",
    )
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/USDT")] == [placed["id"]]

    cancelled = exchange.cancel_order(placed["id"])
    assert cancelled["info"] == {"client_oid": placed["clientOrderId"], "order_id": placed["id"]}
    assert exchange.fetch_order(placed["id"])["status"] == "canceled"
    assert sim.status(placed["id"]).value == "cancelled"
    # A second cancel is refused; ccxt has no mapping for 316 and raises its generic error with Crypto.com's body.
    with pytest.raises(ccxt.ExchangeError, match='"code":316,"message":"NO_ACTIVE_ORDER"'):
        exchange.cancel_order(placed["id"])


def test_partial_fill_then_cancel_keeps_the_fill(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    placed = exchange.create_order("ETH/USDT", "limit", "sell", 2, 2000)
    sim.fill(placed["id"], "0.5")
    assert (exchange.fetch_order(placed["id"])["status"], exchange.fetch_order(placed["id"])["filled"]) == ("open", 0.5)
    exchange.cancel_order(placed["id"])
    after = exchange.fetch_order(placed["id"])
    assert (after["status"], after["filled"], after["cost"]) == ("canceled", 0.5, 1000.0)


def test_filled_foreign_and_unknown_orders(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    filled, _ = sim.place(account)
    sim.fill(filled)
    assert exchange.fetch_order(filled)["status"] == "closed"
    with pytest.raises(ccxt.ExchangeError, match="NO_ACTIVE_ORDER"):
        exchange.cancel_order(filled)
    foreign, _ = sim.place(sim.new_account())
    for call in (exchange.fetch_order, exchange.cancel_order):
        for order_id in (foreign, "1234567890123456789"):
            with pytest.raises(ccxt.OrderNotFound, match="NOT_FOUND"):
                call(order_id)
    assert sim.status(foreign).value == "inProgress"


def test_credentials_and_nonce_are_checked_like_crypto_com(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    for exchange in (client(url, account, secret=other.secret), client(url, account, apiKey="0" * 22)):
        with pytest.raises(ccxt.AuthenticationError, match="40101"):
            exchange.fetch_accounts()
    stale = client(url, account)
    stale.nonce = lambda: now_ms() - 61_000
    with pytest.raises(ccxt.InvalidNonce, match="40102"):
        stale.fetch_accounts()
    assert client(url, account).fetch_accounts()[0]["id"]


def test_a_key_without_trade_permission_may_read_but_not_cancel(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    viewer = sim.new_account(can_trade=False)
    order_id, _ = sim.place(viewer)
    exchange = client(url, viewer)
    assert exchange.fetch_order(order_id)["status"] == "open"
    with pytest.raises(ccxt.AuthenticationError, match="USER_TIER_INVALID"):
        exchange.cancel_order(order_id)
    assert sim.status(order_id).value == "inProgress"


def test_a_tampered_or_replayed_signature_is_rejected(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id, _ = sim.place(account)
    nonce = now_ms()

    def post(params: dict[str, str], sig: str) -> httpx.Response:
        body = {"id": 7, "method": "private/get-order-detail", "api_key": account.api_key, "params": params,
                "nonce": nonce, "sig": sig}  # fmt: skip
        return httpx.post(f"{url}/private/get-order-detail", content=json.dumps(body))

    good = sign(account.secret, "private/get-order-detail", 7, account.api_key, {"order_id": order_id}, nonce)
    assert post({"order_id": order_id}, good).json()["code"] == 0
    assert post({"order_id": order_id}, good.upper()).json()["code"] == 0  # compared case-insensitively
    tampered = ("a" if good[0] != "a" else "b") + good[1:]
    answer = post({"order_id": order_id}, tampered)
    assert (answer.status_code, answer.json()["code"], answer.json()["message"]) == (401, 40101, "UNAUTHORIZED")
    # The params are signed: the same signature over another order id is refused.
    assert post({"order_id": str(int(order_id) - 1)}, good).json()["code"] == 40101


def test_injected_venue_errors_and_control_surface(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    sim.inject(Fault("venue_error", "private/get-accounts", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_accounts()
    with httpx.Client(base_url=url) as http:
        created = http.post("/_control/accounts", json={}).json()
        placed = http.post("/_control/orders", json={"apiKey": created["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {}
        partial = http.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["status"], partial["cumulative_quantity"]) == ("ACTIVE", "0.5")
        assert http.get("/_control/orders/1").status_code == 404


def test_ccxt_lists_open_orders_and_pages_the_history(served: tuple[CryptoComSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    exchange.load_markets()
    ids = [exchange.create_order("BTC/USDT", "limit", "buy", 0.1, 25000 + i)["id"] for i in range(4)]
    for order_id in ids[:3]:
        exchange.cancel_order(order_id)
    assert [o["id"] for o in exchange.fetch_open_orders()] == [ids[3]]
    history = exchange.fetch_orders("BTC/USDT", since=0)  # ccxt sends start_time in ms
    assert {o["id"]: o["status"] for o in history} == {i: "canceled" for i in ids[:3]}
    # Paging as the docs advise: end_time (exclusive) = the oldest create_time_ns of the previous answer.
    first = exchange.fetch_orders("BTC/USDT", since=0, limit=2)
    assert {o["id"] for o in first} == set(ids[1:3])
    oldest = min(int(o["info"]["create_time_ns"]) for o in first)
    rest = exchange.fetch_orders("BTC/USDT", since=0, limit=2, params={"end_time": str(oldest)})
    assert [o["id"] for o in rest] == [ids[0]]
    assert exchange.fetch_orders("ETH/USDT", since=0) == []
