"""ccxt's bitflyer and pybitflyer (both independent of ordergate, and of each other) against the simulator over real
HTTP.

ccxt signs Unix seconds and compact JSON and names orders by child_order_acceptance_id; pybitflyer signs
str(time.time()) and json.dumps with spaces, and sends its GET parameters through requests. When both place, read and
cancel orders and see bitFlyer's own error bodies, the simulator speaks bitFlyer's protocol rather than ordergate's
idea of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import ccxt
import httpx
import pybitflyer
import pytest

from ordergate.venues.bitflyer.auth import sign
from ordergate.venues.bitflyer.simulator import BitflyerSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitflyerSimulator, str]]:
    sim = BitflyerSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, account: SimAccount, **overrides: str) -> ccxt.bitflyer:
    exchange = ccxt.bitflyer({"apiKey": account.api_key, "secret": account.secret, **overrides})
    exchange.enableRateLimit = False
    exchange.urls["api"] = {"rest": url}
    return exchange


def sdk(url: str, account: SimAccount) -> pybitflyer.API:
    api = pybitflyer.API(api_key=account.api_key, api_secret=account.secret, timeout=5)
    api.api_url = url
    return api


def test_ccxt_places_fetches_and_cancels(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    assert "BTC/JPY" in exchange.load_markets()
    assert exchange.fetch_balance()["JPY"]["free"] == 508000

    placed = exchange.create_order("BTC/JPY", "limit", "buy", 0.01, 3000000)
    assert placed["id"].startswith("JRF")
    fetched = exchange.fetch_order(placed["id"], "BTC/JPY")
    assert (fetched["status"], fetched["amount"], fetched["price"], fetched["filled"]) == ("open", 0.01, 3000000, 0)
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/JPY")] == [placed["id"]]

    with pytest.raises(ccxt.ArgumentsRequired):
        exchange.cancel_order(placed["id"])  # bitFlyer's cancel needs product_code; ccxt knows it
    exchange.cancel_order(placed["id"], "BTC/JPY")
    after = exchange.fetch_order(placed["id"], "BTC/JPY")
    assert (after["status"], after["info"]["child_order_state"]) == ("canceled", "CANCELED")
    assert sim.status(placed["id"]).value == "cancelled"
    # A second cancel, like one for an id never issued, is taken with 200 and changes nothing.
    exchange.cancel_order(placed["id"], "BTC/JPY")
    exchange.cancel_order("JRF20150707-060559-000000", "BTC/JPY")
    assert sim.status(placed["id"]).value == "cancelled"


def test_ccxt_sees_fills_and_final_orders(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    partial = exchange.create_order("BTC/JPY", "limit", "sell", 2, 3100000)
    sim.fill(partial["id"], "0.5")
    seen = exchange.fetch_order(partial["id"], "BTC/JPY")
    assert (seen["status"], seen["filled"], seen["remaining"]) == ("open", 0.5, 1.5)
    exchange.cancel_order(partial["id"], "BTC/JPY")
    assert exchange.fetch_order(partial["id"], "BTC/JPY")["info"]["cancel_size"] == 1.5

    filled = exchange.create_order("BTC/JPY", "limit", "buy", 1, 2900000)
    sim.fill(filled["id"])
    exchange.cancel_order(filled["id"], "BTC/JPY")  # 200, and nothing happens: the order was complete
    assert exchange.fetch_order(filled["id"], "BTC/JPY")["status"] == "closed"
    assert [o["id"] for o in exchange.fetch_closed_orders("BTC/JPY")] == [filled["id"]]

    foreign, _ = sim.place(sim.new_account())
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order(foreign, "BTC/JPY")
    exchange.cancel_order(foreign, "BTC/JPY")
    assert sim.status(foreign).value == "inProgress"


def test_pybitflyer_places_reads_and_cancels_by_either_id(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    api = sdk(url, sim.new_account())
    for field in ("child_order_acceptance_id", "child_order_id"):
        placed = api.sendchildorder(product_code="BTC_JPY", child_order_type="LIMIT", side="BUY", price=3000000,
                                    size=0.01)  # fmt: skip
        acceptance = placed["child_order_acceptance_id"]
        [row] = api.getchildorders(product_code="BTC_JPY", child_order_acceptance_id=acceptance)
        assert (row["child_order_state"], row["size"], row["price"]) == ("ACTIVE", 0.01, 3000000)
        assert row["child_order_id"].startswith("JOR") and row["child_order_id"][3:] == acceptance[3:]
        assert api.cancelchildorder(product_code="BTC_JPY", **{field: row[field]}) == ""  # 200, empty body
        [after] = api.getchildorders(product_code="btc_jpy", child_order_id=row["child_order_id"])
        assert after["child_order_state"] == "CANCELED"
    assert api.getchildorders(product_code="BTC_JPY", child_order_id="JOR20150707-060559-000000") == []
    assert api.getchildorders(product_code="NOPE_JPY") == {
        "status": -100,
        "error_message": "Invalid product",
        "data": None,
    }


def test_credentials_are_checked_like_bitflyer(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    with pytest.raises(ccxt.ExchangeError, match='"status":-500,"error_message":"Invalid signature"'):
        client(url, account, secret=other.secret).fetch_balance()
    with pytest.raises(ccxt.ExchangeError, match="Invalid API key"):
        client(url, account, apiKey="0" * 22).fetch_balance()
    wrong = sdk(url, SimAccount(account.api_key, other.secret))
    assert wrong.getbalance() == {"status": -500, "error_message": "Invalid signature", "data": None}
    bare = httpx.get(f"{url}/v1/me/getbalance")
    assert (bare.status_code, bare.json()["error_message"]) == (401, "ACCESS-KEY header is required")


def test_the_signed_text_is_what_is_checked(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id, _ = sim.place(account)
    stamp = str(time.time())  # any text: bitFlyer signs the timestamp as given
    query = f"/v1/me/getchildorders?product_code=BTC_JPY&child_order_acceptance_id={order_id}"
    headers = {"ACCESS-KEY": account.api_key, "ACCESS-TIMESTAMP": stamp}
    good = sign(account.secret, stamp, "GET", query, b"")
    assert httpx.get(url + query, headers={**headers, "ACCESS-SIGN": good}).json()[0]["child_order_state"] == "ACTIVE"
    moved = query.replace("BTC_JPY", "ETH_JPY")
    answer = httpx.get(url + moved, headers={**headers, "ACCESS-SIGN": good})
    assert (answer.status_code, answer.json()["status"]) == (401, -500)
    # The body is signed too: the same signature over another order's cancel is refused, and nothing is cancelled.
    body = f'{{"product_code":"BTC_JPY","child_order_acceptance_id":"{order_id}"}}'.encode()
    signed = sign(account.secret, stamp, "POST", "/v1/me/cancelchildorder", b"{}")
    refused = httpx.post(f"{url}/v1/me/cancelchildorder", content=body, headers={**headers, "ACCESS-SIGN": signed})
    assert refused.status_code == 401 and sim.status(order_id).value == "inProgress"


def test_a_key_without_trade_permission_may_read_but_not_cancel(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    viewer = sim.new_account(can_trade=False)
    order_id, _ = sim.place(viewer)
    api = sdk(url, viewer)
    assert "/v1/me/cancelchildorder" not in api.request("/v1/me/getpermissions")
    assert api.getchildorders(product_code="BTC_JPY", child_order_acceptance_id=order_id)[0]["child_order_state"] == (
        "ACTIVE"
    )
    answer = api.cancelchildorder(product_code="BTC_JPY", child_order_acceptance_id=order_id)
    assert answer == {"status": -500, "error_message": "Permission denied", "data": None}
    assert sim.status(order_id).value == "inProgress"


def test_injected_venue_errors_and_control_surface(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    sim.inject(Fault("venue_error", "balance", api_key=account.api_key, error="unavailable"))
    # ccxt's exact map is keyed "-2" but looked up with the integer status, so it lands on its generic ExchangeError.
    with pytest.raises(ccxt.ExchangeError, match='"status":-2,"error_message":"Under maintenance"'):
        exchange.fetch_balance()
    sim.inject(Fault("venue_error", "balance", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(ccxt.ExchangeError, match="Over API limit"):
        exchange.fetch_balance()
    with httpx.Client(base_url=url) as http:
        created = http.post("/_control/accounts", json={}).json()
        placed = http.post("/_control/orders", json={"apiKey": created["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {"symbolPair": "BTC_JPY"}
        partial = http.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["child_order_state"], partial["executed_size"], partial["outstanding_size"]) == (
            "ACTIVE",
            0.5,
            1.5,
        )
        assert http.get("/_control/orders/JRF20150707-060559-000000").status_code == 404


def test_ccxt_and_pybitflyer_list_and_page(served: tuple[BitflyerSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    ids = [exchange.create_order("BTC/JPY", "limit", "buy", 0.01, 3000000 + i)["id"] for i in range(3)]
    exchange.cancel_order(ids[0], "BTC/JPY")
    # ccxt re-sorts by timestamp (to the second here), so only the sets are compared.
    assert {o["id"] for o in exchange.fetch_orders("BTC/JPY")} == set(ids)
    assert {o["id"] for o in exchange.fetch_open_orders("BTC/JPY")} == set(ids[1:])
    assert exchange.fetch_orders("BTC/JPY", params={"child_order_state": "CANCELED"})[0]["status"] == "canceled"

    api = sdk(url, account)
    first = api.getchildorders(product_code="BTC_JPY", count=2)
    assert [o["child_order_acceptance_id"] for o in first] == ids[:0:-1]
    rest = api.getchildorders(product_code="BTC_JPY", count=2, before=first[-1]["id"])
    assert [o["child_order_acceptance_id"] for o in rest] == ids[:1]
    newer = api.getchildorders(product_code="BTC_JPY", after=rest[0]["id"])
    assert [o["id"] for o in newer] == [o["id"] for o in first]
