"""BybitAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.bybit.adapter import BybitAdapter
from ordergate.venues.bybit.simulator import BybitSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bybit]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BybitSimulator, str]]:
    sim = BybitSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BybitSimulator, str]) -> BybitSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BybitSimulator, str], transport: Transport) -> BybitAdapter:
    return BybitAdapter(SPEC, served[1], transport)


def account(sim: BybitSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.bybit, key.api_key, key.secret)


def ref(order_id: str, symbol_pair: str | None = "BTCUSDT") -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True, symbol_pair=symbol_pair)


def ops(sim: BybitSimulator, creds: Credentials, since: int) -> list[str]:
    return [s.op for s in list(sim.seen) if s.api_key == creds.api_key][since:]


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", "")))
    assert creds.api_key not in text and creds.secret not in text


@pytest.mark.parametrize("pair", ["BTCUSDT", "BTC/USDT", "btc-usdt"])
async def test_cancel_with_symbol_is_one_request(sim: BybitSimulator, adapter: BybitAdapter, pair: str) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sent = adapter.transport.requests_sent

    ack = await adapter.cancel(creds, ref(order_id, pair))

    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.inProgress, 200)
    assert adapter.transport.requests_sent - sent == 1 and sim.count_key(creds.api_key) == 1
    seen = sim.seen[-1]
    assert (seen.op, seen.ret_code, seen.params) == (
        "cancel",
        0,
        {"category": "spot", "symbol": "BTCUSDT", "orderId": order_id},
    )
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_cancel_without_symbol_finds_the_order_first(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, symbol="ETHUSDT")
    ack = await adapter.cancel(creds, ref(order_id, None))
    assert ack.status is OrderStatus.inProgress
    assert ops(sim, creds, 0) == ["realtime", "cancel"]  # exactly two requests
    assert sim.seen[-1].params["symbol"] == "ETHUSDT"
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed"])
async def test_cancel_without_symbol_of_a_final_or_unknown_order_sends_no_cancel(
    sim: BybitSimulator, adapter: BybitAdapter, state: str
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key) if state != "never placed" else "1999999999999999999"
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    before = sim.count_key(creds.api_key)
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(order_id, None))
    assert ops(sim, creds, before) == ["realtime"]


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's", "on another symbol"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: BybitSimulator, adapter: BybitAdapter, state: str
) -> None:
    creds = account(sim)
    owner = creds.api_key if state != "another account's" else account(sim).api_key
    order_id = sim.place_order(owner, symbol="ETHUSDT" if state == "on another symbol" else "BTCUSDT")
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "never placed":
        order_id = "1999999999999999999"
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.upstream_status, caught.value.venue_message) == (200, "retCode 170213: Order does not exist.")


@pytest.mark.parametrize(
    ("order_id", "pair", "field"),
    [("", "BTCUSDT", "id"), ("12 34", "BTCUSDT", "id"), ("1" * 65, "BTCUSDT", "id"), ("../v5", None, "id"),
     ("123", "BTC USDT", "symbolPair"), ("123", "BTC/USDT/X!", "symbolPair")],
)  # fmt: skip
async def test_malformed_ids_and_symbols_are_refused_before_sending(
    sim: BybitSimulator, adapter: BybitAdapter, order_id: str, pair: str | None, field: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id, pair))
        assert caught.value.error_type is ErrorType.invalidField
        assert list(caught.value.error_data["fields"]) == [field]
    assert adapter.transport.requests_sent == sent


async def test_pending_cancel_settles_later(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", "cancel", api_key=creds.api_key, seconds=0.5))
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.inProgress
    # Accepted is not done: the order is still live until Bybit's engine gets to it.
    assert (await adapter.get_order(creds, ref(order_id))).status is OrderStatus.inProgress
    for _ in range(300):
        if sim.status(order_id) is OrderStatus.cancelled:
            break
        await asyncio.sleep(0.01)
    assert (await adapter.get_order(creds, ref(order_id))).status is OrderStatus.cancelled


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "New", 0.0),
        ("partial", OrderStatus.partiallyFilled, "PartiallyFilled", 0.4),
        ("filled", OrderStatus.success, "Filled", 1.0),
        ("cancelled", OrderStatus.cancelled, "Cancelled", 0.0),
        ("partial then cancelled", OrderStatus.cancelled, "PartiallyFilledCanceled", 0.4),
    ],
)
async def test_get_order_maps_each_state(
    sim: BybitSimulator, adapter: BybitAdapter, state: str, status: OrderStatus, venue_status: str, filled: float
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, qty="1", price="30000")
    if state.startswith("partial"):
        sim.fill(order_id, "0.4")
    if state == "filled":
        sim.fill(order_id)
    if "cancelled" in state:
        await adapter.cancel(creds, ref(order_id))

    snapshot = await adapter.get_order(creds, ref(order_id, None))

    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (order_id, status, venue_status)
    assert (snapshot.amount, snapshot.filled, snapshot.value) == (1.0, filled, filled * 30000)
    assert (snapshot.symbol, snapshot.payment_symbol, snapshot.symbol_pair) == ("BTC", "USDT", "BTCUSDT")
    assert (snapshot.side, snapshot.price, snapshot.order_type, snapshot.time_in_force) == (
        OrderSide.buy,
        30000.0,
        "limit",
        "goodTillCanceled",
    )
    assert snapshot.fee == (pytest.approx(filled * 0.001) if filled else None)
    assert snapshot.created_at and abs(snapshot.created_at - time.time()) < 3600
    assert sim.seen[-1].params == {"category": "spot", "orderId": order_id}


async def test_get_order_falls_back_to_history_after_a_bybit_restart(
    sim: BybitSimulator, adapter: BybitAdapter
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.fill(order_id)
    sim.restart()
    before = sim.count_key(creds.api_key)
    snapshot = await adapter.get_order(creds, ref(order_id))
    assert snapshot is not None and snapshot.status is OrderStatus.success
    assert ops(sim, creds, before) == ["realtime", "history"]


async def test_get_order_of_an_order_bybit_does_not_have_is_none(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    foreign = sim.place_order(account(sim).api_key)
    for order_id in ("1999999999999999999", foreign):
        assert await adapter.get_order(creds, ref(order_id)) is None
    assert ops(sim, creds, 0) == ["realtime", "history"] * 2


async def test_get_order_with_the_wrong_symbol_names_the_right_one(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, symbol="ETHUSDT")
    with pytest.raises(GatewayError) as caught:
        await adapter.get_order(creds, ref(order_id, "BTC/USDT"))
    assert caught.value.error_type is ErrorType.invalidField
    assert caught.value.error_data == {"fields": {"symbolPair": "the order is on ETHUSDT"}}


RET_CODES: list[tuple[str, ErrorType | type[Exception], tuple[int | None, ...]]] = [
    ("110001", UnknownOrderAtVenue, ()),
    ("110008", UnknownOrderAtVenue, ()),
    ("110010", UnknownOrderAtVenue, ()),
    ("170213", UnknownOrderAtVenue, ()),
    ("10000", OutcomeUnknown, ()),
    ("170147", OutcomeUnknown, ()),
    ("10001", ErrorType.institutionRejected, (None,)),
    ("10002", ErrorType.institutionAuthFailed, (None,)),
    ("10003", ErrorType.institutionAuthFailed, (None,)),
    ("10004", ErrorType.institutionAuthFailed, (None,)),
    ("10005", ErrorType.institutionPermissionDenied, (None,)),
    ("10010", ErrorType.institutionPermissionDenied, (None,)),
    ("10006", ErrorType.rateLimited, (2, 3)),  # from X-Bapi-Limit-Reset-Timestamp, 3 s ahead
    ("10018", ErrorType.rateLimited, (1,)),  # no reset header: the one-second window
    ("170005", ErrorType.rateLimited, (1,)),
    ("10009", ErrorType.institutionLocked, (600,)),
    ("10008", ErrorType.institutionLocked, (None,)),
    ("10027", ErrorType.institutionLocked, (None,)),
    ("10016", ErrorType.institutionUnavailable, (None,)),
    ("170191", ErrorType.institutionUnavailable, (None,)),
    ("10024", ErrorType.institutionRestricted, (None,)),
    ("99999", ErrorType.institutionUnavailable, (None,)),  # a code Bybit adds later is never success
]


@pytest.mark.parametrize(("code", "expected", "retry_after"), RET_CODES)
async def test_each_ret_code_on_cancel_maps_to_its_meaning(
    sim: BybitSimulator,
    adapter: BybitAdapter,
    code: str,
    expected: ErrorType | type[Exception],
    retry_after: tuple[int | None, ...],
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=code))

    with pytest.raises((GatewayError, OutcomeUnknown, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(order_id))

    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.upstream_status) == (expected, 200)
        assert caught.value.retry_after in retry_after
        assert f"retCode {code}" in caught.value.message
    else:
        assert type(caught.value) is expected
    assert sim.status(order_id) is OrderStatus.inProgress
    assert_clean(caught.value, creds)


async def test_a_cancel_already_in_progress_is_acknowledged(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error="170212"))
    ack = await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert (ack.status, ack.upstream_status) == (OrderStatus.inProgress, 200)


@pytest.mark.parametrize(
    ("fault", "expected", "retry_after"),
    [
        (Fault("venue_error", "cancel", error="ip_limit"), ErrorType.rateLimited, 600),
        (Fault("venue_error", "cancel", error="geo_block"), ErrorType.institutionRestricted, None),
        (Fault("http_error", "cancel", status=401), ErrorType.institutionAuthFailed, None),
        (Fault("http_error", "cancel", status=429), ErrorType.rateLimited, 1),
        (Fault("http_error", "cancel", status=502), ErrorType.institutionUnavailable, None),
        (Fault("http_error", "cancel", status=200), ErrorType.institutionUnavailable, None),  # HTML with 200
    ],
)
async def test_http_level_answers(
    sim: BybitSimulator, adapter: BybitAdapter, fault: Fault, expected: ErrorType, retry_after: int | None
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault(fault.kind, fault.op, api_key=creds.api_key, status=fault.status, error=fault.error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_errors_on_lookups(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    for code, expected in (("10000", ErrorType.institutionUnavailable), ("10006", ErrorType.rateLimited)):
        sim.inject(Fault("venue_error", "realtime", api_key=creds.api_key, error=code))
        with pytest.raises(GatewayError) as caught:
            await adapter.get_order(creds, ref(order_id))
        assert caught.value.error_type is expected
    sim.inject(Fault("venue_error", "realtime", api_key=creds.api_key, error="110001"))
    assert (await adapter.get_order(creds, ref(order_id))).status is OrderStatus.inProgress  # found in history


async def test_wrong_secret_is_auth_failed_and_the_echoed_key_is_redacted(
    sim: BybitSimulator, adapter: BybitAdapter
) -> None:
    creds = account(sim)
    wrong = Credentials(IntegrationType.bybit, creds.api_key, account(sim).secret)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(wrong, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert "error sign! origin_string[" in caught.value.message and "<redacted>" in caught.value.message
    assert_clean(caught.value, wrong)


async def test_a_clock_off_by_more_than_the_window_is_10002(served: tuple[BybitSimulator, str], transport) -> None:
    sim, url = served
    slow = BybitAdapter(SPEC, url, transport, clock=lambda: time.time_ns() // 1_000_000 - 10_000)
    creds = account(sim)
    with pytest.raises(GatewayError) as caught:
        await slow.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert "retCode 10002" in caught.value.message and "clock" in caught.value.message


async def test_lost_answer_after_the_cancel_took_effect_is_outcome_unknown(
    served: tuple[BybitSimulator, str], sim: BybitSimulator
) -> None:
    impatient = Transport(timeout_s=0.3)
    adapter = BybitAdapter(SPEC, served[1], impatient)
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("delay_after", "cancel", api_key=creds.api_key, seconds=1.0))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds, ref(order_id))
    finally:
        await impatient.close()
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_dropped_connection_is_outcome_unknown_and_nothing_happened(
    sim: BybitSimulator, adapter: BybitAdapter
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("reset", "cancel", api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    assert sim.status(order_id) is OrderStatus.inProgress


@pytest.fixture(scope="module")
def odd_venue() -> Iterator[tuple[list[dict], str]]:
    """Answers whatever JSON the test queues: shapes a broken or changed Bybit could send."""
    queued: list[dict] = []

    async def endpoint(_request):
        return JSONResponse(queued.pop(0))

    app = Starlette(routes=[Route("/v5/order/cancel", endpoint, methods=["POST"])])
    with serve_asgi(app) as url:
        yield queued, url


@pytest.mark.parametrize(
    "answer",
    [
        {"retMsg": "OK", "result": {"orderId": "123"}},  # no retCode
        {"retCode": "0", "retMsg": "OK", "result": {"orderId": "123"}},  # retCode not a number
        {"retCode": 0, "retMsg": "OK", "result": None},
        {"retCode": 0, "retMsg": "OK", "result": {"orderId": "456"}},  # acknowledges another order
        {"retCode": 0, "retMsg": "OK", "result": {}},
    ],
)
async def test_an_answer_that_is_not_a_clear_success_is_never_success(
    odd_venue: tuple[list[dict], str], transport: Transport, answer: dict
) -> None:
    queued, url = odd_venue
    queued.append(answer)
    with pytest.raises(GatewayError) as caught:
        await BybitAdapter(SPEC, url, transport).cancel(
            Credentials(IntegrationType.bybit, "k" * 18, "s" * 36), ref("123")
        )
    assert caught.value.error_type is ErrorType.institutionUnavailable


async def test_verify_credentials(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("bybit-1") and creds.api_key not in info.account_id
    assert (info.account_name, info.extras) == ("Bybit", {})
    assert ops(sim, creds, 0) == ["query-api"]


async def test_verify_credentials_rejections(sim: BybitSimulator, adapter: BybitAdapter) -> None:
    creds = account(sim)
    read_only = account(sim, can_trade=False)
    cases = {
        ErrorType.institutionAuthFailed: [
            Credentials(IntegrationType.bybit, creds.api_key, account(sim).secret),
            Credentials(IntegrationType.bybit, "unknownkey00000000", creds.secret),
        ],
        ErrorType.institutionPermissionDenied: [read_only],
    }
    for expected, attempts in cases.items():
        for attempt in attempts:
            with pytest.raises(GatewayError) as caught:
                await adapter.verify_credentials(attempt, None)
            assert caught.value.error_type is expected
            assert_clean(caught.value, attempt)


@pytest.mark.parametrize(
    "integration", [IntegrationType.bybit, IntegrationType.bybitDirect, IntegrationType.bybitDirectMobile]
)
async def test_registry_routes_every_bybit_type_and_uses_the_testnet(integration: IntegrationType) -> None:
    transport = Transport(timeout_s=1.0)
    production = VenueRegistry(transport).adapter(integration)
    testnet = VenueRegistry(transport, testnet=True).adapter(integration)
    assert isinstance(production, BybitAdapter) and isinstance(testnet, BybitAdapter)
    assert (production.base_url, production.testnet) == ("https://api.bybit.com", False)
    assert (testnet.base_url, testnet.testnet) == ("https://api-testnet.bybit.com", True)
    assert SPECS[integration].oracle == "pybit" and SPECS[integration].requests_per_cancel == 1
    await transport.close()
