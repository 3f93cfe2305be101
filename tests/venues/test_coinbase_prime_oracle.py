"""Coinbase's own Prime SDK (prime-sdk-py, independent of ordergate) against the simulator over real HTTP.

The SDK's base URL is a module constant; pointing it at the simulator changes nothing it signs (it signs the path
`/v1/...` alone). When it lists portfolios, places, reads and cancels orders here, the simulator follows Prime's
recipe as Coinbase implements it, not only as ordergate reads the docs.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterator

import pytest
from prime_sdk import client as prime_client
from prime_sdk.client import Client
from prime_sdk.credentials import Credentials
from prime_sdk.exceptions import PrimeAPIError
from prime_sdk.services.orders import (
    CancelOrderRequest,
    CreateOrderRequest,
    GetOrderRequest,
    ListOpenOrdersRequest,
    ListOrdersRequest,
    OrdersService,
)
from prime_sdk.services.portfolios import ListPortfoliosRequest, PortfoliosService
from prime_sdk.utils import PaginationParams

from ordergate.venues.coinbase_prime.simulator import CoinbasePrimeSimulator
from ordergate.venues.simkit import SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbasePrimeSimulator, str]]:
    sim = CoinbasePrimeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sdk_url(served: tuple[CoinbasePrimeSimulator, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(prime_client, "DEFAULT_V1_API_BASE_URL", served[1] + "/v1")
    return served[1]


def sdk(account: SimAccount, **overrides: str) -> tuple[OrdersService, PortfoliosService]:
    options = {"access_key": account.api_key, "passphrase": account.passphrase, "signing_key": account.secret}
    client = Client(Credentials(**{**options, **overrides}))
    return OrdersService(client), PortfoliosService(client)


def limit_buy(portfolio_id: str, quantity: str = "0.5") -> CreateOrderRequest:
    return CreateOrderRequest(
        portfolio_id=portfolio_id,
        product_id="BTC-USD",
        side="BUY",
        type="LIMIT",
        client_order_id=str(uuid.uuid4()),
        base_quantity=quantity,
        limit_price="25000",
        time_in_force="GOOD_UNTIL_CANCELLED",
    )


def test_sdk_lists_places_reads_and_cancels(served: tuple[CoinbasePrimeSimulator, str], sdk_url: str) -> None:
    sim, _ = served
    account = sim.new_account()
    orders, portfolios = sdk(account)
    (portfolio,) = portfolios.list_portfolios(ListPortfoliosRequest()).portfolios
    assert portfolio.id == account.extras["portfolio_id"]

    order_id = orders.create_order(limit_buy(portfolio.id)).order_id
    read = orders.get_order(GetOrderRequest(portfolio_id=portfolio.id, order_id=order_id)).order
    assert (read.status, read.side, read.base_quantity, read.limit_price) == ("OPEN", "BUY", "0.5", "25000")

    assert orders.cancel_order(CancelOrderRequest(portfolio_id=portfolio.id, order_id=order_id)).id == order_id
    after = orders.get_order(GetOrderRequest(portfolio_id=portfolio.id, order_id=order_id)).order
    assert after.status == "CANCELLED"
    with pytest.raises(PrimeAPIError) as again:
        orders.cancel_order(CancelOrderRequest(portfolio_id=portfolio.id, order_id=order_id))
    assert again.value.status_code == 400


def test_sdk_lists_open_orders_and_history_with_cursors(
    served: tuple[CoinbasePrimeSimulator, str], sdk_url: str
) -> None:
    sim, _ = served
    account = sim.new_account()
    pid = str(account.extras["portfolio_id"])
    orders, _ = sdk(account)
    ids = [orders.create_order(limit_buy(pid)).order_id for _ in range(4)]
    start = datetime.datetime(2024, 5, 1, 12, 0)
    for minute, order_id in enumerate(ids):
        sim.set_created(order_id, (start + datetime.timedelta(minutes=minute)).replace(tzinfo=datetime.UTC))
    sim.fill(ids[0])
    orders.cancel_order(CancelOrderRequest(portfolio_id=pid, order_id=ids[1]))

    first = orders.list_open_orders(ListOpenOrdersRequest(portfolio_id=pid, pagination=PaginationParams(limit="1")))
    assert ([o.id for o in first.orders], first.pagination.has_next) == ([ids[3]], True)
    cursor = PaginationParams(limit="1", cursor=first.pagination.next_cursor)
    rest = orders.list_open_orders(ListOpenOrdersRequest(portfolio_id=pid, pagination=cursor))
    assert ([o.id for o in rest.orders], rest.pagination.has_next) == ([ids[2]], False)

    history = orders.list_orders(
        ListOrdersRequest(portfolio_id=pid, order_statuses=["FILLED", "CANCELLED"], start_date=start)
    )
    assert [(o.id, o.status) for o in history.orders] == [(ids[1], "CANCELLED"), (ids[0], "FILLED")]
    later = start + datetime.timedelta(minutes=1, seconds=30)
    assert (
        orders.list_orders(ListOrdersRequest(portfolio_id=pid, start_date=later, order_statuses=["FILLED"])).orders
        == []
    )


def test_filled_and_unknown_orders(served: tuple[CoinbasePrimeSimulator, str], sdk_url: str) -> None:
    sim, _ = served
    account = sim.new_account()
    pid = str(account.extras["portfolio_id"])
    orders, _ = sdk(account)
    order_id = orders.create_order(limit_buy(pid, "1")).order_id
    sim.fill(order_id, "0.4")
    read = orders.get_order(GetOrderRequest(portfolio_id=pid, order_id=order_id)).order
    assert (read.status, read.filled_quantity) == ("OPEN", "0.4")
    sim.fill(order_id)
    with pytest.raises(PrimeAPIError) as filled:
        orders.cancel_order(CancelOrderRequest(portfolio_id=pid, order_id=order_id))
    assert (filled.value.status_code, filled.value.message) == (400, "Filled orders cannot be canceled")

    foreign, _ = sim.place(sim.new_account())
    for missing in ("00000000-0000-0000-0000-000000000000", foreign):
        with pytest.raises(PrimeAPIError) as caught:
            orders.get_order(GetOrderRequest(portfolio_id=pid, order_id=missing))
        assert caught.value.status_code == 404
    assert sim.status(foreign).value == "inProgress"


def test_credentials_and_permissions(served: tuple[CoinbasePrimeSimulator, str], sdk_url: str) -> None:
    sim, _ = served
    account = sim.new_account()
    for wrong in ({"signing_key": "not-the-signing-key"}, {"passphrase": "nope"}, {"access_key": "unknown"}):
        _, portfolios = sdk(account, **wrong)
        with pytest.raises(PrimeAPIError) as caught:
            portfolios.list_portfolios(ListPortfoliosRequest())
        assert caught.value.status_code == 401

    viewer = sim.new_account(can_trade=False)
    order_id, _ = sim.place(viewer)
    orders, _ = sdk(viewer)
    with pytest.raises(PrimeAPIError) as refused:
        orders.cancel_order(CancelOrderRequest(portfolio_id=str(viewer.extras["portfolio_id"]), order_id=order_id))
    assert refused.value.status_code == 403
    # A portfolio the key cannot reach is refused as well.
    with pytest.raises(PrimeAPIError) as other:
        orders.get_order(GetOrderRequest(portfolio_id=str(account.extras["portfolio_id"]), order_id=order_id))
    assert other.value.status_code == 403
    assert sim.status(order_id).value == "inProgress"


def test_an_entity_key_lists_every_portfolio(served: tuple[CoinbasePrimeSimulator, str], sdk_url: str) -> None:
    sim, _ = served
    _, portfolios = sdk(sim.new_account(portfolios=3))
    assert len(portfolios.list_portfolios(ListPortfoliosRequest()).portfolios) == 3
