"""CoinbaseExchangeAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.coinbase_exchange.adapter import CoinbaseExchangeAdapter
from ordergate.venues.coinbase_exchange.simulator import CoinbaseExchangeSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.coinbasePro]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbaseExchangeSimulator, str]]:
    sim = CoinbaseExchangeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CoinbaseExchangeSimulator, str]) -> CoinbaseExchangeSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CoinbaseExchangeSimulator, str], transport: Transport) -> CoinbaseExchangeAdapter:
    return CoinbaseExchangeAdapter(SPEC, served[1], transport)


def account(sim: CoinbaseExchangeSimulator, *, can_trade: bool = True) -> Credentials:
    issued = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.coinbasePro, issued.api_key, issued.secret, issued.passphrase)


def ref(order_id: str, pair: str | None = "BTC-USD") -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True, symbol_pair=pair)


def place(sim: CoinbaseExchangeSimulator, creds: Credentials, volume: str = "1") -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret, creds.passphrase), volume=volume, price="20000")[0]


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(
        str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", None))
    )
    for secret in (creds.api_key, creds.secret, creds.passphrase):
        assert secret and secret not in text


async def test_cancel_is_one_request_naming_the_product(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    total, sent = sim.total_requests, adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.cancelled, 200)
    assert (sim.total_requests - total, adapter.transport.requests_sent - sent) == (1, 1)
    assert sim.status(order_id) is OrderStatus.cancelled and sim.describe(order_id)["purged"] is True


@pytest.mark.parametrize("state", ["filled", "purged", "never placed", "another profile's", "malformed id"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter, state: str
) -> None:
    creds = account(sim)
    order_id = place(sim, creds if state != "another profile's" else account(sim))
    if state == "filled":
        sim.fill(order_id)
    elif state == "purged":
        await adapter.cancel(creds, ref(order_id))
    elif state == "never placed":
        order_id = "00000000-0000-4000-8000-000000000000"
    elif state == "malformed id":
        order_id = "not-a-coinbase-id"
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    expected = {"filled": (400, "Order already done"), "malformed id": (400, "Invalid order id")}
    assert (caught.value.upstream_status, caught.value.venue_message) == expected.get(state, (404, "NotFound"))


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "open", 0.0),
        ("partial", OrderStatus.partiallyFilled, "open", 0.4),
        ("filled", OrderStatus.success, "done/filled", 1.0),
        ("cancelled after a fill", OrderStatus.cancelled, "done/canceled", 0.4),
    ],
)
async def test_get_order_maps_each_state(
    sim: CoinbaseExchangeSimulator,
    adapter: CoinbaseExchangeAdapter,
    state: str,
    status: OrderStatus,
    venue_status: str,
    filled: float,
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    if state in ("partial", "cancelled after a fill"):
        sim.fill(order_id, "0.4")
    if state == "filled":
        sim.fill(order_id)
    if state == "cancelled after a fill":
        await adapter.cancel(creds, ref(order_id))
    snapshot = await adapter.get_order(creds, ref(order_id, None))
    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (order_id, status, venue_status)
    assert (snapshot.amount, snapshot.filled, snapshot.side, snapshot.symbol_pair) == (
        1.0,
        filled,
        OrderSide.buy,
        "BTC-USD",
    )
    assert (snapshot.symbol, snapshot.payment_symbol, snapshot.price, snapshot.order_type) == (
        "BTC",
        "USD",
        20000.0,
        "limit",
    )
    assert (snapshot.value, snapshot.fee, snapshot.time_in_force) == (filled * 20000, 0.0, "goodTillCanceled")
    assert snapshot.created_at and snapshot.updated_at and snapshot.updated_at >= snapshot.created_at


async def test_get_order_of_an_id_that_cannot_name_an_order_is_none(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    assert await adapter.get_order(account(sim), ref("not-a-coinbase-id")) is None


@pytest.mark.parametrize("state", ["purged", "never placed"])
async def test_get_order_that_coinbase_does_not_show_is_not_a_definite_none(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter, state: str
) -> None:
    # "NotFound" is also Coinbase's answer for a cancelled order it purged, so it is not "no such order".
    creds = account(sim)
    order_id = place(sim, creds) if state == "purged" else "00000000-0000-4000-8000-000000000000"
    if state == "purged":
        await adapter.cancel(creds, ref(order_id))
    with pytest.raises(GatewayError) as caught:
        await adapter.get_order(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.orderNotFound, 404)
    assert caught.value.error_data == {"orderId": order_id} and "never placed" in caught.value.message


ERROR_CASES: list[tuple[str, ErrorType | type[Exception], int, int | None]] = [
    ("NotFound", UnknownOrderAtVenue, 404, None),
    ("Order already done", UnknownOrderAtVenue, 400, None),
    ("Invalid order id", UnknownOrderAtVenue, 400, None),
    ("404:order not found", UnknownOrderAtVenue, 404, None),
    ("Invalid API Key", ErrorType.institutionAuthFailed, 401, None),
    ("invalid signature", ErrorType.institutionAuthFailed, 401, None),
    ("Invalid Passphrase", ErrorType.institutionAuthFailed, 401, None),
    ("request timestamp expired", ErrorType.institutionAuthFailed, 401, None),
    ("Forbidden", ErrorType.institutionPermissionDenied, 403, None),
    ("Private rate limit exceeded", ErrorType.rateLimited, 429, 1),
    ("400:Something Coinbase added", ErrorType.institutionRejected, 400, None),
    ("400:Cancel only mode", ErrorType.institutionUnavailable, 400, None),
    ("503:service under maintenance", ErrorType.institutionUnavailable, 503, None),
    ("500:NotFound", ErrorType.institutionUnavailable, 500, None),
    ("418:I'm a teapot", ErrorType.institutionUnavailable, 418, None),
]


@pytest.mark.parametrize(("error", "expected", "status", "retry_after"), ERROR_CASES)
async def test_each_coinbase_answer_on_cancel_maps_to_its_meaning(
    sim: CoinbaseExchangeSimulator,
    adapter: CoinbaseExchangeAdapter,
    error: str,
    expected: ErrorType | type[Exception],
    status: int,
    retry_after: int | None,
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("venue_error", "DeleteOrder", api_key=creds.api_key, error=error))
    with pytest.raises((GatewayError, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(order_id))
    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
        assert caught.value.upstream_status == status
        assert (error.split(":", 1)[1] if error[:3].isdigit() else error) in caught.value.message
    else:
        assert type(caught.value) is expected and caught.value.upstream_status == status
    assert sim.status(order_id) is OrderStatus.inProgress
    assert_clean(caught.value, creds)


@pytest.mark.parametrize(
    ("kind", "status"), [("http_error", 502), ("http_error", 503), ("http_error", 429), ("garbage", 200)]
)
async def test_pages_that_are_not_coinbase_answers(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter, kind: str, status: int
) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault(kind, "DeleteOrder", api_key=creds.api_key, status=status))  # type: ignore[arg-type]
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    expected = ErrorType.rateLimited if status == 429 else ErrorType.institutionUnavailable
    assert (caught.value.error_type, caught.value.upstream_status) == (expected, status)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_venue_text_echoing_credentials_is_redacted(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    echo = f"400:bad {creds.api_key} {creds.secret} {creds.passphrase}"
    sim.inject(Fault("venue_error", "DeleteOrder", api_key=creds.api_key, error=echo))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(place(sim, creds)))
    assert "<redacted>" in caught.value.message
    assert_clean(caught.value, creds)


async def test_lost_answer_after_the_cancel_took_effect_is_outcome_unknown(
    served: tuple[CoinbaseExchangeSimulator, str], sim: CoinbaseExchangeSimulator
) -> None:
    impatient = Transport(timeout_s=0.3)
    adapter = CoinbaseExchangeAdapter(SPEC, served[1], impatient)
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("delay_after", "DeleteOrder", api_key=creds.api_key, seconds=1.0))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds, ref(order_id))
    finally:
        await impatient.close()
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_concurrent_cancels_on_one_key(sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter) -> None:
    # No nonce: Coinbase only checks that the timestamp is within 30 s, so one key's requests may overlap.
    creds = account(sim)
    orders = [place(sim, creds) for _ in range(60)]
    sim.jitter_s = 0.003
    try:
        acks = await asyncio.gather(*(adapter.cancel(creds, ref(o)) for o in orders))
    finally:
        sim.jitter_s = 0.0
    assert {a.status for a in acks} == {OrderStatus.cancelled}
    assert sim.max_in_flight[creds.api_key] > 1


async def test_verify_credentials_names_the_keys_profile(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id == sim.describe(place(sim, creds))["profile_id"]
    assert (info.account_name, info.extras) == ("Coinbase Exchange", {})
    assert sim.count(creds.api_key, "GetAccounts") == 1


async def test_verify_credentials_rejections(sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter) -> None:
    creds = account(sim)
    other = account(sim)
    for candidate in (
        dataclasses.replace(creds, api_key="0" * 32),
        dataclasses.replace(creds, secret=other.secret),
        dataclasses.replace(creds, passphrase="not-the-passphrase"),
    ):
        with pytest.raises(GatewayError) as caught:
            await adapter.verify_credentials(candidate, None)
        assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionAuthFailed, 401)
        assert_clean(caught.value, candidate)


async def test_what_cannot_be_signed_is_refused_before_sending(
    sim: CoinbaseExchangeSimulator, adapter: CoinbaseExchangeAdapter
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as missing:
        await adapter.verify_credentials(dataclasses.replace(creds, passphrase=None), None)
    assert (missing.value.error_type, missing.value.error_data) == (
        ErrorType.missingField,
        {"fields": {"authToken": "the API key's passphrase"}},
    )
    with pytest.raises(GatewayError) as garbled:
        await adapter.verify_credentials(dataclasses.replace(creds, secret="not base64!"), None)
    assert garbled.value.error_type is ErrorType.institutionAuthFailed
    with pytest.raises(GatewayError) as no_passphrase:
        await adapter.cancel(dataclasses.replace(creds, passphrase=None), ref(place(sim, creds)))
    assert no_passphrase.value.error_type is ErrorType.invalidAuthToken
    for bad in (ref("../accounts"), ref(place(sim, creds), "BTCUSD")):
        with pytest.raises(GatewayError) as invalid:
            await adapter.cancel(creds, bad)
        assert invalid.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent
