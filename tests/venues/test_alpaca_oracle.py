"""alpaca-py (Alpaca's official SDK) against the simulator over real HTTP.

alpaca-py shares no code with ordergate and parses every answer into its pydantic models, so when it places,
reads, lists and cancels orders here, the simulator speaks Alpaca's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest, MarketOrderRequest

from ordergate.venues.alpaca.simulator import AlpacaSimulator
from ordergate.venues.simkit import Fault
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[AlpacaSimulator, str]]:
    sim = AlpacaSimulator()
    with serve_asgi(sim.app, date_header=False) as url:
        yield sim, url


def limit_buy(qty: float = 2, price: float = 101.25) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL", qty=qty, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=price
    )


def test_key_pair_client_places_reads_lists_and_cancels(served: tuple[AlpacaSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    client = TradingClient(account.api_key, account.secret, paper=True, url_override=url)

    assert client.get_account().account_number.startswith("PA")
    order = client.submit_order(limit_buy())
    assert (order.status, order.symbol, order.qty, order.limit_price) == (OrderStatus.NEW, "AAPL", "2", "101.25")
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    assert [o.id for o in client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))] == [order.id]

    assert client.cancel_order_by_id(order.id) is None  # Alpaca's 204
    assert client.get_order_by_id(order.id).status == OrderStatus.CANCELED
    assert client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []

    with pytest.raises(APIError) as again:
        client.cancel_order_by_id(order.id)
    assert (again.value.status_code, again.value.code) == (422, 42210000)
    assert again.value.message == 'order is already in "canceled" state'

    with pytest.raises(APIError) as unknown:
        client.get_order_by_id(uuid.uuid4())
    assert (unknown.value.status_code, unknown.value.code, unknown.value.message) == (404, 40410000, "order not found")


def test_fills_are_visible_to_the_sdk(served: tuple[AlpacaSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    client = TradingClient(account.api_key, account.secret, paper=True, url_override=url)
    order = client.submit_order(limit_buy(qty=4))
    sim.fill(str(order.id), "1.5")
    partial = client.get_order_by_id(order.id)
    assert (partial.status, partial.filled_qty, partial.filled_avg_price) == (
        OrderStatus.PARTIALLY_FILLED,
        "1.5",
        "101.25",
    )
    market = client.submit_order(
        MarketOrderRequest(symbol="BTC/USD", qty=0.5, side=OrderSide.SELL, time_in_force=TimeInForce.GTC)
    )
    assert (market.status, market.filled_qty, market.asset_class.value) == (OrderStatus.FILLED, "0.5", "crypto")
    with pytest.raises(APIError) as filled:
        client.cancel_order_by_id(market.id)
    assert filled.value.message == 'order is already in "filled" state'
    closed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED))
    assert [o.id for o in closed] == [market.id]


def test_the_sdk_pages_the_listing_by_submission_time(served: tuple[AlpacaSimulator, str]) -> None:
    """What ordergate's list_orders relies on: limit, `until` and `after` (both exclusive), newest first."""
    sim, url = served
    account = sim.new_account()
    client = TradingClient(account.api_key, account.secret, paper=True, url_override=url)
    start = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    ids = []
    for minute in range(5):
        order = client.submit_order(limit_buy())
        sim.set_created(str(order.id), start + timedelta(minutes=minute))
        ids.append(order.id)
    sim.fill(str(ids[0]))

    first = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, limit=2, direction=Sort.DESC))
    assert [o.id for o in first] == [ids[4], ids[3]]
    older = client.get_orders(
        GetOrdersRequest(status=QueryOrderStatus.ALL, limit=2, until=first[-1].submitted_at, direction=Sort.DESC)
    )
    assert [o.id for o in older] == [ids[2], ids[1]]
    until = older[0].submitted_at  # ids[2], 12:02: exclusive
    between = GetOrdersRequest(status=QueryOrderStatus.ALL, after=start + timedelta(seconds=30), until=until)
    assert [o.id for o in client.get_orders(between)] == [ids[1]]
    exclusive = GetOrdersRequest(status=QueryOrderStatus.ALL, after=start + timedelta(minutes=1), until=until)
    assert client.get_orders(exclusive) == []
    assert [o.id for o in client.get_orders(GetOrdersRequest(status=QueryOrderStatus.CLOSED, limit=500))] == [ids[0]]
    with pytest.raises(APIError) as too_many:
        client.get_orders(GetOrdersRequest(status=QueryOrderStatus.ALL, limit=501))
    assert too_many.value.status_code == 422


def test_pending_cancel_is_what_the_sdk_sees_until_it_settles(served: tuple[AlpacaSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    client = TradingClient(account.api_key, account.secret, paper=True, url_override=url)
    order = client.submit_order(limit_buy())
    sim.inject(Fault("pending", "cancel", api_key=account.api_key, seconds=60))
    assert client.cancel_order_by_id(order.id) is None
    assert client.get_order_by_id(order.id).status == OrderStatus.PENDING_CANCEL


def test_wrong_secret_is_401_and_the_order_stays(served: tuple[AlpacaSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id, _ = sim.place(account)
    client = TradingClient(account.api_key, "not-the-secret", paper=True, url_override=url)
    with pytest.raises(APIError) as caught:
        client.cancel_order_by_id(order_id)
    assert (caught.value.status_code, caught.value.code) == (401, 40110000)
    assert sim.describe(order_id)["status"] == "new"


def test_oauth_token_client_works_and_an_unknown_token_does_not(served: tuple[AlpacaSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    client = TradingClient(oauth_token=sim.issue_token(account), paper=True, url_override=url)
    order = client.submit_order(limit_buy())
    assert client.get_order_by_id(order.id).status == OrderStatus.NEW
    assert client.cancel_order_by_id(order.id) is None
    assert sim.describe(str(order.id))["status"] == "canceled"
    with pytest.raises(APIError) as caught:
        TradingClient(oauth_token=str(uuid.uuid4()), url_override=url).get_account()
    assert caught.value.status_code == 401


def test_rate_limit_headers_and_429_over_plain_http() -> None:
    # Plain HTTP here: alpaca-py sleeps 3 s and retries on 429 by default, which proves nothing about the answer.
    sim = AlpacaSimulator(rate_limit=2)
    account = sim.new_account()
    headers = {"APCA-API-KEY-ID": account.api_key, "APCA-API-SECRET-KEY": account.secret}
    with serve_asgi(sim.app, date_header=False) as url:
        answers = [httpx.get(f"{url}/v2/account", headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"2"}
    assert len({a.headers["x-ratelimit-reset"] for a in answers}) == 1  # one fixed window
    assert answers[2].json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert len(answers[2].headers.get_list("date")) == 1


def test_cancel_orders_answers_each_order_with_its_status(served: tuple[AlpacaSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    client = TradingClient(account.api_key, account.secret, paper=True, url_override=url)
    orders = [client.submit_order(limit_buy()) for _ in range(3)]

    answers = client.cancel_orders()  # DELETE /v2/orders, 207 Multi-Status
    assert sorted(str(a.id) for a in answers) == sorted(str(o.id) for o in orders)
    assert {a.status for a in answers} == {200}
    assert client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []
    assert client.cancel_orders() == []
