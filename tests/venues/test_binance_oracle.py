"""Independent Binance clients (python-binance, the official binance-sdk-spot, plain HTTP) against the simulator.

Neither SDK shares code with ordergate, and they send parameters differently (python-binance puts a DELETE's
parameters in a form body, binance-sdk-spot everything in the query string), so when both sign, place, query and
cancel successfully the simulator speaks Binance's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator

import httpx
import pytest
from binance.client import Client
from binance.exceptions import BinanceAPIException
from binance_common.configuration import ConfigurationRestAPI
from binance_common.errors import BadRequestError, UnauthorizedError
from binance_sdk_spot.rest_api.models import NewOrderSideEnum, NewOrderTimeInForceEnum, NewOrderTypeEnum
from binance_sdk_spot.spot import Spot

from ordergate.venues.binance.simulator import BinanceSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BinanceSimulator, str]]:
    sim = BinanceSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def python_binance(url: str, account: SimAccount, tld: str = "com") -> Client:
    client = Client(account.api_key, account.secret, tld=tld, ping=False)
    client.API_URL = url + "/api"  # what tld would select (api.binance.com / api.binance.us), pointed here
    return client


def official(url: str, account: SimAccount) -> Spot:
    config = ConfigurationRestAPI(api_key=account.api_key, api_secret=account.secret, base_path=url, retries=0)
    return Spot(config_rest_api=config)


def binance_error(call, *args, **kwargs) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(BinanceAPIException) as caught:
        call(*args, **kwargs)
    return caught.value.status_code, caught.value.code, caught.value.message


def signed_url(url: str, path: str, account: SimAccount, params: str, *, ts_shift_ms: int = 0) -> str:
    query = f"{params}&timestamp={int(time.time() * 1000) + ts_shift_ms}"
    signature = hmac.new(account.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{url}{path}?{query}&signature={signature}"


@pytest.mark.parametrize("tld", ["com", "us"])
def test_python_binance_places_queries_and_cancels(served: tuple[BinanceSimulator, str], tld: str) -> None:
    sim, url = served
    client = python_binance(url, sim.new_account(), tld)
    assert client.ping() == {}
    assert abs(client.get_server_time()["serverTime"] - time.time() * 1000) < 60_000

    placed = client.create_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.5", price="25000"
    )
    order_id = placed["orderId"]
    assert (placed["status"], placed["origQty"], placed["price"]) == ("NEW", "0.50000000", "25000.00000000")
    assert client.get_order(symbol="BTCUSDT", orderId=order_id)["status"] == "NEW"
    assert [o["orderId"] for o in client.get_open_orders(symbol="BTCUSDT")] == [order_id]
    assert client.response.headers["X-MBX-USED-WEIGHT-1M"].isdigit()

    cancelled = client.cancel_order(symbol="BTCUSDT", orderId=order_id)
    assert (cancelled["status"], cancelled["origClientOrderId"]) == ("CANCELED", placed["clientOrderId"])
    assert binance_error(client.cancel_order, symbol="BTCUSDT", orderId=order_id) == (400, -2011, "Unknown order sent.")
    assert client.get_order(symbol="BTCUSDT", orderId=order_id)["status"] == "CANCELED"
    assert client.get_open_orders(symbol="BTCUSDT") == []
    assert {b["asset"] for b in client.get_account(omitZeroBalances="true")["balances"]} == {"BTC", "USDT"}


def test_official_sdk_places_queries_and_cancels(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    api = official(url, sim.new_account()).rest_api
    placed = api.new_order(
        symbol="ETHUSDT",
        side=NewOrderSideEnum.SELL,
        type=NewOrderTypeEnum.LIMIT,
        time_in_force=NewOrderTimeInForceEnum.GTC,
        quantity=2.0,
        price=3000.0,
    ).data()
    assert api.get_order(symbol="ETHUSDT", order_id=placed.order_id).data().status == "NEW"
    assert api.delete_order(symbol="ETHUSDT", order_id=placed.order_id).data().status == "CANCELED"
    with pytest.raises(BadRequestError) as caught:
        api.delete_order(symbol="ETHUSDT", order_id=placed.order_id)
    assert (caught.value.status_code, caught.value.error_message) == (-2011, "Unknown order sent.")
    assert api.get_account().data().can_trade is True
    assert sim.seen[-1].params.keys() == {"timestamp"}  # everything in the query string, signed there


def test_partial_fill_then_cancel_keeps_the_executed_quantity(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    client = python_binance(url, account)
    order_id = sim.place_order(account.api_key, quantity="2", price="100")
    sim.fill(str(order_id), "0.5")
    assert client.get_order(symbol="BTCUSDT", orderId=order_id)["status"] == "PARTIALLY_FILLED"
    cancelled = client.cancel_order(symbol="BTCUSDT", orderId=order_id)
    assert (cancelled["status"], cancelled["executedQty"], cancelled["cummulativeQuoteQty"]) == (
        "CANCELED",
        "0.50000000",
        "50.00000000",
    )


@pytest.mark.parametrize("final", ["FILLED", "EXPIRED", "EXPIRED_IN_MATCH"])
def test_final_orders_answer_unknown_order_to_a_cancel(served: tuple[BinanceSimulator, str], final: str) -> None:
    sim, url = served
    account = sim.new_account()
    order_id = sim.place_order(account.api_key)
    sim.fill(str(order_id)) if final == "FILLED" else sim.expire(str(order_id), final)
    client = python_binance(url, account)
    assert binance_error(client.cancel_order, symbol="BTCUSDT", orderId=order_id)[1] == -2011
    assert client.get_order(symbol="BTCUSDT", orderId=order_id)["status"] == final


def test_unknown_foreign_and_wrong_symbol_orders(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    client = python_binance(url, account)
    foreign = sim.place_order(other.api_key)
    mine = sim.place_order(account.api_key)
    for symbol, order_id in (("BTCUSDT", foreign), ("BTCUSDT", 99), ("ETHUSDT", mine)):
        assert binance_error(client.get_order, symbol=symbol, orderId=order_id) == (400, -2013, "Order does not exist.")
        assert binance_error(client.cancel_order, symbol=symbol, orderId=order_id)[1] == -2011
    assert binance_error(client.get_order, symbol="NOPE", orderId=mine)[1:] == (-1121, "Invalid symbol.")
    assert binance_error(client.get_order, symbol="BTCUSDT", orderId="12a")[1] == -1100
    assert sim.status(str(foreign)).value == "inProgress"


def test_non_ascii_symbol_round_trip(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    client = python_binance(url, sim.new_account())
    placed = client.create_order(
        symbol="币安人生USDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="10", price="0.2"
    )
    assert client.cancel_order(symbol="币安人生USDT", orderId=placed["orderId"])["status"] == "CANCELED"


def test_key_without_trade_permission_can_read_but_not_trade(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account(can_trade=False)
    client = python_binance(url, account)
    order_id = sim.place_order(account.api_key)
    expected = (401, -2015, "Invalid API-key, IP, or permissions for action.")
    assert binance_error(client.cancel_order, symbol="BTCUSDT", orderId=order_id) == expected
    assert binance_error(client.create_order, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="1") == expected
    assert client.get_order(symbol="BTCUSDT", orderId=order_id)["status"] == "NEW"
    assert client.get_account()["canTrade"] is False


def test_unknown_and_malformed_keys(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    unknown = SimAccount("Z" * 64, account.secret)
    assert binance_error(python_binance(url, unknown).get_account)[:2] == (401, -2015)
    with pytest.raises(UnauthorizedError) as caught:
        official(url, SimAccount("not a key!", account.secret)).rest_api.get_account()
    assert caught.value.status_code == -2014


def test_tampered_signature_and_wrong_secret_are_rejected(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    good = signed_url(url, "/api/v3/account", account, "recvWindow=5000")
    assert httpx.get(good, headers={"X-MBX-APIKEY": account.api_key}).status_code == 200
    upper = good[: good.index("signature=") + 10] + good[good.index("signature=") + 10 :].upper()
    assert httpx.get(upper, headers={"X-MBX-APIKEY": account.api_key}).status_code == 200  # not case sensitive
    tampered = good[:-1] + ("0" if good[-1] != "0" else "1")
    answer = httpx.get(tampered, headers={"X-MBX-APIKEY": account.api_key})
    assert (answer.status_code, answer.json()) == (
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
    )
    wrong = python_binance(url, SimAccount(account.api_key, sim.new_account().secret))
    assert binance_error(wrong.get_account)[:2] == (400, -1022)


@pytest.mark.parametrize(
    ("shift_ms", "message"),
    [
        (-10_000, "Timestamp for this request is outside of the recvWindow."),
        (2_000, "Timestamp for this request was 1000ms ahead of the server's time."),
    ],
)
def test_timestamps_outside_the_window_are_rejected(
    served: tuple[BinanceSimulator, str], shift_ms: int, message: str
) -> None:
    sim, url = served
    client = python_binance(url, sim.new_account())
    client.timestamp_offset = shift_ms
    assert binance_error(client.get_account) == (400, -1021, message)
    client.REQUEST_RECVWINDOW = 20_000  # a wider window admits the late one, never the early one
    if shift_ms < 0:
        assert client.get_account()["accountType"] == "SPOT"
    else:
        assert binance_error(client.get_account)[1] == -1021


def test_parameters_may_be_split_between_query_and_body(served: tuple[BinanceSimulator, str]) -> None:
    # Binance's example 3: totalParams is the query string followed directly by the body.
    sim, url = served
    account = sim.new_account()
    order_id = sim.place_order(account.api_key)
    query, body = "symbol=BTCUSDT", f"orderId={order_id}&timestamp={int(time.time() * 1000)}"
    signature = hmac.new(account.secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    answer = httpx.request(
        "DELETE",
        f"{url}/api/v3/order?{query}",
        content=f"{body}&signature={signature}",
        headers={"X-MBX-APIKEY": account.api_key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (answer.status_code, answer.json()["status"]) == (200, "CANCELED")


def test_parameters_an_endpoint_does_not_read_are_refused(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    answer = httpx.get(signed_url(url, "/api/v3/account", account, "foo=1"), headers={"X-MBX-APIKEY": account.api_key})
    assert answer.json() == {
        "code": -1104,
        "msg": "Not all sent parameters were read; read '1' parameter(s) but was sent '2'.",
    }


@pytest.mark.parametrize(
    ("error", "status", "code", "retry_after"),
    [
        ("rate_limit", 429, -1003, "30"),
        ("ban", 418, -1003, "120"),
        ("restricted", 451, 0, None),
        ("-1007", 503, -1007, None),
    ],
)
def test_venue_error_faults_render_binance_answers(
    served: tuple[BinanceSimulator, str], error: str, status: int, code: int, retry_after: str | None
) -> None:
    sim, url = served
    account = sim.new_account()
    order_id = sim.place_order(account.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error=error))
    with pytest.raises(BinanceAPIException) as caught:
        python_binance(url, account).cancel_order(symbol="BTCUSDT", orderId=order_id)
    assert (caught.value.status_code, caught.value.code) == (status, code)
    assert caught.value.response.headers.get("Retry-After") == retry_after
    if error == "ban":
        assert "IP banned until" in caught.value.message
    assert sim.status(str(order_id)).value == "inProgress"


def test_control_surface_over_plain_http(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    with httpx.Client(base_url=url) as http:
        account = http.post("/_control/accounts", json={"canTrade": True}).json()
        assert len(account["apiKey"]) == len(account["secret"]) == 64
        placed = http.post("/_control/orders", json={"apiKey": account["apiKey"], "volume": "2", "price": "10"}).json()
        order_id = placed["orderId"]
        assert placed["cancelFields"] == {"symbolPair": "BTCUSDT"}
        assert placed["order"]["status"] == "NEW"
        partial = http.post(f"/_control/orders/{order_id}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["status"], partial["executedQty"]) == ("PARTIALLY_FILLED", "0.50000000")
        assert http.post(f"/_control/orders/{order_id}/expire").json()["order"]["status"] == "EXPIRED"
        assert http.get("/_control/orders/1").status_code == 404
        assert http.post("/_control/orders", json={"apiKey": "nobody"}).status_code == 400
        stats = http.get("/_control/stats").json()
        assert stats["total"] == sim.total_requests


def test_python_binance_lists_open_and_all_orders(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    client = python_binance(url, account)
    first = client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="9")
    second = client.create_order(
        symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC", quantity="1", price="9"
    )
    third = client.create_order(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="8")
    client.cancel_order(symbol="BTCUSDT", orderId=first["orderId"])

    assert {o["orderId"] for o in client.get_open_orders()} == {second["orderId"], third["orderId"]}
    assert client.response.headers["X-MBX-USED-WEIGHT-1M"].isdigit()
    every = client.get_all_orders(symbol="BTCUSDT")
    assert [(o["orderId"], o["status"]) for o in every] == [(first["orderId"], "CANCELED"), (third["orderId"], "NEW")]
    assert [o["orderId"] for o in client.get_all_orders(symbol="BTCUSDT", limit=1)] == [third["orderId"]]
    assert [o["orderId"] for o in client.get_all_orders(symbol="BTCUSDT", orderId=third["orderId"])] == [
        third["orderId"]
    ]
    assert binance_error(client.get_all_orders, symbol="BTCUSDT", startTime=0, endTime=86_400_001)[1:] == (
        -1127,
        "More than 24 hours between startTime and endTime.",
    )


def test_official_sdk_lists_all_orders(served: tuple[BinanceSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    placed = sim.place_order(account.api_key, symbol="ETHUSDT")
    api = official(url, account).rest_api
    assert [o.order_id for o in api.all_orders(symbol="ETHUSDT").data()] == [placed]
    assert [o.order_id for o in api.get_open_orders().data()] == [placed]


def test_python_binance_and_official_sdk_cancel_all_open_orders(served: tuple[BinanceSimulator, str]) -> None:
    """DELETE /api/v3/openOrders (the kill switch's request): python-binance sends it with a form body, the
    official SDK in the query string; both get every open order of the symbol back as cancelled, then -2011."""
    sim, url = served
    account = sim.new_account()
    client = python_binance(url, account)
    btc = {sim.place_order(account.api_key) for _ in range(3)}
    eth = sim.place_order(account.api_key, symbol="ETHUSDT")

    answer = client.cancel_all_open_orders(symbol="BTCUSDT")
    assert {o["orderId"] for o in answer} == btc and {o["status"] for o in answer} == {"CANCELED"}
    assert all(o["origClientOrderId"] and o["symbol"] == "BTCUSDT" for o in answer)
    assert [o["orderId"] for o in client.get_open_orders()] == [eth]
    assert binance_error(client.cancel_all_open_orders, symbol="BTCUSDT") == (400, -2011, "Unknown order sent.")

    api = official(url, account).rest_api
    cancelled = api.delete_open_orders(symbol="ETHUSDT").data()
    assert [(o.order_id, o.status) for o in cancelled] == [(eth, "CANCELED")]
    assert sim.seen[-1].params.keys() == {"symbol", "timestamp"}
    with pytest.raises(BadRequestError) as caught:
        api.delete_open_orders(symbol="ETHUSDT")
    assert caught.value.error_message == "Unknown order sent."
