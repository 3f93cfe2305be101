"""Gate's official Python SDK (gate-api) and ccxt's `gate` against the simulator over real HTTP.

Neither shares code with ordergate: when they sign, place, query and cancel successfully, and their tampered, stale
or unauthorised requests are refused with Gate's own labels, the simulator speaks Gate's protocol rather than
ordergate's idea of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import ccxt
import gate_api
import httpx
import pytest
from gate_api import api_client as gate_api_client
from gate_api.exceptions import GateApiException

from ordergate.venues.gate_io.simulator import RATE_LIMIT_RESET_S, GateIoSimulator
from ordergate.venues.simkit import Fault
from tests.support.servers import serve_asgi


class Clock:
    """The simulator's clock, shifted by hand: Gate keeps a zero-fill cancelled order for a minute only."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GateIoSimulator, str, Clock]]:
    clock = Clock()
    sim = GateIoSimulator(clock=clock)
    with serve_asgi(sim.app) as url:
        yield sim, url, clock


def spot(url: str, key: str, secret: str) -> gate_api.SpotApi:
    config = gate_api.Configuration(host=f"{url}/api/v4", key=key, secret=secret)
    return gate_api.SpotApi(gate_api.ApiClient(config))


def label_of(call: object, *args: object, **kwargs: object) -> tuple[str, int]:
    with pytest.raises(GateApiException) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value.label, caught.value.status


def limit_buy(amount: str = "0.5", price: str = "25000", **extra: object) -> gate_api.Order:
    return gate_api.Order(currency_pair="BTC_USDT", side="buy", amount=amount, price=price, **extra)


def test_sdk_places_queries_and_cancels(served: tuple[GateIoSimulator, str, Clock]) -> None:
    sim, url, _ = served
    account = sim.new_account()
    api = spot(url, account.api_key, account.secret)

    placed = api.create_order(limit_buy(text="t-oracle-1"))
    assert placed.id.isdigit() and (placed.status, placed.text, placed.left) == ("open", "t-oracle-1", "0.5")
    fetched = api.get_order(placed.id, "BTC_USDT")
    assert (fetched.status, fetched.amount, fetched.price, fetched.side) == ("open", "0.5", "25000", "buy")
    assert [o.id for o in api.list_orders("BTC_USDT", "open")] == [placed.id]

    cancelled = api.cancel_order(placed.id, "BTC_USDT")
    assert (cancelled.id, cancelled.status, cancelled.finish_as, cancelled.left) == (
        placed.id,
        "cancelled",
        "cancelled",
        "0.5",
    )
    assert label_of(api.cancel_order, placed.id, "BTC_USDT") == ("ORDER_CANCELLED", 400)
    assert api.get_order(placed.id, "BTC_USDT").status == "cancelled"
    assert api.list_orders("BTC_USDT", "open") == []
    assert {a.currency for a in api.list_spot_accounts()} == {"BTC", "USDT"}


def test_sdk_lists_open_orders_of_every_pair_and_finished_orders(
    served: tuple[GateIoSimulator, str, Clock],
) -> None:
    sim, url, _ = served
    account = sim.new_account()
    api = spot(url, account.api_key, account.secret)
    btc = api.create_order(limit_buy())
    eth = api.create_order(gate_api.Order(currency_pair="ETH_USDT", side="sell", amount="2", price="2100"))
    groups = api.list_all_open_orders(page=1, limit=100)
    assert {(g.currency_pair, g.total, tuple(o.id for o in g.orders)) for g in groups} == {
        ("BTC_USDT", 1, (btc.id,)),
        ("ETH_USDT", 1, (eth.id,)),
    }
    sim.fill(btc.id)
    # The SDK insists on a pair (its generated signature), though the parameter's own text makes it optional for
    # finished orders; ordergate omits it when the client names none.
    finished = api.list_orders("BTC_USDT", "finished", page=1, limit=10, _from=0)
    assert [(o.id, o.status, o.finish_as) for o in finished] == [(btc.id, "closed", "filled")]
    assert api.list_orders("ETH_USDT", "finished") == []


def test_custom_id_cancels_only_while_open_and_fills_close_orders(served: tuple[GateIoSimulator, str, Clock]) -> None:
    sim, url, _ = served
    account = sim.new_account()
    api = spot(url, account.api_key, account.secret)
    placed = api.create_order(limit_buy(text="t-by-text"))
    assert api.cancel_order("t-by-text", "BTC_USDT").id == placed.id
    assert label_of(api.get_order, "t-by-text", "BTC_USDT") == ("ORDER_NOT_FOUND", 404)

    partial = sim.place_order(account.api_key, amount="2")
    sim.fill(partial, "0.5")
    done = api.cancel_order(partial, "BTC_USDT")
    # Partly filled and cancelled: still `cancelled`, with the fill kept (gateapi-csharp #5).
    assert (done.status, done.filled_amount, done.left, done.filled_total) == ("cancelled", "0.5", "1.5", "50.0")

    filled = sim.place_order(account.api_key)
    sim.fill(filled)
    assert api.get_order(filled, "BTC_USDT").finish_as == "filled"
    assert label_of(api.cancel_order, filled, "BTC_USDT") == ("ORDER_CLOSED", 400)

    market = api.create_order(gate_api.Order(currency_pair="ETH_USDT", side="sell", type="market", amount="2",
                                             time_in_force="ioc"))  # fmt: skip
    assert (market.status, market.finish_as) == ("closed", "filled")


def test_unknown_foreign_and_other_pair_orders_are_not_found(served: tuple[GateIoSimulator, str, Clock]) -> None:
    sim, url, _ = served
    account, other = sim.new_account(), sim.new_account()
    api = spot(url, account.api_key, account.secret)
    mine, foreign = sim.place_order(account.api_key), sim.place_order(other.api_key)
    for pair, order_id in (("BTC_USDT", "999999999999"), ("BTC_USDT", foreign), ("ETH_USDT", mine)):
        assert label_of(api.cancel_order, order_id, pair) == ("ORDER_NOT_FOUND", 404)
    assert label_of(api.cancel_order, mine, "NOPE_USDT")[0] == "INVALID_CURRENCY_PAIR"
    assert sim.describe(mine)["status"] == sim.describe(foreign)["status"] == "open"


def test_zero_fill_cancelled_orders_are_forgotten_after_a_minute(
    served: tuple[GateIoSimulator, str, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, url, clock = served
    account = sim.new_account()
    api = spot(url, account.api_key, account.secret)
    empty, partial = sim.place_order(account.api_key), sim.place_order(account.api_key, amount="2")
    sim.fill(partial, "1")
    api.cancel_order(empty, "BTC_USDT")
    api.cancel_order(partial, "BTC_USDT")
    # The SDK signs with time.time(); both clocks move together so that only the retention is tested.
    monkeypatch.setattr(clock, "offset", 61.0)
    monkeypatch.setattr(gate_api_client, "time", SimpleNamespace(time=lambda: time.time() + 61.0))
    assert label_of(api.get_order, empty, "BTC_USDT") == ("ORDER_NOT_FOUND", 404)
    assert label_of(api.cancel_order, empty, "BTC_USDT") == ("ORDER_NOT_FOUND", 404)
    assert api.get_order(partial, "BTC_USDT").status == "cancelled"


def test_read_only_key_cannot_trade(served: tuple[GateIoSimulator, str, Clock]) -> None:
    sim, url, _ = served
    account = sim.new_account(can_trade=False)
    api = spot(url, account.api_key, account.secret)
    order_id = sim.place_order(account.api_key)
    assert label_of(api.create_order, limit_buy()) == ("READ_ONLY", 403)
    assert label_of(api.cancel_order, order_id, "BTC_USDT") == ("READ_ONLY", 403)
    assert api.get_order(order_id, "BTC_USDT").status == "open"


def test_wrong_secret_unknown_key_tampering_and_missing_headers(served: tuple[GateIoSimulator, str, Clock]) -> None:
    sim, url, _ = served
    account, other = sim.new_account(), sim.new_account()
    assert label_of(spot(url, account.api_key, other.secret).list_spot_accounts) == ("INVALID_SIGNATURE", 401)
    assert label_of(spot(url, "0" * 32, account.secret).list_spot_accounts) == ("INVALID_KEY", 401)

    order_id = sim.place_order(account.api_key)
    client = gate_api.ApiClient(gate_api.Configuration(key=account.api_key, secret=account.secret))
    path, query = f"/api/v4/spot/orders/{order_id}", "currency_pair=BTC_USDT"
    headers = client.gen_sign("GET", path, query)
    assert httpx.get(f"{url}{path}?{query}", headers=headers).json()["id"] == order_id
    # The same headers over another query, path or method, or with one hex digit changed, are refused.
    for method, target in (("GET", f"{path}?currency_pair=BTC_USDT&account=spot"), ("GET", f"{path}9?{query}"),
                           ("DELETE", f"{path}?{query}")):  # fmt: skip
        answer = httpx.request(method, f"{url}{target}", headers=headers)
        assert (answer.status_code, answer.json()["label"]) == (401, "INVALID_SIGNATURE")
    flipped = {**headers, "SIGN": ("0" if headers["SIGN"][0] != "0" else "1") + headers["SIGN"][1:]}
    assert httpx.get(f"{url}{path}?{query}", headers=flipped).json()["label"] == "INVALID_SIGNATURE"
    answer = httpx.get(f"{url}{path}?{query}", headers={k: v for k, v in headers.items() if k != "Timestamp"})
    assert (answer.status_code, answer.json()["label"]) == (401, "MISSING_REQUIRED_HEADER")
    assert sim.describe(order_id)["status"] == "open"


@pytest.mark.parametrize("skew_s", [-90, 61.5, 3600])
def test_timestamps_more_than_a_minute_off_are_request_expired(
    served: tuple[GateIoSimulator, str, Clock], monkeypatch: pytest.MonkeyPatch, skew_s: float
) -> None:
    sim, url, _ = served
    account = sim.new_account()
    api = spot(url, account.api_key, account.secret)
    monkeypatch.setattr(gate_api_client, "time", SimpleNamespace(time=lambda: time.time() + skew_s))
    assert label_of(api.list_spot_accounts) == ("REQUEST_EXPIRED", 401)
    monkeypatch.setattr(gate_api_client, "time", SimpleNamespace(time=lambda: time.time() - 50))
    assert len(api.list_spot_accounts()) == 2  # inside the 60 s window, and a fractional Timestamp is accepted


def test_rate_limit_headers_and_faults(served: tuple[GateIoSimulator, str, Clock]) -> None:
    sim, url, clock = served
    account = sim.new_account()
    api = spot(url, account.api_key, account.secret)
    _, status, headers = api.list_spot_accounts_with_http_info()
    assert status == 200 and (headers["X-Gate-RateLimit-Limit"], headers["X-Gate-RateLimit-Requests-Remain"]) == (
        "200",
        "199",
    )
    assert int(headers["X-Out-Time"]) // 1_000_000 == pytest.approx(clock(), abs=5)

    sim.inject(Fault("venue_error", "accounts", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(GateApiException) as caught:
        api.list_spot_accounts()
    assert (caught.value.label, caught.value.status) == ("TOO_MANY_REQUESTS", 429)
    reset = int(caught.value.headers["X-Gate-RateLimit-Reset-Timestamp"])
    out = int(caught.value.headers["X-Out-Time"]) / 1_000_000
    assert RATE_LIMIT_RESET_S - 1 < reset - out <= RATE_LIMIT_RESET_S

    sim.inject(Fault("venue_error", "accounts", api_key=account.api_key, error="ban"))
    assert label_of(api.list_spot_accounts) == ("ACCOUNT_LOCKED", 403)


def ccxt_gate(url: str, key: str, secret: str) -> ccxt.gate:
    exchange = ccxt.gate({"apiKey": key, "secret": secret, "enableRateLimit": False})
    exchange.urls["api"]["private"]["spot"] = f"{url}/api/v4"
    return exchange


def test_ccxt_places_queries_and_cancels(served: tuple[GateIoSimulator, str, Clock]) -> None:
    # ccxt's implicit endpoints sign with its own gate.sign(); no markets are loaded, nothing else is contacted.
    sim, url, _ = served
    account = sim.new_account()
    gate = ccxt_gate(url, account.api_key, account.secret)
    placed = gate.privateSpotPostOrders(
        {"currency_pair": "BTC_USDT", "side": "sell", "amount": "0.25", "price": "31000", "type": "limit"}
    )
    order_id = placed["id"]
    assert gate.privateSpotGetOrdersOrderId({"order_id": order_id, "currency_pair": "BTC_USDT"})["status"] == "open"
    cancelled = gate.privateSpotDeleteOrdersOrderId({"order_id": order_id, "currency_pair": "BTC_USDT"})
    assert (cancelled["status"], cancelled["finish_as"]) == ("cancelled", "cancelled")
    with pytest.raises(ccxt.InvalidOrder):  # ORDER_CANCELLED
        gate.privateSpotDeleteOrdersOrderId({"order_id": order_id, "currency_pair": "BTC_USDT"})
    with pytest.raises(ccxt.OrderNotFound):
        gate.privateSpotDeleteOrdersOrderId({"order_id": "999999999999", "currency_pair": "BTC_USDT"})
    with pytest.raises(ccxt.AuthenticationError):
        ccxt_gate(url, account.api_key, sim.new_account().secret).privateSpotGetAccounts()
    assert sim.describe(order_id)["status"] == "cancelled"
