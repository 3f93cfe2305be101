"""CexIoAdapter over a real Transport against the simulator on a real socket (and a scripted server for answers
the simulator never gives)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.cex_io.adapter import CexIoAdapter
from ordergate.venues.cex_io.constants import ORDER_ID_SHAPE, RATE_LIMIT_WINDOW_S
from ordergate.venues.cex_io.simulator import CexIoSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.cexIo]
CANCEL, ORDERS = "do_cancel_my_order", "get_my_orders"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CexIoSimulator, str]]:
    sim = CexIoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CexIoSimulator, str]) -> CexIoSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CexIoSimulator, str], transport: Transport) -> CexIoAdapter:
    return CexIoAdapter(SPEC, served[1], transport)


def account(sim: CexIoSimulator, *, can_trade: bool = True) -> Credentials:
    issued = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.cexIo, issued.api_key, issued.secret)


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def place(sim: CexIoSimulator, creds: Credentials, volume: str = "1") -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret), volume=volume, price="20000")[0]


def assert_clean(exc: BaseException, creds: Credentials) -> None:
    text = str(exc) + repr(getattr(exc, "__dict__", ""))
    assert creds.api_key not in text and creds.secret not in text


async def test_verify_accepts_a_key_and_refuses_wrong_secrets(adapter: CexIoAdapter, sim: CexIoSimulator) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("cexio-") and creds.api_key not in info.account_id
    assert sim.count(creds.api_key, "get_fee_strategy") == 1
    for wrong in (dataclasses.replace(creds, secret="bm90IHRoZSBzZWNyZXQ="), dataclasses.replace(creds, api_key="x")):
        with pytest.raises(GatewayError) as refused:
            await adapter.verify_credentials(wrong, None)
        assert refused.value.error_type is ErrorType.institutionAuthFailed
        assert_clean(refused.value, creds)


@pytest.mark.parametrize(
    "bad", ["", "-1", "0", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n2", "1" * 19, "9" * 10_000, "１２"]
)
async def test_ids_not_of_cex_shape_never_reach_it(adapter: CexIoAdapter, sim: CexIoSimulator, bad: str) -> None:
    creds = account(sim)
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as refused:
            await call(creds, ref(bad))
        assert refused.value.error_type is ErrorType.invalidField
    assert sim.count_key(creds.api_key) == 0
    assert re.fullmatch(ORDER_ID_SHAPE.pattern, ORDER_ID_SHAPE.example)


async def test_an_acknowledged_cancel_then_the_lookup(adapter: CexIoAdapter, sim: CexIoSimulator) -> None:
    creds = account(sim)
    order_id = place(sim, creds, volume="2")
    sim.fill(order_id, "0.5")
    snap = await adapter.get_order(creds, ref(order_id))
    assert snap is not None
    assert (snap.status, snap.venue_status, snap.amount, snap.filled) == (
        OrderStatus.partiallyFilled,
        "PARTIALLY_FILLED",
        2.0,
        0.5,
    )
    assert (snap.side, snap.symbol, snap.payment_symbol, snap.symbol_pair) == (OrderSide.buy, "BTC", "USD", "BTC-USD")
    assert (snap.price, snap.value, snap.order_type, snap.time_in_force) == (
        20000.0,
        10000.0,
        "limit",
        "goodTillCanceled",
    )
    before = sim.count(creds.api_key, ORDERS)
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.cancelled, 200)
    assert (sim.count(creds.api_key, ORDERS) - before, sim.count(creds.api_key, CANCEL)) == (1, 1)
    after = await adapter.get_order(creds, ref(order_id))
    assert after is not None and (after.status, after.filled) == (OrderStatus.cancelled, 0.5)

    pending = place(sim, creds)
    sim.inject(Fault("pending", CANCEL, api_key=creds.api_key, seconds=0.05))
    assert (await adapter.cancel(creds, ref(pending))).status is OrderStatus.inProgress  # PENDING_CANCEL


async def test_finished_and_unknown_orders_are_decided_by_the_lookup(
    adapter: CexIoAdapter, sim: CexIoSimulator
) -> None:
    creds = account(sim)
    filled = place(sim, creds)
    sim.fill(filled)
    with pytest.raises(GatewayError) as refused:
        await adapter.cancel(creds, ref(filled))
    assert refused.value.error_type is ErrorType.orderNotCancelable
    assert refused.value.error_data == {"orderStatus": "success", "orderId": filled}

    foreign = place(sim, account(sim))
    with pytest.raises(GatewayError) as missing:
        await adapter.cancel(creds, ref(foreign))
    assert missing.value.error_type is ErrorType.orderNotFound
    assert sim.count(creds.api_key, ORDERS) == 3  # filled: 1; foreign: the exact query, then the archive
    assert sim.status(foreign) is OrderStatus.inProgress
    assert await adapter.get_order(creds, ref(foreign)) is None

    earlier = place(sim, creds)
    assert (await adapter.cancel(creds, ref(earlier))).status is OrderStatus.cancelled
    assert (await adapter.cancel(creds, ref(earlier))).status is OrderStatus.cancelled  # moments ago: true either way
    sim.age(earlier, seconds=61)
    with pytest.raises(GatewayError) as before:
        await adapter.cancel(creds, ref(earlier))
    assert (before.value.error_type, before.value.error_data["orderStatus"]) == (
        ErrorType.orderNotCancelable,
        "cancelled",
    )


async def test_a_failed_lookup_after_the_acknowledgement_is_in_progress(
    adapter: CexIoAdapter, sim: CexIoSimulator
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("http_error", ORDERS, api_key=creds.api_key, status=502))
    ack = await adapter.cancel(creds, ref(order_id))
    assert ack.status is OrderStatus.inProgress  # CEX.IO accepted it; the outcome could not be read
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_the_archive_is_asked_before_no_such_order(transport: Transport) -> None:
    # Should the exact-order query only search open orders (as ccxt's fetchOpenOrder/fetchClosedOrder split implies),
    # a filled order is still found, in the archive.
    sim = CexIoSimulator(exact_order_open_only=True)
    with serve_asgi(sim.app) as url:
        adapter = CexIoAdapter(SPEC, url, transport)
        creds = account(sim)
        filled = place(sim, creds)
        sim.fill(filled)
        snap = await adapter.get_order(creds, ref(filled))
        assert snap is not None and snap.status is OrderStatus.success
        with pytest.raises(GatewayError) as refused:
            await adapter.cancel(creds, ref(filled))
        assert refused.value.error_type is ErrorType.orderNotCancelable
        open_one = place(sim, creds)
        assert (await adapter.cancel(creds, ref(open_one))).status is OrderStatus.cancelled


async def test_permission_rate_limit_and_outages(adapter: CexIoAdapter, sim: CexIoSimulator) -> None:
    reader = account(sim, can_trade=False)
    order_id = place(sim, reader)
    with pytest.raises(GatewayError) as denied:
        await adapter.cancel(reader, ref(order_id))
    assert denied.value.error_type is ErrorType.institutionPermissionDenied
    assert_clean(denied.value, reader)
    creds = account(sim)
    order_id = place(sim, creds)
    for fault, expected, retry in (
        (Fault("venue_error", CANCEL, error="rate_limit"), ErrorType.rateLimited, RATE_LIMIT_WINDOW_S),
        (Fault("venue_error", CANCEL, error="unavailable"), ErrorType.institutionUnavailable, None),
        (Fault("venue_error", CANCEL, error="auth"), ErrorType.institutionAuthFailed, None),
        (Fault("http_error", CANCEL, status=502), ErrorType.institutionUnavailable, None),
        (Fault("garbage", CANCEL), ErrorType.institutionUnavailable, None),
    ):
        sim.inject(dataclasses.replace(fault, api_key=creds.api_key))
        with pytest.raises(GatewayError) as failed:
            await adapter.cancel(creds, ref(order_id))
        assert (failed.value.error_type, failed.value.retry_after) == (expected, retry)
    sim.inject(Fault("reset", CANCEL, api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    assert sim.status(order_id) is OrderStatus.inProgress


class Scripted:
    """Answers every call with one fixed (status, body, headers): shapes CEX.IO may send that the simulator does not."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.actions: list[str] = []

        async def endpoint(request: Request) -> JSONResponse:
            self.actions.append(request.path_params["action"])
            return JSONResponse(body, status_code=status, headers=headers)

        self.app = Starlette(routes=[Route("/{action}", endpoint, methods=["POST"])])


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # Errors inside HTTP 200 are never success, at the top or inside `data`.
        (200, {"error": "key not passed or incorrect"}, ErrorType.institutionAuthFailed),
        (200, {"ok": "ok", "data": {"error": "Something unexpected"}}, ErrorType.institutionUnavailable),
        (200, {"data": []}, ErrorType.institutionUnavailable),  # no `ok`: "then request is not successful"
        (422, {"error": "Mandatory parameter timestamp is missing", "statusCode": 422}, ErrorType.institutionRejected),
        (500, {"error": "Spot trading is on maintenance"}, ErrorType.institutionUnavailable),
        (429, {"error": "API rate limit reached"}, ErrorType.rateLimited),
    ],
)  # fmt: skip
async def test_answers_the_simulator_never_gives(
    transport: Transport, status: int, body: Any, expected: ErrorType
) -> None:
    scripted = Scripted(status, body, {"Retry-After": "17"} if status == 429 else None)
    creds = Credentials(IntegrationType.cexIo, "S0VZS0VZS0VZ", "U0VDUkVUU0VDUkVU")
    with serve_asgi(scripted.app) as url:
        adapter = CexIoAdapter(SPEC, url, transport)
        with pytest.raises(GatewayError) as failed:
            await adapter.cancel(creds, ref("2284074"))
    assert failed.value.error_type is expected, json.dumps(body)
    assert scripted.actions[0] == "do_cancel_my_order"
    if expected is ErrorType.rateLimited:
        assert failed.value.retry_after == 17  # a Retry-After the venue sends wins over the documented minute


async def test_an_error_echoing_the_key_is_scrubbed(transport: Transport) -> None:
    creds = Credentials(IntegrationType.cexIo, "S0VZS0VZS0VZ", "U0VDUkVUU0VDUkVU")
    scripted = Scripted(200, {"error": "key S0VZS0VZS0VZ has no Trade permission (secret U0VDUkVUU0VDUkVU)"})
    with serve_asgi(scripted.app) as url, pytest.raises(GatewayError) as failed:
        await CexIoAdapter(SPEC, url, transport).cancel(creds, ref("2284074"))
    assert failed.value.error_type is ErrorType.institutionPermissionDenied
    assert_clean(failed.value, creds)
