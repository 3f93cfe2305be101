"""HuobiAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.huobi.adapter import HuobiAdapter
from ordergate.venues.huobi.simulator import HuobiSimulator
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.huobi]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[HuobiSimulator, str]]:
    sim = HuobiSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[HuobiSimulator, str]) -> HuobiSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[HuobiSimulator, str], transport: Transport) -> HuobiAdapter:
    return HuobiAdapter(SPEC, served[1], transport)


def account(sim: HuobiSimulator, *, can_trade: bool = True) -> Credentials:
    issued = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.huobi, issued.api_key, issued.secret)


def place(sim: HuobiSimulator, creds: Credentials, volume: str = "1") -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret), volume=volume, price="20000")[0]


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def test_the_registry_builds_this_adapter() -> None:
    built = VenueRegistry(Transport(timeout_s=1)).adapter(IntegrationType.huobi)
    assert isinstance(built, HuobiAdapter) and built.base_url == "https://api.huobi.pro"


async def test_cancel_is_one_acknowledged_request(sim: HuobiSimulator, adapter: HuobiAdapter) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    total, sent = sim.total_requests, adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.inProgress, 200)
    assert (sim.total_requests - total, adapter.transport.requests_sent - sent) == (1, 1)
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_a_simulator_mounted_under_a_prefix_checks_the_full_path(transport: Transport) -> None:
    # What the sandbox does: the venue under /sandbox/huobi. The client signs the path it calls, prefix included.
    sim = HuobiSimulator()
    app = Starlette(routes=[Mount("/sandbox/huobi", sim.app)])
    with serve_asgi(app) as url:
        creds = account(sim)
        order_id = place(sim, creds)
        mounted = HuobiAdapter(SPEC, url + "/sandbox/huobi", transport)
        assert (await mounted.verify_credentials(creds, None)).account_id.startswith("huobi-")
        assert (await mounted.cancel(creds, ref(order_id))).status is OrderStatus.inProgress
        # Signed for the path without the prefix, the same request is refused.
        stripped = HuobiAdapter(SPEC, url + "/sandbox/huobi", transport)
        stripped._prefix = ""
        with pytest.raises(GatewayError) as caught:
            await stripped.verify_credentials(creds, None)
        assert caught.value.error_type is ErrorType.institutionAuthFailed


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "submitted", 0.0),
        ("partial", OrderStatus.partiallyFilled, "partial-filled", 0.4),
        ("filled", OrderStatus.success, "filled", 1.0),
        ("cancelled", OrderStatus.cancelled, "canceled", 0.0),
        ("cancelled after a fill", OrderStatus.cancelled, "partial-canceled", 0.4),
    ],
)
async def test_get_order_maps_each_state(
    sim: HuobiSimulator, adapter: HuobiAdapter, state: str, status: OrderStatus, venue_status: str, filled: float
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    if state in ("partial", "cancelled after a fill"):
        sim.fill(order_id, "0.4")
    if state == "filled":
        sim.fill(order_id)
    if state.startswith("cancelled"):
        await adapter.cancel(creds, ref(order_id))
    snapshot = await adapter.get_order(creds, ref(order_id))
    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status, snapshot.filled) == (
        order_id,
        status,
        venue_status,
        filled,
    )
    assert (snapshot.amount, snapshot.side, snapshot.symbol_pair, snapshot.symbol, snapshot.payment_symbol) == (
        1.0,
        OrderSide.buy,
        "btcusdt",
        "BTC",
        "USDT",
    )
    assert (snapshot.price, snapshot.order_type, snapshot.time_in_force) == (20000.0, "limit", "goodTillCanceled")
    assert snapshot.value == filled * 20000
    assert snapshot.created_at and snapshot.updated_at and snapshot.updated_at >= snapshot.created_at


async def test_get_order_of_unknown_or_foreign_orders_is_none(sim: HuobiSimulator, adapter: HuobiAdapter) -> None:
    creds = account(sim)
    assert await adapter.get_order(creds, ref(place(sim, account(sim)))) is None
    assert await adapter.get_order(creds, ref("999999999999999")) is None


CANCEL_ANSWERS: list[tuple[str, ErrorType | type[Exception], int | None]] = [
    ("base-record-invalid", UnknownOrderAtVenue, None),
    ("order-queryorder-invalid", UnknownOrderAtVenue, None),
    ("order-orderstate-error:6", UnknownOrderAtVenue, None),
    ("order-orderstate-error:7", UnknownOrderAtVenue, None),
    ("order-orderstate-error:5", UnknownOrderAtVenue, None),
    ("order-orderstate-error", UnknownOrderAtVenue, None),
    ("timeout", OutcomeUnknown, None),
    ("auth", ErrorType.institutionAuthFailed, None),
    ("api-signature-check-failed", ErrorType.institutionAuthFailed, None),
    ("login-required", ErrorType.institutionAuthFailed, None),
    ("permission", ErrorType.institutionPermissionDenied, None),
    ("rate_limit", ErrorType.rateLimited, 2),
    ("rate-too-many-requests", ErrorType.rateLimited, 2),
    ("system-maintenance", ErrorType.institutionUnavailable, None),
    ("something-htx-added", ErrorType.institutionUnavailable, None),
    ("validation-format-error", ErrorType.institutionRejected, None),
]


@pytest.mark.parametrize(("error", "expected", "retry_after"), CANCEL_ANSWERS)
async def test_each_htx_answer_on_cancel_maps_to_its_meaning(
    sim: HuobiSimulator,
    adapter: HuobiAdapter,
    error: str,
    expected: ErrorType | type[Exception],
    retry_after: int | None,
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("venue_error", "submitcancel", api_key=creds.api_key, error=error))
    with pytest.raises((GatewayError, UnknownOrderAtVenue, OutcomeUnknown)) as caught:
        await adapter.cancel(creds, ref(order_id))
    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after, caught.value.upstream_status) == (
            expected,
            retry_after,
            200,  # HTX's errors come inside HTTP 200
        )
    else:
        assert type(caught.value) is expected
    assert sim.status(order_id) is OrderStatus.inProgress
    for secret in (creds.api_key, creds.secret):
        assert secret not in str(caught.value)


async def test_order_state_cancelling_is_an_acknowledgement(sim: HuobiSimulator, adapter: HuobiAdapter) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("venue_error", "submitcancel", api_key=creds.api_key, error="order-orderstate-error:10"))
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.inProgress


@pytest.mark.parametrize(("kind", "status"), [("http_error", 502), ("http_error", 429), ("garbage", 200)])
async def test_pages_that_are_not_htx_answers(
    sim: HuobiSimulator, adapter: HuobiAdapter, kind: str, status: int
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault(kind, "submitcancel", api_key=creds.api_key, status=status))  # type: ignore[arg-type]
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    expected = ErrorType.rateLimited if status == 429 else ErrorType.institutionUnavailable
    assert (caught.value.error_type, caught.value.upstream_status) == (expected, status)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_verify_credentials(sim: HuobiSimulator, adapter: HuobiAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id == f"huobi-{sim.describe(place(sim, creds))['account-id']}"
    assert sim.count(creds.api_key, "accounts") == 1
    for bad in (dataclasses.replace(creds, secret=account(sim).secret), dataclasses.replace(creds, api_key="x-y")):
        with pytest.raises(GatewayError) as caught:
            await adapter.verify_credentials(bad, None)
        assert caught.value.error_type is ErrorType.institutionAuthFailed
        assert bad.secret not in caught.value.message


async def test_a_clock_off_by_more_than_five_minutes_is_refused(served: tuple[HuobiSimulator, str]) -> None:
    sim, url = served
    transport = Transport(timeout_s=2)
    late = HuobiAdapter(SPEC, url, transport, clock=lambda: time.time() - 301)
    try:
        with pytest.raises(GatewayError) as caught:
            await late.verify_credentials(account(sim), None)
    finally:
        await transport.close()
    assert caught.value.error_type is ErrorType.institutionAuthFailed and "clock" in caught.value.message
