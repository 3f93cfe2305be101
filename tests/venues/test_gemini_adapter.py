"""GeminiAdapter over a real Transport against the simulator on a real socket (and a scripted server for answers
the simulator never gives)."""

from __future__ import annotations

import asyncio
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

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.gemini.adapter import GeminiAdapter
from ordergate.venues.gemini.constants import NONCE_SESSION, NONCE_TIME, ORDER_ID_SHAPE
from ordergate.venues.gemini.simulator import GeminiSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.gemini]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GeminiSimulator, str]]:
    sim = GeminiSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[GeminiSimulator, str]) -> GeminiSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[GeminiSimulator, str], transport: Transport) -> GeminiAdapter:
    return GeminiAdapter(SPEC, served[1], transport)


def account(sim: GeminiSimulator, *, can_trade: bool = True, kind: str = NONCE_SESSION) -> Credentials:
    issued = sim.new_account(can_trade=can_trade, nonce_kind=kind)
    return Credentials(IntegrationType.gemini, issued.api_key, issued.secret, None, {"nonce": kind})


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def place(sim: GeminiSimulator, creds: Credentials, volume: str = "1") -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret), volume=volume, price="20000")[0]


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None)))
    assert creds.api_key not in text and creds.secret not in text


@pytest.mark.parametrize("kind", [NONCE_SESSION, NONCE_TIME])
async def test_verify_finds_the_keys_nonce_kind(adapter: GeminiAdapter, sim: GeminiSimulator, kind: str) -> None:
    creds = account(sim, kind=kind)
    info = await adapter.verify_credentials(dataclasses.replace(creds, extras={}), None)
    assert info.account_id.startswith("gemini-") and creds.api_key not in info.account_id
    assert info.extras == {"nonce": kind, "trader": True}
    # A time-based key refuses the sequenced nonce first (one extra request), a session key takes it at once.
    assert sim.count(creds.api_key, "Roles") == (2 if kind == NONCE_TIME else 1)


async def test_verify_refuses_wrong_secrets_master_keys_and_runaway_nonces(
    adapter: GeminiAdapter, sim: GeminiSimulator
) -> None:
    creds = account(sim)
    with pytest.raises(GatewayError) as bad:
        await adapter.verify_credentials(dataclasses.replace(creds, secret="wrong-secret"), None)
    assert bad.value.error_type is ErrorType.institutionAuthFailed
    assert_clean(bad.value, creds)
    with pytest.raises(GatewayError) as master:
        await adapter.verify_credentials(dataclasses.replace(creds, api_key="master-abc"), None)
    assert master.value.error_type is ErrorType.institutionRejected and sim.count("master-abc", "Roles") == 0
    sim._accounts[creds.api_key].last_nonce = 10**19
    with pytest.raises(GatewayError, match="separate API key") as runaway:
        await adapter.verify_credentials(creds, None)
    assert runaway.value.error_type is ErrorType.institutionAuthFailed


@pytest.mark.parametrize(
    "bad", ["", "-1", "0", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n2", "1" * 19, "9" * 10_000]
)
async def test_ids_not_of_geminis_shape_never_reach_it(adapter: GeminiAdapter, sim: GeminiSimulator, bad: str) -> None:
    creds = account(sim)
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as refused:
            await call(creds, ref(bad))
        assert refused.value.error_type is ErrorType.invalidField
    assert sim.count_key(creds.api_key) == 0
    assert re.fullmatch(ORDER_ID_SHAPE[0], ORDER_ID_SHAPE[1])


async def test_cancel_and_lookup(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    creds = account(sim)
    order_id = place(sim, creds, volume="2")
    sim.fill(order_id, "0.5")
    snap = await adapter.get_order(creds, ref(order_id))
    assert snap is not None
    assert (snap.status, snap.amount, snap.filled, snap.side) == (OrderStatus.partiallyFilled, 2.0, 0.5, OrderSide.buy)
    assert (snap.symbol, snap.payment_symbol, snap.symbol_pair, snap.order_type) == ("BTC", "USD", "BTCUSD", "limit")
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.cancelled, 200)
    after = await adapter.get_order(creds, ref(order_id))
    assert after is not None and (after.status, after.venue_status) == (OrderStatus.cancelled, "cancelled/Requested")


async def test_filled_and_unknown_orders(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    creds = account(sim)
    filled = place(sim, creds)
    sim.fill(filled)
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(filled))
    snap = await adapter.get_order(creds, ref(filled))
    assert snap is not None and snap.status is OrderStatus.success
    foreign = place(sim, account(sim))
    assert await adapter.get_order(creds, ref(foreign)) is None


async def test_permission_rate_limit_and_outages(adapter: GeminiAdapter, sim: GeminiSimulator) -> None:
    auditor = account(sim, can_trade=False)
    order_id = place(sim, auditor)
    with pytest.raises(GatewayError) as denied:
        await adapter.cancel(auditor, ref(order_id))
    assert denied.value.error_type is ErrorType.institutionPermissionDenied
    assert_clean(denied.value, auditor)  # Gemini's MissingRole message quotes the API key
    creds = account(sim)
    order_id = place(sim, creds)
    for fault, expected, retry in (
        (Fault("venue_error", "CancelOrder", error="rate_limit"), ErrorType.rateLimited, 1),
        (Fault("venue_error", "CancelOrder", error="unavailable"), ErrorType.institutionUnavailable, None),
        (Fault("http_error", "CancelOrder", status=502), ErrorType.institutionUnavailable, None),
        (Fault("garbage", "CancelOrder"), ErrorType.institutionUnavailable, None),
    ):
        sim.inject(dataclasses.replace(fault, api_key=creds.api_key))
        with pytest.raises(GatewayError) as failed:
            await adapter.cancel(creds, ref(order_id))
        assert (failed.value.error_type, failed.value.retry_after) == (expected, retry)
    sim.inject(Fault("reset", "CancelOrder", api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_concurrent_calls_on_one_session_key_keep_nonces_in_order(transport: Transport) -> None:
    sim = GeminiSimulator(jitter_s=0.005)  # requests sent together would reach the engine out of order
    with serve_asgi(sim.app) as url:
        adapter = GeminiAdapter(SPEC, url, transport)
        creds = account(sim)
        orders = [place(sim, creds) for _ in range(12)]
        acks = await asyncio.gather(*(adapter.cancel(creds, ref(o)) for o in orders))
    assert [a.status for a in acks] == [OrderStatus.cancelled] * 12
    assert sim.errors["InvalidNonce"] == 0 and sim.max_in_flight[creds.api_key] == 1


class Scripted:
    """Answers every call with one fixed (status, body): shapes Gemini may send that the simulator does not."""

    def __init__(self, status: int, body: Any) -> None:
        async def endpoint(_request: Request) -> JSONResponse:
            return JSONResponse(body, status_code=status)

        self.app = Starlette(routes=[Route("/v1/{rest:path}", endpoint, methods=["POST"])])


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # An error inside HTTP 200 is never success.
        (200, {"result": "error", "reason": "InvalidSignature", "message": "x"}, ErrorType.institutionAuthFailed),
        # A filled order answered as its status object (not documented either way): 409 with its status.
        (200, {"order_id": "42", "is_live": False, "is_cancelled": False, "executed_amount": "1",
               "original_amount": "1"}, ErrorType.orderNotCancelable),
        (200, {"order_id": "43", "is_live": False, "is_cancelled": True}, ErrorType.institutionUnavailable),
        (200, {"order_id": "42", "is_live": True, "is_cancelled": False}, ErrorType.institutionUnavailable),
        (400, {"result": "error", "reason": "SomethingNew", "message": "?"}, ErrorType.institutionRejected),
        (503, {"result": "error", "reason": "Maintenance", "message": "m"}, ErrorType.institutionUnavailable),
        (406, {"result": "error", "reason": "InsufficientFunds", "message": "m"}, ErrorType.institutionRejected),
    ],
)  # fmt: skip
async def test_answers_the_simulator_never_gives(
    transport: Transport, status: int, body: Any, expected: ErrorType
) -> None:
    with serve_asgi(Scripted(status, body).app) as url:
        adapter = GeminiAdapter(SPEC, url, transport)
        creds = Credentials(IntegrationType.gemini, "account-K", "S", None, {"nonce": NONCE_TIME})
        with pytest.raises(GatewayError) as failed:
            await adapter.cancel(creds, ref("42"))
    assert failed.value.error_type is expected, json.dumps(body)
    if expected is ErrorType.orderNotCancelable:
        assert failed.value.error_data["orderStatus"] == "success"
