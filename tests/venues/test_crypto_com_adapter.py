"""CryptoComAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.crypto_com.adapter import CryptoComAdapter
from ordergate.venues.crypto_com.constants import ORDER_ID_SHAPE
from ordergate.venues.crypto_com.simulator import CryptoComSimulator
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.cryptoCom]
CANCEL, DETAIL = "private/cancel-order", "private/get-order-detail"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CryptoComSimulator, str]]:
    sim = CryptoComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CryptoComSimulator, str]) -> CryptoComSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CryptoComSimulator, str], transport: Transport) -> CryptoComAdapter:
    return CryptoComAdapter(SPEC, served[1], transport)


def account(sim: CryptoComSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.cryptoCom, key.api_key, key.secret)


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def ops(sim: CryptoComSimulator, creds: Credentials, since: int = 0) -> list[str]:
    return [s.op for s in list(sim.seen) if s.api_key == creds.api_key][since:]


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", "")))
    assert creds.api_key not in text and creds.secret not in text


async def test_cancel_is_one_request_and_only_acknowledged(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sent = adapter.transport.requests_sent

    ack = await adapter.cancel(creds, ref(order_id))

    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.inProgress, 200)
    assert adapter.transport.requests_sent - sent == 1 and sim.count_key(creds.api_key) == 1
    seen = sim.seen[-1]
    assert (seen.op, seen.code, seen.params) == (CANCEL, 0, {"order_id": order_id})
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: CryptoComSimulator, adapter: CryptoComAdapter, state: str
) -> None:
    creds = account(sim)
    owner = creds.api_key if state != "another account's" else account(sim).api_key
    order_id = sim.place_order(owner)
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "never placed":
        order_id = "1999999999999999999"
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    expected = (
        (500, "code 316: NO_ACTIVE_ORDER") if state in ("filled", "cancelled") else (200, "code 40401: NOT_FOUND")
    )
    assert (caught.value.upstream_status, caught.value.venue_message) == expected


@pytest.mark.parametrize(
    "order_id",
    ["", "-1", "0", "01", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n2", "1\n", " 1", "1.0", "١٢٣",
     "9223372036854775808", "12345678901234567890", "1" * 10_000],
)  # fmt: skip
async def test_malformed_ids_are_refused_before_sending(
    sim: CryptoComSimulator, adapter: CryptoComAdapter, order_id: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id))
        assert caught.value.error_type is ErrorType.invalidField
        assert list(caught.value.error_data["fields"]) == ["id"]
    assert adapter.transport.requests_sent == sent


def test_order_id_shape_is_the_documented_int64() -> None:
    pattern, example = ORDER_ID_SHAPE
    assert re.fullmatch(pattern, example) and re.fullmatch(pattern, "9223372036854775807")
    assert not re.fullmatch(pattern, "-1") and not re.fullmatch(pattern, "0")


async def test_pending_cancel_settles_later(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", CANCEL, api_key=creds.api_key, seconds=0.5))
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.inProgress
    # Accepted is not done: the order is still live until Crypto.com's engine gets to it.
    assert (await adapter.get_order(creds, ref(order_id))).status is OrderStatus.inProgress
    for _ in range(300):
        if sim.status(order_id) is OrderStatus.cancelled:
            break
        await asyncio.sleep(0.01)
    assert (await adapter.get_order(creds, ref(order_id))).status is OrderStatus.cancelled


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "ACTIVE", 0.0),
        ("partial", OrderStatus.partiallyFilled, "ACTIVE", 0.4),
        ("filled", OrderStatus.success, "FILLED", 1.0),
        ("cancelled", OrderStatus.cancelled, "CANCELED", 0.0),
        ("partial then cancelled", OrderStatus.cancelled, "CANCELED", 0.4),
    ],
)
async def test_get_order_maps_each_state(
    sim: CryptoComSimulator,
    adapter: CryptoComAdapter,
    state: str,
    status: OrderStatus,
    venue_status: str,
    filled: float,
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, quantity="1", price="30000")
    if state.startswith("partial"):
        sim.fill(order_id, "0.4")
    if state == "filled":
        sim.fill(order_id)
    if "cancelled" in state:
        await adapter.cancel(creds, ref(order_id))

    snapshot = await adapter.get_order(creds, ref(order_id))

    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (order_id, status, venue_status)
    assert (snapshot.amount, snapshot.filled, snapshot.value) == (1.0, filled, filled * 30000)
    assert (snapshot.symbol, snapshot.payment_symbol, snapshot.symbol_pair) == ("BTC", "USDT", "BTC_USDT")
    assert (snapshot.side, snapshot.price, snapshot.order_type, snapshot.time_in_force) == (
        OrderSide.buy,
        30000.0,
        "limit",
        "goodTillCanceled",
    )
    assert snapshot.fee == pytest.approx(filled * 0.0004)
    assert snapshot.created_at and abs(snapshot.created_at - time.time()) < 3600
    assert sim.seen[-1].params == {"order_id": order_id}


async def test_get_order_of_an_order_the_key_does_not_have_is_none(
    sim: CryptoComSimulator, adapter: CryptoComAdapter
) -> None:
    creds = account(sim)
    foreign = sim.place_order(account(sim).api_key)
    for order_id in ("1999999999999999999", foreign):
        assert await adapter.get_order(creds, ref(order_id)) is None
    sim.inject(Fault("venue_error", DETAIL, api_key=creds.api_key, error="212"))
    assert await adapter.get_order(creds, ref(foreign)) is None
    assert ops(sim, creds) == [DETAIL, DETAIL]  # the injected answer is not processed, so not in `seen`


CODES: list[tuple[str, ErrorType | type[Exception], int, tuple[int | None, ...]]] = [
    ("212", UnknownOrderAtVenue, 500, ()),
    ("307", UnknownOrderAtVenue, 500, ()),
    ("316", UnknownOrderAtVenue, 500, ()),
    ("40401", UnknownOrderAtVenue, 200, ()),
    ("40801", OutcomeUnknown, 408, ()),
    ("40006", OutcomeUnknown, 400, ()),
    ("40001", ErrorType.institutionRejected, 400, (None,)),
    ("40004", ErrorType.institutionRejected, 400, (None,)),
    ("40101", ErrorType.institutionAuthFailed, 401, (None,)),
    ("40102", ErrorType.institutionAuthFailed, 400, (None,)),
    ("40103", ErrorType.institutionPermissionDenied, 401, (None,)),
    ("40104", ErrorType.institutionPermissionDenied, 401, (None,)),
    ("42901", ErrorType.rateLimited, 429, (1,)),
    ("202", ErrorType.institutionLocked, 400, (None,)),
    ("50001", ErrorType.institutionUnavailable, 500, (None,)),
    # Legacy v2 codes ccxt still maps.
    ("10002", ErrorType.institutionAuthFailed, 500, (None,)),
    ("10003", ErrorType.institutionPermissionDenied, 500, (None,)),
    ("10006", ErrorType.rateLimited, 500, (1,)),
    ("99999", ErrorType.institutionUnavailable, 500, (None,)),  # a code Crypto.com adds later is never success
]


@pytest.mark.parametrize(("code", "expected", "http", "retry_after"), CODES)
async def test_each_code_on_cancel_maps_to_its_meaning(
    sim: CryptoComSimulator,
    adapter: CryptoComAdapter,
    code: str,
    expected: ErrorType | type[Exception],
    http: int,
    retry_after: tuple[int | None, ...],
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", CANCEL, api_key=creds.api_key, error=code))

    with pytest.raises((GatewayError, OutcomeUnknown, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(order_id))

    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.upstream_status) == (expected, http)
        assert caught.value.retry_after in retry_after
        assert f"code {code}" in caught.value.message
    else:
        assert type(caught.value) is expected
    assert sim.status(order_id) is OrderStatus.inProgress
    assert_clean(caught.value, creds)


@pytest.mark.parametrize(
    ("fault", "expected", "retry_after"),
    [
        (Fault("http_error", CANCEL, status=401), ErrorType.institutionAuthFailed, None),
        (Fault("http_error", CANCEL, status=429), ErrorType.rateLimited, 1),
        (Fault("http_error", CANCEL, status=502), ErrorType.institutionUnavailable, None),
        (Fault("http_error", CANCEL, status=200), ErrorType.institutionUnavailable, None),  # HTML with 200
        (Fault("garbage", CANCEL), ErrorType.institutionUnavailable, None),
    ],
)
async def test_http_level_answers(
    sim: CryptoComSimulator, adapter: CryptoComAdapter, fault: Fault, expected: ErrorType, retry_after: int | None
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault(fault.kind, fault.op, api_key=creds.api_key, status=fault.status))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_a_success_code_without_a_result_or_for_another_order_is_not_success(
    served: tuple[CryptoComSimulator, str], transport: Transport
) -> None:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    answers = iter([{"code": 0}, {"code": "0", "result": {"order_id": "42", "client_oid": "x"}}, {"code": "0"}])

    async def endpoint(_request):  # type: ignore[no-untyped-def]
        return JSONResponse({"id": 1, "method": CANCEL, **next(answers)})

    with serve_asgi(Starlette(routes=[Route(f"/{CANCEL}", endpoint, methods=["POST"])])) as url:
        odd = CryptoComAdapter(SPEC, url, transport)
        creds = Credentials(IntegrationType.cryptoCom, "k" * 22, "s" * 22)
        for _ in range(3):
            with pytest.raises(GatewayError) as caught:
                await odd.cancel(creds, ref("6142909895025252686"))
            assert caught.value.error_type is ErrorType.institutionUnavailable


async def test_wrong_secret_is_auth_failed_and_the_echoed_request_is_not_quoted(
    sim: CryptoComSimulator, adapter: CryptoComAdapter
) -> None:
    creds = account(sim)
    wrong = Credentials(IntegrationType.cryptoCom, creds.api_key, account(sim).secret)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(wrong, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    # Crypto.com's error body echoes the request (key and sig) in `original`; none of it reaches our message.
    assert "original" not in caught.value.message and "sig" not in caught.value.message
    assert_clean(caught.value, wrong)


async def test_a_clock_off_by_more_than_a_minute_is_40102(
    served: tuple[CryptoComSimulator, str], transport: Transport
) -> None:
    sim, url = served
    creds = account(sim)
    skewed = CryptoComAdapter(SPEC, url, transport, clock=lambda: int(time.time() * 1000) - 61_000)
    with pytest.raises(GatewayError) as caught:
        await skewed.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert "code 40102" in caught.value.message and "60 seconds" in caught.value.message


async def test_the_request_sent_is_the_documented_shape(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    captured: list[bytes] = []
    original = adapter.transport.send

    async def spy(method, url, *, headers, body):  # type: ignore[no-untyped-def]
        captured.append(body)
        assert (method, url.rsplit("/", 2)[-2:], headers) == (
            "POST",
            ["private", "cancel-order"],
            {"Content-Type": "application/json"},
        )
        return await original(method, url, headers=headers, body=body)

    # The adapter's transport replaced by one whose send is the spy (a compiled Transport's methods are fixed).
    real = adapter.transport
    adapter.transport = type("SpyTransport", (), {"send": staticmethod(spy)})()  # type: ignore[assignment]
    try:
        await adapter.cancel(creds, ref(order_id))
    finally:
        adapter.transport = real
    body = json.loads(captured[0])
    assert set(body) == {"id", "method", "api_key", "params", "nonce", "sig"}
    assert (body["method"], body["api_key"], body["params"]) == (CANCEL, creds.api_key, {"order_id": order_id})
    assert body["id"].isdigit() and abs(int(body["nonce"]) - time.time() * 1000) < 60_000
    assert creds.secret not in captured[0].decode()


async def test_verify_credentials(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert re.fullmatch(r"cryptocom-[0-9a-f-]{36}", info.account_id) and creds.api_key not in info.account_id
    assert (info.account_name, info.extras) == ("Crypto.com Exchange", {})
    assert ops(sim, creds) == ["private/get-accounts"]


async def test_verify_credentials_rejections(sim: CryptoComSimulator, adapter: CryptoComAdapter) -> None:
    creds = account(sim)
    for attempt in (
        Credentials(IntegrationType.cryptoCom, creds.api_key, account(sim).secret),
        Credentials(IntegrationType.cryptoCom, "0" * 22, creds.secret),
    ):
        with pytest.raises(GatewayError) as caught:
            await adapter.verify_credentials(attempt, None)
        assert caught.value.error_type is ErrorType.institutionAuthFailed
        assert_clean(caught.value, attempt)


async def test_registry_routes_crypto_com_and_uses_the_uat_sandbox() -> None:
    transport = Transport(timeout_s=1.0)
    production = VenueRegistry(transport).adapter(IntegrationType.cryptoCom)
    testnet = VenueRegistry(transport, testnet=True).adapter(IntegrationType.cryptoCom)
    assert isinstance(production, CryptoComAdapter) and isinstance(testnet, CryptoComAdapter)
    assert (production.base_url, production.testnet) == ("https://api.crypto.com/exchange/v1", False)
    assert (testnet.base_url, testnet.testnet) == ("https://uat-api.3ona.co/exchange/v1", True)
    assert SPEC.oracle == "ccxt cryptocom" and SPEC.requests_per_cancel == 1 and SPEC.key_budget == (150.0, 15)
    await transport.close()
