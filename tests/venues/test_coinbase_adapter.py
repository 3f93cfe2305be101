"""CoinbaseAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import CancelAck, Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.coinbase.adapter import CoinbaseAdapter, _retry_after
from ordergate.venues.coinbase.simulator import CoinbaseSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.coinbase]
NEVER = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbaseSimulator, str]]:
    sim = CoinbaseSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CoinbaseSimulator, str]) -> CoinbaseSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CoinbaseSimulator, str], transport: Transport) -> CoinbaseAdapter:
    return CoinbaseAdapter(SPEC, served[1], transport)


def creds_of(account: SimAccount) -> Credentials:
    return Credentials(IntegrationType.coinbase, account.api_key, account.secret, extras=dict(account.extras))


def account(sim: CoinbaseSimulator, kind: str = "ec", *, can_trade: bool = True) -> tuple[Credentials, str]:
    issued = sim.new_credentials(kind, can_trade=can_trade)
    return creds_of(issued), issued.api_key


def ref(order_id: str, side: OrderSide | None = OrderSide.buy) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True, side=side)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    parts = (error, getattr(error, "error_data", None), getattr(error, "display_message", None))
    text = " ".join(str(v) for v in parts)
    assert creds.secret not in text


@pytest.mark.parametrize("kind", ["ec", "ed25519", "oauth"])
async def test_cancel_open_order_is_exactly_one_request(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter, kind: str
) -> None:
    creds, label = account(sim, kind)
    order_id = sim.place_order(label)
    total, sent = sim.total_requests, adapter.transport.requests_sent

    ack = await adapter.cancel(creds, ref(order_id))

    # Coinbase's success is "the cancel request was submitted": accepted, not confirmed, so inProgress.
    assert ack == CancelAck(order_id, OrderStatus.inProgress, 200)
    assert sim.order(order_id)["status"] == "CANCELLED"
    assert (sim.count(label, "batch_cancel"), sim.total_requests - total, adapter.transport.requests_sent - sent) == (
        1,
        1,
        1,
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("UNKNOWN_CANCEL_ORDER", UnknownOrderAtVenue),
        ("INVALID_CANCEL_REQUEST", UnknownOrderAtVenue),
        ("COMMANDER_REJECTED_CANCEL_ORDER", UnknownOrderAtVenue),
        ("DUPLICATE_CANCEL_REQUEST", OrderStatus.inProgress),
        ("ORDER_IS_FULLY_FILLED", ErrorType.orderNotCancelable),
        ("NOT_ALLOWED_TO_CANCEL", ErrorType.institutionPermissionDenied),
        ("ORDER_IS_BEING_REPLACED", ErrorType.institutionRejected),
        ("INVALID_CANCEL_PRODUCT_ID", ErrorType.institutionRejected),
        ("INVALID_CANCEL_FCM_TRADING_SESSION", ErrorType.institutionRejected),
        ("UNKNOWN_CANCEL_FAILURE_REASON", ErrorType.institutionUnavailable),  # success false, no reason given
    ],
)
async def test_each_failure_reason_inside_http_200(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter, reason: str, expected: object
) -> None:
    creds, label = account(sim)
    order_id = sim.place_order(label)
    sim.inject(Fault("venue_error", "batch_cancel", api_key=label, error=reason))

    if expected is UnknownOrderAtVenue:
        with pytest.raises(UnknownOrderAtVenue) as unknown:
            await adapter.cancel(creds, ref(order_id))
        assert (unknown.value.upstream_status, unknown.value.venue_message) == (200, reason)
    elif isinstance(expected, OrderStatus):
        assert await adapter.cancel(creds, ref(order_id)) == CancelAck(order_id, expected, 200)
    else:
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(creds, ref(order_id))
        assert (caught.value.error_type, caught.value.upstream_status) == (expected, 200)
        if expected is ErrorType.orderNotCancelable:
            assert caught.value.error_data == {"orderStatus": "success", "orderId": order_id}
        assert_clean(caught.value, creds)
    assert sim.order(order_id)["status"] == "OPEN"  # the refused cancel did nothing at the venue
    assert sim.count(label, "batch_cancel") == 1 and sim.count(label, "get_order") == 0


@pytest.mark.parametrize("state", ["cancelled", "expired", "never placed", "another account's"])
async def test_cancel_of_a_gone_or_unknown_order_is_unknown_order(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter, state: str
) -> None:
    creds, label = account(sim)
    order_id = sim.place_order(label if state != "another account's" else account(sim)[1])
    if state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "expired":
        sim.expire(order_id)
    elif state == "never placed":
        order_id = NEVER
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert caught.value.venue_message == "UNKNOWN_CANCEL_ORDER"


async def test_cancel_of_a_filled_order_is_a_definite_409_without_a_lookup(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter
) -> None:
    creds, label = account(sim)
    order_id = sim.place_order(label)
    sim.fill(order_id)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert caught.value.error_type is ErrorType.orderNotCancelable
    assert caught.value.error_data["orderStatus"] == "success"
    assert (sim.count(label, "batch_cancel"), sim.count(label, "get_order")) == (1, 0)


async def test_a_cancel_already_queued_answers_duplicate_and_is_in_progress(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter
) -> None:
    creds, label = account(sim)
    order_id = sim.place_order(label)
    sim.inject(Fault("pending", "batch_cancel", api_key=label, seconds=30.0))
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.inProgress
    snapshot = await adapter.get_order(creds, ref(order_id))
    assert snapshot is not None
    assert (snapshot.venue_status, snapshot.status) == ("CANCEL_QUEUED", OrderStatus.inProgress)

    assert await adapter.cancel(creds, ref(order_id)) == CancelAck(order_id, OrderStatus.inProgress, 200)


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "OPEN", 0.0),
        ("partial", OrderStatus.partiallyFilled, "OPEN", 0.4),
        ("filled", OrderStatus.success, "FILLED", 1.0),
        ("cancelled", OrderStatus.cancelled, "CANCELLED", 0.0),
        ("expired", OrderStatus.expired, "EXPIRED", 0.0),
    ],
)
async def test_get_order_maps_each_state_and_fills_the_snapshot(
    sim: CoinbaseSimulator,
    adapter: CoinbaseAdapter,
    state: str,
    status: OrderStatus,
    venue_status: str,
    filled: float,
) -> None:
    creds, label = account(sim)
    order_id = sim.place_order(label, product_id="ETH-EUR", side="SELL", base_size="1", limit_price="2500")
    {"partial": lambda: sim.fill(order_id, "0.4"), "filled": lambda: sim.fill(order_id)}.get(state, lambda: None)()
    if state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "expired":
        sim.expire(order_id)
    venue = sim.order(order_id)

    snapshot = await adapter.get_order(creds, ref(order_id, OrderSide.buy))

    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (order_id, status, venue_status)
    assert (snapshot.amount, snapshot.filled, snapshot.value) == (1.0, filled, filled * 2500)
    # Coinbase names the side itself, and it wins over what the client sent.
    assert (snapshot.side, snapshot.symbol, snapshot.payment_symbol, snapshot.symbol_pair) == (
        OrderSide.sell,
        "ETH",
        "EUR",
        "ETH-EUR",
    )
    assert (snapshot.price, snapshot.fee) == (2500.0, float(venue["total_fees"]))
    assert (snapshot.order_type, snapshot.time_in_force) == ("limit", "goodTillCanceled")
    assert snapshot.created_at is not None and abs(snapshot.created_at - time.time()) < 3600
    assert snapshot.updated_at is not None and snapshot.updated_at >= snapshot.created_at
    assert sim.count(label, "get_order") == 1


@pytest.mark.parametrize("whose", ["never placed", "another account's", "malformed"])
async def test_get_order_of_an_order_coinbase_does_not_have_is_none(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter, whose: str
) -> None:
    creds, label = account(sim)
    order_id = {"never placed": NEVER, "another account's": sim.place_order(account(sim)[1])}.get(whose, "not-a-uuid")
    if whose == "malformed":
        sim.inject(Fault("venue_error", "get_order", api_key=label, error="INVALID_ARGUMENT"))
    assert await adapter.get_order(creds, ref(order_id)) is None
    assert sim.count(label, "get_order") == 1


REQUEST_ERRORS: list[tuple[str, dict[str, object], ErrorType, int]] = [
    ("venue_error", {"error": "auth"}, ErrorType.institutionAuthFailed, 401),
    ("venue_error", {"error": "permission"}, ErrorType.institutionPermissionDenied, 403),
    ("venue_error", {"error": "rate_limit"}, ErrorType.rateLimited, 429),
    ("venue_error", {"error": "unavailable"}, ErrorType.institutionUnavailable, 500),
    ("venue_error", {"error": "INVALID_ARGUMENT"}, ErrorType.institutionRejected, 400),
    ("http_error", {"status": 429}, ErrorType.rateLimited, 429),  # Coinbase's edge sometimes sends an HTML 429
    ("http_error", {"status": 502}, ErrorType.institutionUnavailable, 502),
    ("http_error", {"status": 404}, ErrorType.institutionUnavailable, 404),
    ("garbage", {}, ErrorType.institutionUnavailable, 200),  # an unreadable 200 is never a success
]


@pytest.mark.parametrize(("kind", "options", "expected", "http"), REQUEST_ERRORS)
async def test_request_level_failures(
    sim: CoinbaseSimulator,
    adapter: CoinbaseAdapter,
    kind: str,
    options: dict[str, object],
    expected: ErrorType,
    http: int,
) -> None:
    creds, label = account(sim, "ed25519")
    order_id = sim.place_order(label)
    sim.inject(Fault(kind, "batch_cancel", api_key=label, **options))  # type: ignore[arg-type]
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (expected, http)
    if expected is ErrorType.rateLimited:
        assert caught.value.retry_after == 1  # the next whole second (x-ratelimit-reset), or the 1 s default
    assert sim.order(order_id)["status"] == "OPEN"
    assert_clean(caught.value, creds)


def test_retry_after_prefers_retry_after_then_the_reset_header() -> None:
    assert _retry_after({"Retry-After": "7", "x-ratelimit-reset": "99"}) == 7
    assert _retry_after({"x-ratelimit-reset": "2.5"}) == 3  # seconds, rounded up
    in_an_hour = _retry_after({"x-ratelimit-reset": str(int(time.time()) + 3600)})  # a Unix time
    assert 3590 <= in_an_hour <= 3600
    assert _retry_after({"x-ratelimit-reset": str(int(time.time()) - 60)}) == 1  # already past
    assert _retry_after({}) == 1


async def test_rejected_signature_and_token_are_auth_failed(sim: CoinbaseSimulator, adapter: CoinbaseAdapter) -> None:
    creds, label = account(sim)
    impostor = Credentials(IntegrationType.coinbase, creds.api_key, sim.new_credentials("ec").secret)
    oauth, _ = account(sim, "oauth")
    stale = Credentials(IntegrationType.coinbase, "oauth", "revoked-" + oauth.secret, extras={"kind": "oauth"})
    order_id = sim.place_order(label)
    for bad in (impostor, stale):
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(bad, ref(order_id))
        assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionAuthFailed, 401)
        assert_clean(caught.value, bad)
        if bad is impostor:
            assert sim.rejections[-1] == "bad signature"
    assert sim.order(order_id)["status"] == "OPEN"


@pytest.mark.parametrize(("kind", "extras"), [("ec", {"kind": "es256"}), ("ed25519", {"kind": "ed25519"})])
async def test_verify_reads_key_permissions_once(
    sim: CoinbaseSimulator, adapter: CoinbaseAdapter, kind: str, extras: dict[str, str]
) -> None:
    creds, label = account(sim, kind)
    info = await adapter.verify_credentials(Credentials(IntegrationType.coinbase, creds.api_key, creds.secret), None)
    assert info.extras == extras and info.account_id.startswith("coinbase-portfolio-")
    assert len(info.account_id) > len("coinbase-portfolio-") + 30
    assert (sim.count_key(label), sim.count(label, "key_permissions")) == (1, 1)


async def test_verify_refuses_a_key_that_cannot_trade(sim: CoinbaseSimulator, adapter: CoinbaseAdapter) -> None:
    creds, _ = account(sim, can_trade=False)
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(creds, None)
    assert caught.value.error_type is ErrorType.institutionPermissionDenied


async def test_verify_an_oauth_token_with_the_user_endpoint(sim: CoinbaseSimulator, adapter: CoinbaseAdapter) -> None:
    creds, label = account(sim, "oauth")
    as_authenticate_sends_it = Credentials(IntegrationType.coinbase, "oauth", creds.secret)
    info = await adapter.verify_credentials(as_authenticate_sends_it, None)
    assert info.extras == {"kind": "oauth"} and info.account_id.startswith("coinbase-user-")
    assert sim.count(label, "user") == 1
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(Credentials(IntegrationType.coinbase, "oauth", "nope"), None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed


@pytest.mark.parametrize("secret", ["not-a-key", "c2hvcnQ="])
async def test_an_unusable_private_key_sends_nothing(adapter: CoinbaseAdapter, secret: str) -> None:
    sent = adapter.transport.requests_sent
    creds = Credentials(IntegrationType.coinbase, "organizations/o/apiKeys/k", secret)
    for call in (adapter.verify_credentials(creds, None), adapter.cancel(creds, ref(NEVER))):
        with pytest.raises(GatewayError) as caught:
            await call
        assert caught.value.error_type is ErrorType.institutionAuthFailed
        assert_clean(caught.value, creds)
    assert adapter.transport.requests_sent == sent


@pytest.mark.parametrize("order_id", ["", "   ", "x" * 200])
async def test_ids_that_name_no_order_are_refused_before_sending(adapter: CoinbaseAdapter, order_id: str) -> None:
    creds = Credentials(IntegrationType.coinbase, "oauth", "t", extras={"kind": "oauth"})
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent
