"""ccxt's coinbaseexchange (independent of ordergate) against the simulator over real HTTP.

ccxt signs, places, fetches and cancels the way it does against api.exchange.coinbase.com; when that works and its
error mapping sees Coinbase's own messages, the simulator speaks Coinbase Exchange's protocol rather than ordergate's
idea of it.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator

import ccxt
import httpx
import pytest

from ordergate.venues.coinbase_exchange.auth import sign
from ordergate.venues.coinbase_exchange.simulator import CoinbaseExchangeSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbaseExchangeSimulator, str]]:
    sim = CoinbaseExchangeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount, **overrides: str) -> ccxt.coinbaseexchange:
    options = {"apiKey": account.api_key, "secret": account.secret, "password": account.passphrase, **overrides}
    exchange = ccxt.coinbaseexchange({**options, "enableRateLimit": False})
    exchange.urls["api"] = {"public": url, "private": url}
    return exchange


def test_ccxt_places_fetches_and_cancels(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    assert "BTC/USD" in exchange.load_markets()
    assert exchange.fetch_balance()["USD"]["free"] == 100000.0

    placed = exchange.create_order("BTC/USD", "limit", "buy", 0.5, 25000)
    assert placed["status"] == "open" and placed["info"]["status"] == "pending"
    fetched = exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["amount"], fetched["price"], fetched["symbol"]) == (
        "open",
        0.5,
        25000.0,
        "BTC/USD",
    )
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/USD")] == [placed["id"]]

    # The answer is the id as a JSON string, which ccxt keeps verbatim.
    assert json.loads(exchange.cancel_order(placed["id"])["info"]) == placed["id"]
    # Cancelled without fills: Coinbase purges the record, and ccxt maps its "NotFound" to OrderNotFound.
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order(placed["id"])
    with pytest.raises(ccxt.OrderNotFound):
        exchange.cancel_order(placed["id"])
    assert sim.status(placed["id"]).value == "cancelled"


def test_ccxt_lists_orders_page_by_page(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    """GET /orders as ccxt calls it (status=all, limit, start_date) and paged with Coinbase's CB-AFTER header."""
    sim, url = served
    exchange = client(url, sim.new_account())
    ids = [exchange.create_order("BTC/USD", "limit", "buy", 0.1, 20000 + n)["id"] for n in range(3)]
    start = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)
    for minute, order_id in enumerate(ids):
        sim.set_created(order_id, start + datetime.timedelta(minutes=minute))

    def answered() -> list[str]:  # ccxt re-sorts oldest first; Coinbase's own order is newest first
        return [o["id"] for o in json.loads(exchange.last_http_response)]

    assert {o["id"] for o in exchange.fetch_orders(limit=2)} == {ids[2], ids[1]}
    assert answered() == [ids[2], ids[1]]
    after = exchange.last_response_headers["CB-AFTER"]
    assert [o["id"] for o in exchange.fetch_orders(limit=2, params={"after": after})] == [ids[0]]
    since = int((start + datetime.timedelta(minutes=1)).timestamp() * 1000)
    assert {o["id"] for o in exchange.fetch_orders(since=since)} == {ids[2], ids[1]}
    assert [o["status"] for o in exchange.fetch_open_orders("BTC/USD")] == ["open"] * 3
    assert answered() == ids[::-1]


def test_a_partly_filled_order_keeps_its_record_after_the_cancel(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    placed = exchange.create_order("BTC/USD", "limit", "sell", 1, 31000)
    sim.fill(placed["id"], "0.25")
    assert exchange.fetch_order(placed["id"])["filled"] == 0.25
    # ccxt sends product_id as a JSON body on DELETE (signed with it); Coinbase reads it from the query only.
    exchange.cancel_order(placed["id"], "BTC/USD")
    after = exchange.fetch_order(placed["id"])
    assert (after["status"], after["filled"], after["info"]["done_reason"]) == ("canceled", 0.25, "canceled")
    with pytest.raises(ccxt.OrderNotFound, match="Order already done"):
        exchange.cancel_order(placed["id"])


def test_filled_orders_and_other_profiles_orders(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    filled, _ = sim.place(account)
    sim.fill(filled)
    assert exchange.fetch_order(filled)["status"] == "closed"
    with pytest.raises(ccxt.OrderNotFound, match="Order already done"):
        exchange.cancel_order(filled)
    foreign, _ = sim.place(sim.new_account())
    for call in (exchange.fetch_order, exchange.cancel_order):
        with pytest.raises(ccxt.OrderNotFound, match="NotFound"):
            call(foreign)
    with pytest.raises(ccxt.InvalidOrder, match="Invalid order id"):
        exchange.fetch_order("not-a-uuid")
    assert sim.status(foreign).value == "inProgress"


def test_credentials_are_checked_like_coinbase(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    other = sim.new_account()
    cases = {
        "invalid signature": client(url, account, secret=other.secret),
        "Invalid Passphrase": client(url, account, password="not-the-passphrase"),
        "Invalid API Key": client(url, account, apiKey="0" * 32),
    }
    for message, exchange in cases.items():
        with pytest.raises(ccxt.AuthenticationError, match=message):
            exchange.fetch_balance()
    stale = client(url, account)
    stale.nonce = lambda: int(time.time()) - 31
    with pytest.raises(ccxt.AuthenticationError, match="request timestamp expired"):
        stale.fetch_balance()


def test_a_view_only_key_may_read_but_not_trade(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    sim, url = served
    viewer = sim.new_account(can_trade=False)
    order_id, _ = sim.place(viewer)
    exchange = client(url, viewer)
    assert exchange.fetch_order(order_id)["status"] == "open"
    # ccxt has no Coinbase-specific mapping for 403 and uses its generic one; the body is Coinbase's.
    with pytest.raises(ccxt.ExchangeNotAvailable, match='403 Forbidden {"message":"Forbidden"}'):
        exchange.cancel_order(order_id)
    assert sim.status(order_id).value == "inProgress"


def test_a_tampered_signature_is_rejected(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    stamp = str(int(time.time()))
    good = sign(stamp, "GET", "/accounts", b"", account.secret)
    headers = {
        "CB-ACCESS-KEY": account.api_key,
        "CB-ACCESS-TIMESTAMP": stamp,
        "CB-ACCESS-PASSPHRASE": account.passphrase,
    }
    assert httpx.get(f"{url}/accounts", headers={**headers, "CB-ACCESS-SIGN": good}).status_code == 200
    tampered = ("A" if good[0] != "A" else "B") + good[1:]
    answer = httpx.get(f"{url}/accounts", headers={**headers, "CB-ACCESS-SIGN": tampered})
    assert (answer.status_code, answer.json()) == (401, {"message": "invalid signature"})
    # The query is part of what is signed: the same signature on another query is refused.
    order_id, _ = sim.place(account)
    signed = sign(stamp, "DELETE", f"/orders/{order_id}?product_id=BTC-USD", b"", account.secret)
    moved = httpx.delete(f"{url}/orders/{order_id}?product_id=ETH-USD", headers={**headers, "CB-ACCESS-SIGN": signed})
    assert (moved.status_code, moved.json()) == (401, {"message": "invalid signature"})
    assert sim.status(order_id).value == "inProgress"


def test_injected_venue_errors_and_control_surface(served: tuple[CoinbaseExchangeSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    sim.inject(Fault("venue_error", "GetAccounts", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_balance()
    with httpx.Client(base_url=url) as http:
        created = http.post("/_control/accounts", json={}).json()
        assert set(created) == {"apiKey", "secret", "passphrase"}
        placed = http.post("/_control/orders", json={"apiKey": created["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {"symbolPair": "BTC-USD"}
        partial = http.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["status"], partial["filled_size"]) == ("open", "0.50000000")
        assert http.get("/_control/orders/00000000-0000-0000-0000-000000000000").status_code == 404
