"""RobinhoodAdapter (crypto half) over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.robinhood.adapter import RobinhoodAdapter
from ordergate.venues.robinhood.constants import CRYPTO_URL
from ordergate.venues.robinhood.crypto import CryptoApi
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.robinhood]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RobinhoodSimulator, str]]:
    sim = RobinhoodSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[RobinhoodSimulator, str]) -> RobinhoodSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[RobinhoodSimulator, str], transport: Transport) -> RobinhoodAdapter:
    return RobinhoodAdapter(SPEC, served[1], transport)


def account(sim: RobinhoodSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.robinhood, key.api_key, key.secret, extras=dict(key.extras))


def ref(order_id: str, crypto: bool = True) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=crypto)


def test_the_crypto_host_unless_the_base_url_is_overridden(transport: Transport) -> None:
    assert SPEC.production_url == "https://api.robinhood.com"  # the equities host stays the catalog's URL
    assert RobinhoodAdapter(SPEC, SPEC.production_url, transport).crypto.base_url == CRYPTO_URL
    assert RobinhoodAdapter(SPEC, "http://127.0.0.1:9/sandbox/robinhood", transport).crypto.base_url == (
        "http://127.0.0.1:9/sandbox/robinhood"
    )


async def test_cancel_is_one_request_and_only_acknowledged(sim: RobinhoodSimulator, adapter: RobinhoodAdapter) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", "cancel", api_key=creds.api_key, seconds=30))
    sent = adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(oid))
    assert (ack.order_id, ack.status, ack.upstream_status) == (oid, OrderStatus.inProgress, 200)
    assert adapter.transport.requests_sent - sent == 1
    # Submitted is not done: Robinhood still shows the order open until it finishes the cancel.
    assert (await adapter.get_order(creds, ref(oid))).status is OrderStatus.inProgress


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's"])
async def test_final_or_unknown_orders_need_a_lookup(
    sim: RobinhoodSimulator, adapter: RobinhoodAdapter, state: str
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key if state != "another account's" else sim.new_account().api_key)
    if state == "filled":
        sim.fill(oid)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(oid))
    elif state == "never placed":
        oid = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(oid))


async def test_lookup(sim: RobinhoodSimulator, adapter: RobinhoodAdapter) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key, symbol="ETH-USD", side="sell", quantity="2", price="1800")
    sim.fill(oid, "0.5")
    snap = await adapter.get_order(creds, ref(oid))
    assert snap is not None
    assert (snap.status, snap.venue_status, snap.amount, snap.filled, snap.value) == (
        OrderStatus.partiallyFilled, "partially_filled", 2.0, 0.5, 900.0,
    )  # fmt: skip
    assert (snap.side, snap.symbol, snap.payment_symbol, snap.symbol_pair, snap.price) == (
        OrderSide.sell, "ETH", "USD", "ETH-USD", 1800.0,
    )  # fmt: skip
    assert (snap.order_type, snap.time_in_force) == ("limit", "goodTillCanceled")
    assert snap.created_at and snap.updated_at and snap.updated_at >= snap.created_at
    assert await adapter.get_order(creds, ref("00000000-0000-4000-8000-000000000000")) is None


@pytest.mark.parametrize(
    ("error", "kind", "retry"),
    [
        ("auth", ErrorType.institutionAuthFailed, None),
        ("permission", ErrorType.institutionPermissionDenied, None),
        ("unavailable", ErrorType.institutionUnavailable, None),
        ("rate_limit", ErrorType.rateLimited, 13),
        ("Some other refusal.", ErrorType.institutionRejected, None),
    ],
)
async def test_error_answers(
    sim: RobinhoodSimulator, adapter: RobinhoodAdapter, error: str, kind: ErrorType, retry: int | None
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(oid))
    assert (caught.value.error_type, caught.value.retry_after) == (kind, retry)
    assert creds.secret not in str(caught.value) and creds.api_key not in str(caught.value)
    assert sim.status(oid) is OrderStatus.inProgress


async def test_a_stale_clock_is_auth_failed(sim: RobinhoodSimulator, adapter: RobinhoodAdapter) -> None:
    stale = CryptoApi(adapter.crypto.base_url, adapter.transport, clock=lambda: 1698708981)
    creds = account(sim)
    with pytest.raises(GatewayError) as caught:
        await stale.cancel(creds, sim.place_order(creds.api_key))
    assert caught.value.error_type is ErrorType.institutionAuthFailed and "Timestamp" in caught.value.message


async def test_equities_orders_on_a_crypto_key_are_refused_before_any_call(
    sim: RobinhoodSimulator, adapter: RobinhoodAdapter
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(oid, crypto=False))
        assert caught.value.error_type is ErrorType.invalidField
        assert set(caught.value.error_data["fields"]) == {"isCryptocurrency"}
    equities = Credentials(IntegrationType.robinhood, "bearer-token", "refresh-token", extras={"kind": "equities"})
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(equities, ref(oid))  # a crypto order on a login's token
    assert caught.value.error_type is ErrorType.invalidField
    unmarked = Credentials(IntegrationType.robinhood, "bearer-token", "refresh-token")
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(unmarked, ref(oid))
    assert caught.value.error_type is ErrorType.invalidAuthToken
    assert adapter.transport.requests_sent == sent and sim.status(oid) is OrderStatus.inProgress


@pytest.mark.parametrize("bad", ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n2", "1" * 10_000, "12345"])
async def test_ids_of_another_shape_never_reach_robinhood(
    sim: RobinhoodSimulator, adapter: RobinhoodAdapter, bad: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(bad))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent


async def test_verify_credentials(sim: RobinhoodSimulator, adapter: RobinhoodAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(Credentials(IntegrationType.robinhood, creds.api_key, creds.secret), None)
    assert info.account_id.isdigit() and info.extras == {"kind": "crypto"}
    assert sim.count(creds.api_key, "account") == 1
    other = sim.new_account()
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(Credentials(IntegrationType.robinhood, creds.api_key, other.secret), None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(Credentials(IntegrationType.robinhood, "me@example.com", "hunter2"), None)
    assert caught.value.error_type is ErrorType.invalidField  # a login goes through connect's login flow
