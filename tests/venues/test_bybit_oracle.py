"""Bybit's official Python SDK (pybit) against the simulator over real HTTP.

pybit shares no code with ordergate: when it signs, places, queries and cancels successfully, and its tampered or
stale requests are refused with Bybit's own retCodes, the simulator speaks Bybit's protocol rather than
ordergate's idea of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from pybit import _helpers
from pybit.exceptions import FailedRequestError, InvalidRequestError
from pybit.unified_trading import HTTP

from ordergate.venues.bybit.simulator import BybitSimulator
from ordergate.venues.simkit import Fault
from tests.support.servers import serve_asgi

LIMIT_BUY = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.5"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BybitSimulator, str]]:
    sim = BybitSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def session(url: str, key: str, secret: str, **options: object) -> HTTP:
    # pybit retries 10002/10006 after sleeping; no Bybit code is negative, so {-1} turns retries off.
    http = HTTP(api_key=key, api_secret=secret, retry_codes={-1}, max_retries=1, **options)
    http.endpoint = url  # pybit builds every path as f"{self.endpoint}{path}"
    return http


def bybit_error(call: object, *args: object, **kwargs: object) -> int:
    with pytest.raises(InvalidRequestError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.status_code


def one(answer: dict) -> dict:
    (entry,) = answer["result"]["list"]
    return entry


def test_pybit_places_queries_and_cancels(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)

    placed = http.place_order(**LIMIT_BUY, price="25000", orderLinkId="my-1")
    assert placed["retCode"] == 0
    order_id = placed["result"]["orderId"]
    assert order_id.isdigit() and placed["result"]["orderLinkId"] == "my-1"

    entry = one(http.get_open_orders(category="spot", orderId=order_id))
    assert (entry["orderStatus"], entry["qty"], entry["price"], entry["side"]) == ("New", "0.5", "25000", "Buy")
    assert one(http.get_open_orders(category="spot", orderLinkId="my-1"))["orderId"] == order_id

    cancelled = http.cancel_order(category="spot", symbol="BTCUSDT", orderId=order_id)
    assert cancelled["result"] == {"orderId": order_id, "orderLinkId": "my-1"}
    assert bybit_error(http.cancel_order, category="spot", symbol="BTCUSDT", orderId=order_id) == 170213
    # By orderId, /realtime also returns recently closed orders ("openOnly is ignored when querying by id").
    assert one(http.get_open_orders(category="spot", orderId=order_id))["orderStatus"] == "Cancelled"
    assert one(http.get_order_history(category="spot", orderId=order_id))["cancelType"] == "CancelByUser"

    key_info = http.get_api_key_information()["result"]
    assert (key_info["readOnly"], key_info["permissions"]["Spot"], key_info["apiKey"]) == (
        0,
        ["SpotTrade"],
        account.api_key,
    )
    assert int(http.get_server_time()["result"]["timeSecond"]) > 0


def test_cancel_by_order_link_id_and_market_orders_fill(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)
    http.place_order(**LIMIT_BUY, price="20000", orderLinkId="link-7")
    assert http.cancel_order(category="spot", symbol="BTCUSDT", orderLinkId="link-7")["retCode"] == 0

    market = http.place_order(category="spot", symbol="ETHUSDT", side="Sell", orderType="Market", qty="2")
    filled = one(http.get_open_orders(category="spot", orderId=market["result"]["orderId"]))
    assert (filled["orderStatus"], filled["cumExecQty"], filled["timeInForce"]) == ("Filled", "2", "IOC")
    assert filled["cumFeeDetail"] == {"USDT": "60.000"}  # a sell pays its fee in the quote coin


def test_open_only_and_a_restart_move_closed_orders_to_history(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)
    open_id = sim.place_order(account.api_key)
    closed_id = sim.place_order(account.api_key, qty="2")
    sim.fill(closed_id, "0.5")
    http.cancel_order(category="spot", symbol="BTCUSDT", orderId=closed_id)

    assert [o["orderId"] for o in http.get_open_orders(category="spot")["result"]["list"]] == [open_id]
    closed = one(http.get_open_orders(category="spot", openOnly=1))
    assert (closed["orderStatus"], closed["cumExecQty"]) == ("PartiallyFilledCanceled", "0.5")

    assert sim.restart() >= 1
    assert http.get_open_orders(category="spot", orderId=closed_id)["result"]["list"] == []
    assert one(http.get_order_history(category="spot", orderId=closed_id))["orderStatus"] == "PartiallyFilledCanceled"
    assert one(http.get_open_orders(category="spot", orderId=open_id))["orderStatus"] == "New"


def test_unknown_foreign_and_wrong_symbol_orders_do_not_exist(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    http = session(url, account.api_key, account.secret)
    mine, foreign = sim.place_order(account.api_key), sim.place_order(other.api_key)
    for symbol, order_id in (("BTCUSDT", "1999999999999999999"), ("BTCUSDT", foreign), ("ETHUSDT", mine)):
        assert bybit_error(http.cancel_order, category="spot", symbol=symbol, orderId=order_id) == 170213
    assert http.get_open_orders(category="spot", orderId=foreign)["result"]["list"] == []
    assert http.get_order_history(category="spot", orderId="1999999999999999999")["result"]["list"] == []
    assert sim.describe(mine)["orderStatus"] == sim.describe(foreign)["orderStatus"] == "New"
    assert bybit_error(http.cancel_order, category="linear", symbol="BTCUSDT", orderId=mine) == 10001


def test_key_without_trade_permission(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account(can_trade=False)
    http = session(url, account.api_key, account.secret)
    order_id = sim.place_order(account.api_key)
    assert bybit_error(http.place_order, **LIMIT_BUY, price="1") == 10005
    assert bybit_error(http.cancel_order, category="spot", symbol="BTCUSDT", orderId=order_id) == 10005
    assert http.get_api_key_information()["result"]["readOnly"] == 1
    assert one(http.get_open_orders(category="spot", orderId=order_id))["orderStatus"] == "New"


def test_tampered_signature_wrong_secret_and_unknown_key(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)
    query = "category=spot"
    headers = http._prepare_headers(query, 5000)
    good = httpx.get(f"{url}/v5/order/realtime?{query}", headers=headers).json()
    assert good["retCode"] == 0
    tampered = {
        **headers,
        "X-BAPI-SIGN": ("0" if headers["X-BAPI-SIGN"][0] != "0" else "1") + headers["X-BAPI-SIGN"][1:],
    }
    answer = httpx.get(f"{url}/v5/order/realtime?{query}", headers=tampered).json()
    assert answer["retCode"] == 10004 and answer["retMsg"].startswith("error sign! origin_string[")
    # The same signature over a different query string is just as wrong.
    assert httpx.get(f"{url}/v5/order/realtime?category=spot&limit=1", headers=headers).json()["retCode"] == 10004

    other = sim.new_account()
    assert bybit_error(session(url, account.api_key, other.secret).get_api_key_information) == 10004
    assert bybit_error(session(url, "no-such-key-00000", account.secret).get_api_key_information) == 10003


# Each skew is at least a second past the window's edge, so the time a request takes cannot move it back inside.
@pytest.mark.parametrize("skew_ms", [-6000, -120_000, 2000, 30_000])
def test_timestamps_outside_the_window_are_10002(
    served: tuple[BybitSimulator, str], monkeypatch: pytest.MonkeyPatch, skew_ms: int
) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)
    monkeypatch.setattr(_helpers, "generate_timestamp", lambda: int(time.time() * 1000) + skew_ms)
    with pytest.raises(InvalidRequestError) as caught:
        http.get_api_key_information()
    assert caught.value.status_code == 10002
    assert "req_timestamp[" in caught.value.message and "recv_window[5000]" in caught.value.message
    # A larger receive window admits the same lag: the rule is server - recv_window <= ts < server + 1000.
    if -60_000 < skew_ms < 0:
        assert (
            session(url, account.api_key, account.secret, recv_window=60_000).get_api_key_information()["retCode"] == 0
        )


def test_rate_limit_headers_and_faults(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret, return_response_headers=True)
    _, _, headers = http.get_open_orders(category="spot")
    assert (headers["X-Bapi-Limit"], headers["X-Bapi-Limit-Status"]) == ("50", "49")
    assert int(headers["X-Bapi-Limit-Reset-Timestamp"]) > 0

    sim.inject(Fault("venue_error", "realtime", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(InvalidRequestError) as caught:
        http.get_open_orders(category="spot")
    assert caught.value.status_code == 10006
    assert int(caught.value.resp_headers["X-Bapi-Limit-Reset-Timestamp"]) > int(time.time() * 1000)

    sim.inject(Fault("venue_error", "realtime", api_key=account.api_key, error="ip_limit"))
    with pytest.raises(FailedRequestError) as blocked:
        http.get_open_orders(category="spot")
    assert blocked.value.status_code == 403


def test_control_surface_over_plain_http(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    with httpx.Client(base_url=url) as client:
        account = client.post("/_control/accounts", json={}).json()
        assert len(account["apiKey"]) == 18 and len(account["secret"]) == 36
        placed = client.post("/_control/orders", json={"apiKey": account["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {"symbolPair": "BTCUSDT"} and placed["order"]["orderStatus"] == "New"
        partial = client.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()
        assert (partial["order"]["orderStatus"], partial["order"]["cumExecQty"]) == ("PartiallyFilled", "0.5")
        fault = {"kind": "venue_error", "op": "query-api", "apiKey": account["apiKey"], "error": "110001"}
        assert client.post("/_control/faults", json=fault).json() == {"queued": 1}
        http = session(url, account["apiKey"], account["secret"])
        assert bybit_error(http.get_api_key_information) == 110001
        assert http.get_api_key_information()["retCode"] == 0
        stats = client.get("/_control/stats").json()
        assert {(r["apiKey"], r["op"]): r["count"] for r in stats["byKeyOp"]}[(account["apiKey"], "query-api")] == 2
        assert client.post("/_control/restart").json()["forgotten"] >= 0
        assert client.get("/_control/orders/42").status_code == 404


def test_pybit_lists_open_orders_and_history_page_by_page(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)
    placed = [http.place_order(**LIMIT_BUY, price=str(20000 + i))["result"]["orderId"] for i in range(3)]
    http.cancel_order(category="spot", symbol="BTCUSDT", orderId=placed[0])

    first = http.get_open_orders(category="spot", openOnly=0, limit=1)["result"]
    assert len(first["list"]) == 1 and first["nextPageCursor"]
    second = http.get_open_orders(category="spot", openOnly=0, limit=1, cursor=first["nextPageCursor"])["result"]
    assert {first["list"][0]["orderId"], second["list"][0]["orderId"]} == {placed[1], placed[2]}
    assert second["nextPageCursor"] == ""

    cancelled = http.get_order_history(category="spot", orderStatus="Cancelled", limit=50)["result"]
    assert [e["orderId"] for e in cancelled["list"]] == [placed[0]]
    now = int(time.time() * 1000)
    window = http.get_order_history(category="spot", startTime=now - 60_000, endTime=now)["result"]
    assert {e["orderId"] for e in window["list"]} == set(placed)
    assert bybit_error(http.get_order_history, category="spot", startTime=now - 60_000) == 10001
    assert bybit_error(http.get_order_history, category="spot", limit=51) == 10001


def test_pybit_cancel_all_orders_by_symbol_then_all(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)
    btc = [http.place_order(**LIMIT_BUY, price="25000")["result"]["orderId"] for _ in range(2)]
    eth = http.place_order(**{**LIMIT_BUY, "symbol": "ETHUSDT"}, price="2000")["result"]["orderId"]

    answer = http.cancel_all_orders(category="spot", symbol="BTCUSDT")
    assert answer["retCode"] == 0 and answer["result"]["success"] == "1"
    assert sorted(e["orderId"] for e in answer["result"]["list"]) == sorted(btc)
    assert sim.status(eth).value == "inProgress"
    assert [e["orderId"] for e in http.cancel_all_orders(category="spot")["result"]["list"]] == [eth]
    assert http.cancel_all_orders(category="spot")["result"]["list"] == []


def test_pybit_cancels_a_batch_with_a_code_per_order(served: tuple[BybitSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    http = session(url, account.api_key, account.secret)
    ids = [http.place_order(**LIMIT_BUY, price=str(20000 + i))["result"]["orderId"] for i in range(2)]
    http.cancel_order(category="spot", symbol="BTCUSDT", orderId=ids[1])
    answer = http.cancel_batch_order(
        category="spot", request=[{"symbol": "BTCUSDT", "orderId": i} for i in (*ids, "123")]
    )
    assert answer["retCode"] == 0
    assert [e["orderId"] for e in answer["result"]["list"]] == [ids[0], "", ""]
    assert [e["code"] for e in answer["retExtInfo"]["list"]] == [0, 170213, 170213]
    assert one(http.get_open_orders(category="spot", orderId=ids[0]))["orderStatus"] == "Cancelled"
    too_many = [{"symbol": "BTCUSDT", "orderId": str(n)} for n in range(11)]
    assert bybit_error(http.cancel_batch_order, category="spot", request=too_many) == 10001
    assert sim.count(account.api_key, "cancel-batch") == 2
