"""BitstampAdapter over a real Transport against the simulator (and two hand-written servers) on real sockets."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.bitstamp.adapter import BitstampAdapter
from ordergate.venues.bitstamp.auth import answer_signature
from ordergate.venues.bitstamp.simulator import BitstampSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitstamp]
MAINTENANCE = "Bitstamp.net is under scheduled maintenance. We'll be back soon."  # ccxt: OnMaintenance, inside HTTP 200


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitstampSimulator, str]]:
    sim = BitstampSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitstampSimulator, str]) -> BitstampSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitstampSimulator, str], transport: Transport) -> BitstampAdapter:
    return BitstampAdapter(SPEC, served[1], transport)


def account(sim: BitstampSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.bitstamp, key.api_key, key.secret)


def creds_as(creds: Credentials) -> SimAccount:
    """The simulator's view of an account ordergate holds credentials for."""
    return SimAccount(creds.api_key, creds.secret)


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", "")))
    assert creds.api_key not in text and creds.secret not in text


async def test_cancel_is_one_request_and_confirms(sim: BitstampSimulator, adapter: BitstampAdapter) -> None:
    creds = account(sim)
    order_id, _ = sim.place(creds_as(creds))
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.cancelled, 200)
    assert sim.count_key(creds.api_key) == sim.count(creds.api_key, "cancel_order") == 1
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's"])
async def test_final_or_unknown_orders_are_unknown_at_venue(
    sim: BitstampSimulator, adapter: BitstampAdapter, state: str
) -> None:
    creds = account(sim)
    owner = creds if state != "another account's" else account(sim)
    order_id, _ = sim.place(creds_as(owner))
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "never placed":
        order_id = str(int(order_id) + 10**12)
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.upstream_status, caught.value.venue_message) == (404, "404.002: Order not found")


async def test_lookup_reports_fills_side_pair_and_none_for_unknown(
    sim: BitstampSimulator, adapter: BitstampAdapter
) -> None:
    creds = account(sim)
    order_id, _ = sim.place(creds_as(creds), volume="2", price="25000")
    sim.fill(order_id, "0.5")
    snap = await adapter.get_order(creds, ref(order_id))
    assert snap is not None
    assert (snap.status, snap.venue_status, snap.amount, snap.filled, snap.side) == (
        OrderStatus.partiallyFilled, "Open", 2.0, 0.5, OrderSide.buy,
    )  # fmt: skip
    assert (snap.symbol, snap.payment_symbol, snap.symbol_pair, snap.price, snap.value) == (
        "BTC", "USD", "BTC/USD", 25000.0, 12500.0,
    )  # fmt: skip
    assert snap.created_at is not None and abs(snap.created_at - time.time()) < 3600
    await adapter.cancel(creds, ref(order_id))
    after = await adapter.get_order(creds, ref(order_id))
    assert after is not None and (after.status, after.filled) == (OrderStatus.cancelled, 0.5)
    assert await adapter.get_order(creds, ref(str(int(order_id) + 10**12))) is None


async def test_verify_credentials(sim: BitstampSimulator, adapter: BitstampAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("bitstamp-") and creds.api_key not in info.account_id
    assert sim.count(creds.api_key, "account_balances") == 1
    # A key without the balance permission is still authenticated by Bitstamp before API0003: it is accepted.
    limited = account(sim)
    sim.inject(Fault("venue_error", "account_balances", api_key=limited.api_key, error="permission"))
    assert (await adapter.verify_credentials(limited, None)).account_name == "Bitstamp"
    wrong = Credentials(IntegrationType.bitstamp, creds.api_key, "s" * 32)
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(wrong, None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert "API0005" in caught.value.message
    assert_clean(caught.value, creds)


async def test_a_reused_nonce_and_a_stale_clock_are_refused(
    sim: BitstampSimulator, served: tuple[BitstampSimulator, str], transport: Transport
) -> None:
    creds = account(sim)
    order_id, _ = sim.place(creds_as(creds))
    fixed = BitstampAdapter(SPEC, served[1], transport, nonces=lambda: "11111111-2222-3333-4444-555555555555")
    await fixed.get_order(creds, ref(order_id))
    with pytest.raises(GatewayError, match="API0004") as caught:
        await fixed.cancel(creds, ref(order_id))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    stale = BitstampAdapter(SPEC, served[1], transport, clock=lambda: str(int(time.time() * 1000) - 151_000))
    with pytest.raises(GatewayError, match="off by more than 150 s"):
        await stale.cancel(creds, ref(order_id))
    assert sim.status(order_id) is OrderStatus.inProgress


@pytest.mark.parametrize(
    ("error", "expected", "retry"),
    [("rate_limit", ErrorType.rateLimited, 1), ("ban", ErrorType.institutionLocked, None),
     ("restricted", ErrorType.institutionRestricted, None), ("permission", ErrorType.institutionPermissionDenied, None),
     ("500.002", ErrorType.institutionUnavailable, None),
     ("Invalid id POST param.", ErrorType.institutionRejected, None),
     (f"200:{MAINTENANCE}", ErrorType.institutionUnavailable, None)],
)  # fmt: skip
async def test_venue_errors_map_to_the_catalogue(
    sim: BitstampSimulator, adapter: BitstampAdapter, error: str, expected: ErrorType, retry: int | None
) -> None:
    creds = account(sim)
    order_id, _ = sim.place(creds_as(creds))
    sim.inject(Fault("venue_error", "cancel_order", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after) == (expected, retry)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_matching_engine_timeout_is_an_unknown_outcome_only_for_a_cancel(
    sim: BitstampSimulator, adapter: BitstampAdapter
) -> None:
    creds = account(sim)
    order_id, _ = sim.place(creds_as(creds))
    sim.inject(Fault("venue_error", "cancel_order", api_key=creds.api_key, error="500.016"))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    sim.inject(Fault("venue_error", "order_status", api_key=creds.api_key, error="500.016"))
    with pytest.raises(GatewayError) as caught:
        await adapter.get_order(creds, ref(order_id))
    assert caught.value.error_type is ErrorType.institutionUnavailable


@pytest.mark.parametrize("order_id", ["", "-1", "1?x=1", "a/b", "1" * 20, "1\r\nX: y"])
async def test_malformed_ids_are_refused_before_sending(
    sim: BitstampSimulator, adapter: BitstampAdapter, order_id: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent


class _Forger:
    """Answers every cancel with a well-formed confirmation, signed with `secret` (or not signed when None)."""

    def __init__(self, secret: str | None) -> None:
        async def cancel(request: Request) -> JSONResponse:
            form = dict(x.split("=") for x in (await request.body()).decode().split("&"))
            answer = JSONResponse(
                {"id": int(form["id"]), "amount": "1", "price": "100", "type": 0, "market": "BTC/USD"}
            )
            if secret is not None:
                answer.headers["X-Server-Auth-Signature"] = answer_signature(
                    secret, request.headers["x-auth-nonce"], request.headers["x-auth-timestamp"],
                    answer.headers["content-type"], answer.body,
                )  # fmt: skip
            return answer

        self.app = Starlette(routes=[Route("/api/v2/cancel_order/", cancel, methods=["POST"])])


@pytest.mark.parametrize(("signer", "trusted"), [("own", True), ("other", False), (None, True)])
async def test_the_answer_signature_is_checked(transport: Transport, signer: str | None, trusted: bool) -> None:
    creds = Credentials(IntegrationType.bitstamp, "k" * 32, "s" * 32)
    secret = {"own": creds.secret, "other": "t" * 32, None: None}[signer]
    with serve_asgi(_Forger(secret).app) as url:
        adapter = BitstampAdapter(SPEC, url, transport)
        if trusted:
            assert (await adapter.cancel(creds, ref("42"))).status is OrderStatus.cancelled
        else:
            with pytest.raises(GatewayError, match="X-Server-Auth-Signature") as caught:
                await adapter.cancel(creds, ref("42"))
            assert caught.value.error_type is ErrorType.institutionUnavailable
