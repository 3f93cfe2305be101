"""An independent Robinhood Crypto Trading API client (`hood` 0.1.0 from PyPI, PyNaCl signing, requests) against
the simulator over real HTTP. hood shares no code with ordergate: when it signs, places, lists and cancels orders
and parses the simulator's answers with its own schemas, the simulator speaks Robinhood's protocol."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal

import nacl.signing
import pytest
from hood.crypto_trading import CryptoTradingClient, auth
from hood.crypto_trading.schema import Errors, Message
from hood.crypto_trading.schema.account import TradingAccountDetail
from hood.crypto_trading.schema.trading import Order, OrderResults

from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from ordergate.venues.simkit import Fault
from tests.support.servers import serve_asgi

KEY = "rh-api-6148effc-c0b1-486c-8940-a1d099456be6"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RobinhoodSimulator, str]]:
    sim = RobinhoodSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def client(url: str, api_key: str, seed: bytes) -> CryptoTradingClient:
    return CryptoTradingClient(auth.Credential(api_key, seed), base_url=url + "/")


def registered(sim: RobinhoodSimulator, url: str, *, can_trade: bool = True, key: str = KEY) -> CryptoTradingClient:
    """A user's own key pair, generated as the docs show; the simulator is given only the public key."""
    signing = nacl.signing.SigningKey.generate()
    sim.register_public_key(key, bytes(signing.verify_key), can_trade=can_trade)
    return client(url, key, bytes(signing))


def test_hood_reads_places_lists_and_cancels(served: tuple[RobinhoodSimulator, str]) -> None:
    sim, url = served
    rh = registered(sim, url)
    account = rh.accounts().data
    assert isinstance(account, TradingAccountDetail) and account.status == "active" and account.account_number
    placed = rh.order("BTC-USD", side="buy", type="limit", asset_quantity=0.5, limit_price=20000.0)
    order = placed.data
    assert placed.response is not None and placed.response.status_code == 201
    assert isinstance(order, Order) and (order.state, order.symbol, order.side) == ("open", "BTC-USD", "buy")
    listed = rh.orders(state="open").data
    assert isinstance(listed, OrderResults) and [o.id for o in listed.results] == [order.id]
    cancelled = rh.cancel(order.id)
    assert isinstance(cancelled.data, Message) and cancelled.response.status_code == 200
    assert cancelled.data.body == f"Cancel request was submitted for order {order.id}"
    (after,) = rh.orders(id=order.id).data.results
    assert after.state == "canceled" and sim.status(order.id).value == "cancelled"


def test_final_unknown_and_foreign_orders_are_errors(served: tuple[RobinhoodSimulator, str]) -> None:
    sim, url = served
    rh = registered(sim, url, key="rh-api-11111111-2222-4333-8444-555555555555")
    market = rh.order("ETH-USD", side="sell", type="market", asset_quantity=1.5).data
    assert market.state == "filled" and market.filled_asset_quantity == Decimal("1.5")
    refused = rh.cancel(market.id)
    assert refused.response.status_code == 400 and isinstance(refused.data, Errors)
    assert (refused.data.type, refused.data.errors[0].detail, refused.data.errors[0].attr) == (
        "validation_error",
        "This order cannot be canceled.",
        "non_field_errors",
    )
    other = sim.new_account()
    foreign = sim.place_order(other.api_key)
    for oid in (foreign, "00000000-0000-4000-8000-000000000000"):
        missing = rh.cancel(oid)
        assert missing.response.status_code == 404 and missing.data.type == "client_error"
    assert sim.status(foreign).value == "inProgress"
    assert [o.id for o in rh.orders().data.results] == [market.id]  # this account's orders only


def test_wrong_key_permission_stale_clock_and_rate_limit(
    served: tuple[RobinhoodSimulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, url = served
    account = sim.new_account()
    oid = sim.place_order(account.api_key)
    stranger = client(url, account.api_key, bytes(nacl.signing.SigningKey.generate()))
    assert stranger.cancel(oid).response.status_code == 401
    reader = registered(sim, url, can_trade=False, key="rh-api-99999999-2222-4333-8444-555555555555")
    assert reader.accounts().response.status_code == 200  # the key itself is fine
    assert reader.cancel(sim.place_order("rh-api-99999999-2222-4333-8444-555555555555")).response.status_code == 403
    rh = client(url, account.api_key, base64.b64decode(account.secret))
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="rate_limit"))
    throttled = rh.cancel(oid)
    assert throttled.response.status_code == 429 and throttled.response.headers["Retry-After"] == "13"
    monkeypatch.setattr("hood.crypto_trading._util.get_current_timestamp", lambda: 1698708981)
    assert rh.cancel(oid).response.status_code == 401
    assert sim.status(oid).value == "inProgress"
