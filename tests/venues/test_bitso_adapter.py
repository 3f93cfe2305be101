"""BitsoAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.bitso.adapter import BitsoAdapter
from ordergate.venues.bitso.simulator import BitsoSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitsoDirect]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitsoSimulator, str]]:
    sim = BitsoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitsoSimulator, str]) -> BitsoSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitsoSimulator, str], transport: Transport) -> BitsoAdapter:
    return BitsoAdapter(SPEC, served[1], transport)


def account(sim: BitsoSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.bitsoDirect, key.api_key, key.secret)


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", "")))
    assert creds.api_key not in text and creds.secret not in text


async def test_cancel_is_one_request_and_confirmed(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sent = adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(oid))
    assert (ack.order_id, ack.status, ack.upstream_status) == (oid, OrderStatus.cancelled, 200)
    assert adapter.transport.requests_sent - sent == 1
    assert sim.status(oid) is OrderStatus.cancelled


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's"])
async def test_an_oid_absent_from_the_payload_is_never_success(
    sim: BitsoSimulator, adapter: BitsoAdapter, state: str
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key if state != "another account's" else sim.new_account().api_key)
    if state == "filled":
        sim.fill(oid)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(oid))
    elif state == "never placed":
        oid = "Q" + oid[1:] if oid[0] != "Q" else "R" + oid[1:]
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(oid))


async def test_lookup_reads_fills_side_and_book(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key, book="eth_mxn", side="sell", amount="2", price="40000")
    sim.fill(oid, "0.5")
    snap = await adapter.get_order(creds, ref(oid))
    assert snap is not None
    assert (snap.status, snap.venue_status, snap.amount, snap.filled) == (
        OrderStatus.partiallyFilled, "partially filled", 2.0, 0.5,
    )  # fmt: skip
    assert (snap.side, snap.symbol, snap.payment_symbol, snap.symbol_pair, snap.price) == (
        OrderSide.sell, "ETH", "MXN", "eth_mxn", 40000.0,
    )  # fmt: skip
    assert (snap.order_type, snap.time_in_force) == ("limit", "goodTillCanceled")
    assert snap.created_at is not None


async def test_closed_beyond_the_lookup_window(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    traded, untraded = sim.place_order(creds.api_key), sim.place_order(creds.api_key)
    sim.fill(traded)
    await adapter.cancel(creds, ref(untraded))
    for oid in (traded, untraded):
        sim.age(oid, 3601)
    # Filled more than an hour ago: Bitso's lookup is empty but the trades prove it existed and traded.
    with pytest.raises(GatewayError) as caught:
        await adapter.get_order(creds, ref(traded))
    assert caught.value.error_type is ErrorType.orderNotCancelable
    assert sim.count(creds.api_key, "trades") == 1
    # Cancelled without fills more than an hour ago: Bitso keeps nothing that shows it (a documented limit).
    assert await adapter.get_order(creds, ref(untraded)) is None


async def test_unknown_order_lookup_is_none(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    assert await adapter.get_order(creds, ref("qqqqqqqqqqqqqqqq")) is None
    # An 0312 answer to the lookup is the same "no such order".
    sim.inject(Fault("venue_error", "lookup", api_key=creds.api_key, error="0312"))
    assert await adapter.get_order(creds, ref("qqqqqqqqqqqqqqqr")) is None


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("auth", ErrorType.institutionAuthFailed),
        ("0215", ErrorType.institutionAuthFailed),
        ("0207", ErrorType.institutionAuthFailed),
        ("permission", ErrorType.institutionPermissionDenied),
        ("0213", ErrorType.institutionPermissionDenied),
        ("0216", ErrorType.institutionLocked),
        ("restricted", ErrorType.institutionRestricted),
        ("0327", ErrorType.institutionRestricted),
        ("0304", ErrorType.institutionRejected),
        ("0999", ErrorType.institutionRejected),  # an unlisted code of a 4xx category
        ("unavailable", ErrorType.institutionUnavailable),
        ("rate_limit", ErrorType.rateLimited),
    ],
)
async def test_error_codes(sim: BitsoSimulator, adapter: BitsoAdapter, error: str, kind: ErrorType) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(oid))
    assert caught.value.error_type is kind
    assert caught.value.retry_after == (60 if kind is ErrorType.rateLimited else None)
    assert_clean(caught.value, creds)
    assert sim.status(oid) is OrderStatus.inProgress


async def test_0312_on_cancel_is_unknown_order(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error="0312"))
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))


@pytest.mark.parametrize("kind", ["http_error", "garbage"])
async def test_pages_and_garbage_are_outages(sim: BitsoSimulator, adapter: BitsoAdapter, kind: str) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.api_key)
    sim.inject(Fault(kind, "cancel", api_key=creds.api_key, status=503))  # type: ignore[arg-type]
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(oid))
    assert caught.value.error_type is ErrorType.institutionUnavailable


async def test_a_wrong_secret_is_auth_failed_and_scrubbed(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    wrong = Credentials(IntegrationType.bitsoDirect, creds.api_key, "0" * 32)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(wrong, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert_clean(caught.value, wrong)


@pytest.mark.parametrize("bad", ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "abc\r\ndefghijklmn", "x" * 10_000])
async def test_ids_of_another_shape_never_reach_bitso(sim: BitsoSimulator, adapter: BitsoAdapter, bad: str) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(bad))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent


async def test_verify_credentials(sim: BitsoSimulator, adapter: BitsoAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("bitso-") and creds.api_key not in info.account_id
    assert sim.count(creds.api_key, "account_status") == 1
