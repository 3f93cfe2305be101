"""ccxt's gemini (independent of ordergate) against the simulator over real HTTP.

ccxt signs, places, fetches and cancels the way it does against api.gemini.com; when that works and its error
mapping sees Gemini's own reasons, the simulator speaks Gemini's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import ccxt
import httpx
import pytest

from ordergate.venues.gemini.auth import encode_payload, sign
from ordergate.venues.gemini.constants import NONCE_TIME
from ordergate.venues.gemini.simulator import GeminiSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GeminiSimulator, str]]:
    sim = GeminiSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount, **overrides: str) -> ccxt.gemini:
    exchange = ccxt.gemini({"apiKey": account.api_key, "secret": account.secret, **overrides, "enableRateLimit": False})
    # Every base URL at the simulator, including the web pages ccxt scrapes for currencies (a 404 there is muted).
    exchange.urls["api"] = {"public": url, "private": url, "web": url, "webExchange": url}
    exchange.options["fetchMarketsFromAPI"]["fetchDetailsForAllSymbols"] = True  # precision from /v1/symbols/details
    return exchange


def test_ccxt_places_fetches_and_cancels(served: tuple[GeminiSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    assert {"BTC/USD", "ETH/USD", "ETH/BTC"} <= set(exchange.load_markets())
    assert exchange.fetch_balance()["USD"]["free"] == 100000.0

    placed = exchange.create_order("BTC/USD", "limit", "buy", 0.5, 25000)
    assert placed["status"] == "open"
    fetched = exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["amount"], fetched["price"], fetched["symbol"]) == (
        "open",
        0.5,
        25000.0,
        "BTC/USD",
    )
    assert [o["id"] for o in exchange.fetch_open_orders()] == [placed["id"]]

    cancelled = exchange.cancel_order(placed["id"])
    assert (cancelled["status"], cancelled["info"]["is_cancelled"], cancelled["info"]["reason"]) == (
        "canceled",
        True,
        "Requested",
    )
    # Documented: cancelling an already-cancelled order succeeds without effect and answers the order.
    assert exchange.cancel_order(placed["id"])["status"] == "canceled"
    assert exchange.fetch_open_orders() == []
    assert sim.status(placed["id"]).value == "cancelled"
    # ccxt has no method for /v1/orders/history; its generic private request signs it the way it signs the others,
    # with the parameters of Gemini's documented walk.
    history = exchange.request("v1/orders/history", ["private"], "POST", {"timestamp": 0, "limit_orders": 500})
    assert [(o["order_id"], o["is_cancelled"], o["is_live"]) for o in history] == [(placed["id"], True, False)]
    parsed = exchange.parse_orders(history)
    assert [(o["id"], o["status"], o["symbol"]) for o in parsed] == [(placed["id"], "canceled", "BTC/USD")]


def test_partial_fill_filled_and_foreign_orders(served: tuple[GeminiSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    partly = exchange.create_order("ETH/USD", "limit", "sell", 2, 2100)
    sim.fill(partly["id"], "0.5")
    assert exchange.fetch_order(partly["id"])["filled"] == 0.5
    after = exchange.cancel_order(partly["id"])
    assert (after["status"], after["filled"], after["remaining"]) == ("canceled", 0.5, 1.5)

    filled, _ = sim.place(account)
    sim.fill(filled)
    assert exchange.fetch_order(filled)["status"] == "closed"
    with pytest.raises(ccxt.OrderNotFound):
        exchange.cancel_order(filled)
    foreign, _ = sim.place(sim.new_account())
    for call in (exchange.fetch_order, exchange.cancel_order):
        with pytest.raises(ccxt.OrderNotFound, match=f"Order {foreign} not found"):
            call(foreign)
    assert sim.status(foreign).value == "inProgress"


def test_credentials_and_nonces_are_checked_like_gemini(served: tuple[GeminiSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    for exchange, reason in (
        (client(url, account, secret="not-the-secret"), "signature did not match"),
        (client(url, account, apiKey="account-" + "0" * 20), "Invalid API key"),
    ):
        with pytest.raises(ccxt.AuthenticationError, match=reason):
            exchange.fetch_balance()
    ahead = client(url, account)
    ahead.nonce = lambda: 10**16  # a nonce far ahead: accepted, and now the key's high-water mark
    ahead.fetch_balance()
    behind = client(url, account)
    with pytest.raises(ccxt.InvalidNonce, match="Out-of-sequence nonce"):
        behind.fetch_balance()
    # A time-based key takes any order of nonces within ±30 s, and nothing outside.
    timed = sim.new_account(nonce_kind=NONCE_TIME)
    assert client(url, timed).fetch_balance()["BTC"]["free"] == 10.0
    stale = client(url, timed)
    stale.nonce = lambda: stale.milliseconds() - 31_000
    with pytest.raises(ccxt.InvalidNonce, match="within 30 seconds"):
        stale.fetch_balance()


def test_an_auditor_key_may_read_but_not_trade(served: tuple[GeminiSimulator, str]) -> None:
    sim, url = served
    auditor = sim.new_account(can_trade=False)
    order_id, _ = sim.place(auditor)
    exchange = client(url, auditor)
    assert exchange.fetch_order(order_id)["status"] == "open"
    with pytest.raises(ccxt.AuthenticationError, match=r"roles \[Trader\]"):  # ccxt maps MissingRole so
        exchange.cancel_order(order_id)
    assert sim.status(order_id).value == "inProgress"


def test_the_payload_names_its_endpoint_and_is_what_is_signed(served: tuple[GeminiSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id, _ = sim.place(account)
    payload = encode_payload({"request": "/v1/order/status", "nonce": "1", "order_id": int(order_id)})
    headers = {"X-GEMINI-APIKEY": account.api_key, "X-GEMINI-PAYLOAD": payload}
    moved = httpx.post(
        f"{url}/v1/order/cancel", headers={**headers, "X-GEMINI-SIGNATURE": sign(payload, account.secret)}
    )
    assert (moved.status_code, moved.json()["reason"]) == (400, "EndpointMismatch")
    other = encode_payload({"request": "/v1/order/cancel", "nonce": "2", "order_id": int(order_id)})
    swapped = httpx.post(
        f"{url}/v1/order/cancel",
        headers={**headers, "X-GEMINI-PAYLOAD": other, "X-GEMINI-SIGNATURE": sign(payload, account.secret)},
    )
    assert swapped.json() == {
        "result": "error",
        "reason": "InvalidSignature",
        "message": "The signature did not match the expected signature",
    }
    assert sim.status(order_id).value == "inProgress"


def test_injected_venue_errors_and_control_surface(served: tuple[GeminiSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    sim.inject(Fault("venue_error", "Balances", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        exchange.fetch_balance()
    sim.inject(Fault("venue_error", "Balances", api_key=account.api_key, error="unavailable"))
    with pytest.raises(ccxt.OnMaintenance):
        exchange.fetch_balance()
    with httpx.Client(base_url=url) as http:
        created = http.post("/_control/accounts", json={}).json()
        assert created["apiKey"].startswith("account-")
        placed = http.post("/_control/orders", json={"apiKey": created["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {}
        partial = http.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["is_live"], partial["executed_amount"]) == (True, "0.5")
        assert http.get("/_control/orders/1").status_code == 404
