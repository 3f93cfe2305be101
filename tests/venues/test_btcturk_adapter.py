"""BtcTurkAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.btcturk.adapter import BtcTurkAdapter
from ordergate.venues.btcturk.simulator import BtcTurkSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.btcTurkDirect]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BtcTurkSimulator, str]]:
    sim = BtcTurkSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BtcTurkSimulator, str]) -> BtcTurkSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BtcTurkSimulator, str], transport: Transport) -> BtcTurkAdapter:
    return BtcTurkAdapter(SPEC, served[1], transport)


def account(sim: BtcTurkSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.btcTurkDirect, key.api_key, key.secret)


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


async def test_cancel_is_one_request_and_only_acknowledged(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", "cancel", api_key=creds.api_key, seconds=30))
    sent = adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(oid))
    assert (ack.order_id, ack.status, ack.upstream_status) == (oid, OrderStatus.inProgress, 200)
    assert adapter.transport.requests_sent - sent == 1
    # Received is not done: BtcTurk still lists the order until it finalises the cancel.
    assert (await adapter.get_order(creds, ref(oid))).status is OrderStatus.inProgress


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's"])
async def test_final_or_unknown_orders_need_a_lookup(
    sim: BtcTurkSimulator, adapter: BtcTurkAdapter, state: str
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key if state != "another account's" else sim.new_account().api_key)
    if state == "filled":
        sim.fill(oid)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(oid))
    elif state == "never placed":
        oid = "7" + oid[1:] if oid[0] != "7" else "3" + oid[1:]
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(oid))


async def test_lookup(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key, pair="ETHTRY", side="sell", quantity="2", price="90000")
    sim.fill(oid, "0.5")
    snap = await adapter.get_order(creds, ref(oid))
    assert snap is not None
    assert (snap.status, snap.venue_status, snap.amount, snap.filled) == (
        OrderStatus.partiallyFilled,
        "Partial",
        2.0,
        0.5,
    )
    assert (snap.side, snap.symbol, snap.payment_symbol, snap.symbol_pair, snap.price) == (
        OrderSide.sell, "ETH", "TRY", "ETHTRY", 90000.0,
    )  # fmt: skip
    assert (snap.order_type, snap.time_in_force) == ("limit", "goodTillCanceled")
    assert await adapter.get_order(creds, ref("7777777777")) is None


async def test_bare_401_with_a_working_key_is_a_missing_permission(
    sim: BtcTurkSimulator, adapter: BtcTurkAdapter
) -> None:
    reader = account(sim, can_trade=False)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(reader, ref(sim.place_order(reader.api_key)))
    assert caught.value.error_type is ErrorType.institutionPermissionDenied
    assert sim.count(reader.api_key, "balances") == 1  # the one read that told the two apart


@pytest.mark.parametrize(
    ("error", "kind", "retry"),
    [
        ("auth", ErrorType.institutionAuthFailed, None),
        ("unavailable", ErrorType.institutionUnavailable, None),
        ("rate_limit", ErrorType.rateLimited, 55),
        ("FAILED_LIMIT_ORDER", ErrorType.institutionRejected, None),
    ],
)
async def test_error_answers(
    sim: BtcTurkSimulator, adapter: BtcTurkAdapter, error: str, kind: ErrorType, retry: int | None
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(oid))
    assert (caught.value.error_type, caught.value.retry_after) == (kind, retry)
    assert creds.secret not in str(caught.value) and creds.api_key not in str(caught.value)
    assert sim.status(oid) is OrderStatus.inProgress


async def test_a_stale_clock_is_auth_failed(served: tuple[BtcTurkSimulator, str], transport: Transport) -> None:
    sim = served[0]
    stale = BtcTurkAdapter(SPEC, served[1], transport, clock=lambda: 1700000000000)
    creds = account(sim)
    with pytest.raises(GatewayError) as caught:
        await stale.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionAuthFailed and "Invalid Nonce" in caught.value.message


@pytest.mark.parametrize("bad", ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n2", "1" * 10_000, "0"])
async def test_ids_of_another_shape_never_reach_btcturk(
    sim: BtcTurkSimulator, adapter: BtcTurkAdapter, bad: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(bad))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent


async def test_verify_credentials(sim: BtcTurkSimulator, adapter: BtcTurkAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("btcturk-") and sim.count(creds.api_key, "balances") == 1
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(Credentials(IntegrationType.btcTurkDirect, creds.api_key, "bm90IGl0"), None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
