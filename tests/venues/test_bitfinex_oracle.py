"""Independent Bitfinex clients (the official bitfinex-api-py, and ccxt's bitfinex) against the simulator over real
HTTP.

Neither shares code with ordergate: when they sign, place, list and cancel successfully and their error mapping
recognises the simulator's answers, the simulator speaks Bitfinex's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import bfxapi
import ccxt
import httpx
import pytest
from bfxapi.exceptions import InvalidCredentialError
from bfxapi.rest.exceptions import GenericError, RequestParameterError

from ordergate.venues.bitfinex.simulator import BitfinexSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitfinexSimulator, str]]:
    sim = BitfinexSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def sdk(url: str, account: SimAccount) -> bfxapi.Client:
    # The SDK's REST host includes the version; it signs "/api/v2/<endpoint>" whatever the host.
    return bfxapi.Client(api_key=account.api_key, api_secret=account.secret, rest_host=url + "/v2")


def ccxt_client(url: str, account: SimAccount) -> ccxt.bitfinex:
    exchange = ccxt.bitfinex({"apiKey": account.api_key, "secret": account.secret, "enableRateLimit": False})
    exchange.urls["api"] = {"public": url, "private": url}
    # Cancel and fetch by id need no market data; leaving load_markets out keeps the public endpoints out of scope.
    exchange.markets, exchange.markets_by_id = {}, {}
    return exchange


def test_sdk_places_lists_and_cancels(served: tuple[BitfinexSimulator, str]) -> None:
    sim, url = served
    rest = sdk(url, sim.new_account()).rest.auth

    placed = rest.submit_order(type="EXCHANGE LIMIT", symbol="tBTCUSD", amount=0.5, price=25000)
    assert (placed.type, placed.status) == ("on-req", "SUCCESS")
    order = placed.data
    assert (order.symbol, order.amount_orig, order.order_status, order.price) == ("tBTCUSD", 0.5, "ACTIVE", 25000.0)
    assert [o.id for o in rest.get_orders(ids=[order.id])] == [order.id]

    cancelled = rest.cancel_order(id=order.id)
    assert (cancelled.type, cancelled.status, cancelled.data.id) == ("oc-req", "SUCCESS", order.id)
    assert cancelled.text == f"Submitted for cancellation; waiting for confirmation (ID: {order.id})."
    assert rest.get_orders(ids=[order.id]) == []
    (closed,) = rest.get_orders_history(ids=[order.id])
    assert closed.order_status == "CANCELED"
    with pytest.raises(GenericError, match="Order not found"):
        rest.cancel_order(id=order.id)
    assert sim.status(str(order.id)).value == "cancelled"


def test_sdk_sees_fills_in_the_order_status(served: tuple[BitfinexSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    rest = sdk(url, account).rest.auth
    sell = rest.submit_order(type="EXCHANGE LIMIT", symbol="tETHUSD", amount="-2", price="1800").data
    sim.fill(str(sell.id), "0.5")
    (partial,) = rest.get_orders(ids=[sell.id])
    assert (partial.amount, partial.amount_orig, partial.order_status) == (-1.5, -2.0, "PARTIALLY FILLED @ 1800(-0.5)")
    rest.cancel_order(id=sell.id)
    (closed,) = rest.get_orders_history(ids=[sell.id])
    assert closed.order_status == "CANCELED was: PARTIALLY FILLED @ 1800(-0.5)"

    market = rest.submit_order(type="EXCHANGE MARKET", symbol="tBTCUSD", amount="0.1", price="0").data
    assert rest.get_orders(ids=[market.id]) == []
    assert rest.get_orders_history(ids=[market.id])[0].order_status.startswith("EXECUTED @")
    with pytest.raises(GenericError, match="Order not found"):
        rest.cancel_order(id=market.id)


def test_unknown_and_foreign_orders_are_not_found(served: tuple[BitfinexSimulator, str]) -> None:
    sim, url = served
    rest = sdk(url, sim.new_account()).rest.auth
    foreign = sim.place_order(sim.new_account().api_key)
    for order_id in (777777777777, foreign):
        with pytest.raises(GenericError, match="Order not found"):
            rest.cancel_order(id=order_id)
        assert rest.get_orders(ids=[order_id]) == [] and rest.get_orders_history(ids=[order_id]) == []
    assert sim.status(str(foreign)).value == "inProgress"
    with pytest.raises(RequestParameterError):
        rest.cancel_order()  # neither id nor cid: 10020


def test_wrong_secret_unknown_key_and_missing_permission(served: tuple[BitfinexSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id = sim.place_order(account.api_key)
    for wrong in (SimAccount(account.api_key, sim.new_account().secret), SimAccount("no-such-key", account.secret)):
        with pytest.raises(InvalidCredentialError):
            sdk(url, wrong).rest.auth.cancel_order(id=order_id)
    reader = sim.new_account(can_trade=False)
    with pytest.raises(GenericError, match="permission"):
        sdk(url, reader).rest.auth.cancel_order(id=sim.place_order(reader.api_key))
    assert sim.status(str(order_id)).value == "inProgress"


def test_ccxt_cancels_and_maps_the_simulators_errors(served: tuple[BitfinexSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = ccxt_client(url, account)
    order_id = str(sim.place_order(account.api_key, amount="-0.25", price="31000"))

    fetched = exchange.fetch_order(order_id)
    assert (fetched["id"], fetched["status"], fetched["side"], fetched["amount"]) == (order_id, "open", "sell", 0.25)
    cancelled = exchange.cancel_order(order_id)
    assert (cancelled["id"], cancelled["status"]) == (order_id, "open")  # submitted, not yet confirmed
    assert sim.status(order_id).value == "cancelled"
    with pytest.raises(ccxt.OrderNotFound):
        exchange.cancel_order(order_id)

    reader = sim.new_account(can_trade=False)
    with pytest.raises(ccxt.PermissionDenied):
        ccxt_client(url, reader).cancel_order(str(sim.place_order(reader.api_key)))
    with pytest.raises(ccxt.AuthenticationError):
        ccxt_client(url, SimAccount(account.api_key, "wrong-secret")).cancel_order(order_id)
    other = sim.new_account()
    sim.inject(Fault("venue_error", "cancel", api_key=other.api_key, error="rate_limit"))
    with pytest.raises(ccxt.RateLimitExceeded):
        ccxt_client(url, other).cancel_order(str(sim.place_order(other.api_key)))


def test_a_key_used_with_microsecond_nonces_refuses_millisecond_ones(served: tuple[BitfinexSimulator, str]) -> None:
    """The pitfall the reference notes: the SDK's µs nonces put the key beyond anything ccxt's ms clock issues."""
    sim, url = served
    account = sim.new_account()
    assert sdk(url, account).rest.auth.get_orders() == []
    with pytest.raises(ccxt.InvalidNonce):
        ccxt_client(url, account).cancel_order(str(sim.place_order(account.api_key)))


def test_a_replayed_request_is_refused_for_its_nonce(served: tuple[BitfinexSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id = sim.place_order(account.api_key)
    body, nonce = f'{{"id":{order_id}}}'.encode(), "1000"
    # Signed here from Bitfinex's published recipe, not with ordergate's code.
    message = b"/api/v2/auth/w/order/cancel" + nonce.encode() + body
    signature = hmac.new(account.secret.encode(), message, hashlib.sha384).hexdigest()
    headers = {"bfx-apikey": account.api_key, "bfx-nonce": nonce, "bfx-signature": signature,
               "Content-Type": "application/json"}  # fmt: skip
    first = httpx.post(f"{url}/v2/auth/w/order/cancel", content=body, headers=headers)
    again = httpx.post(f"{url}/v2/auth/w/order/cancel", content=body, headers=headers)
    assert first.status_code == 200 and first.json()[1] == "oc-req"
    assert (again.status_code, again.json()) == (500, ["error", 10114, "nonce: small"])


def test_injected_html_500_is_not_a_bitfinex_answer(served: tuple[BitfinexSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id = sim.place_order(account.api_key)
    sim.inject(Fault("http_error", "cancel", api_key=account.api_key, status=500))
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the SDK fails to decode HTML, whatever its type
        sdk(url, account).rest.auth.cancel_order(id=order_id)
    assert not isinstance(caught.value, GenericError | InvalidCredentialError)
    assert sim.status(str(order_id)).value == "inProgress"
