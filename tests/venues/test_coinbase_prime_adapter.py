"""CoinbasePrimeAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.coinbase_prime.adapter import CoinbasePrimeAdapter
from ordergate.venues.coinbase_prime.simulator import CoinbasePrimeSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.coinbasePrime]
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinbasePrimeSimulator, str]]:
    sim = CoinbasePrimeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CoinbasePrimeSimulator, str]) -> CoinbasePrimeSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CoinbasePrimeSimulator, str], transport: Transport) -> CoinbasePrimeAdapter:
    return CoinbasePrimeAdapter(SPEC, served[1], transport)


def connected(sim: CoinbasePrimeSimulator, *, can_trade: bool = True) -> Credentials:
    """Credentials as /authenticate seals them: with the key's portfolio in extras."""
    issued = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.coinbasePrime, issued.api_key, issued.secret, issued.passphrase, issued.extras)


def place(sim: CoinbasePrimeSimulator, creds: Credentials, volume: str = "1") -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret, creds.passphrase), volume=volume, price="20000")[0]


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None)))
    for secret in (creds.api_key, creds.secret, creds.passphrase):
        assert secret and secret not in text


async def test_cancel_is_one_request_and_an_acknowledgement(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter
) -> None:
    creds = connected(sim)
    order_id = place(sim, creds)
    total = sim.total_requests
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.inProgress, 200)
    assert sim.total_requests - total == 1
    assert sim.count(creds.api_key, "CancelOrder") == 1
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize(
    ("state", "status"),
    [("filled", 400), ("cancelled", 400), ("never placed", 404), ("another portfolio's", 404), ("malformed", 400)],
)
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter, state: str, status: int
) -> None:
    creds = connected(sim)
    order_id = place(sim, creds if state != "another portfolio's" else connected(sim))
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "never placed":
        order_id = UNKNOWN
    elif state == "malformed":
        order_id = "not-a-prime-id"
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert caught.value.upstream_status == status


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "OPEN", 0.0),
        ("partial", OrderStatus.partiallyFilled, "OPEN", 0.4),
        ("filled", OrderStatus.success, "FILLED", 1.0),
        ("cancelled", OrderStatus.cancelled, "CANCELLED", 0.4),
    ],
)
async def test_get_order_maps_each_state(
    sim: CoinbasePrimeSimulator,
    adapter: CoinbasePrimeAdapter,
    state: str,
    status: OrderStatus,
    venue_status: str,
    filled: float,
) -> None:
    creds = connected(sim)
    order_id = place(sim, creds)
    if state in ("partial", "cancelled"):
        sim.fill(order_id, "0.4")
    if state == "filled":
        sim.fill(order_id)
    if state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    snapshot = await adapter.get_order(creds, ref(order_id))
    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (order_id, status, venue_status)
    assert (snapshot.amount, snapshot.filled, snapshot.side) == (1.0, filled, OrderSide.buy)
    assert (snapshot.symbol_pair, snapshot.symbol, snapshot.payment_symbol) == ("BTC-USD", "BTC", "USD")
    assert (snapshot.price, snapshot.value, snapshot.fee) == (20000.0, filled * 20000, 0.0)
    assert (snapshot.order_type, snapshot.time_in_force) == ("limit", "goodTillCanceled")
    assert snapshot.created_at


@pytest.mark.parametrize("order_id", [UNKNOWN, "not-a-prime-id"])
async def test_get_order_prime_does_not_have_is_none(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter, order_id: str
) -> None:
    assert await adapter.get_order(connected(sim), ref(order_id)) is None


ERROR_CASES: list[tuple[str, ErrorType | type[Exception], int | None]] = [
    ("400:Filled orders cannot be canceled", UnknownOrderAtVenue, None),
    ("404:order not found", UnknownOrderAtVenue, None),
    ("401:invalid signature", ErrorType.institutionAuthFailed, None),
    ("403:forbidden", ErrorType.institutionPermissionDenied, None),
    ("429:rate limit exceeded", ErrorType.rateLimited, 30),
    ("500:internal error", ErrorType.institutionUnavailable, None),
    ("503:service unavailable", ErrorType.institutionUnavailable, None),
    ("418:something new", ErrorType.institutionUnavailable, None),
]


@pytest.mark.parametrize(("error", "expected", "retry_after"), ERROR_CASES)
async def test_each_prime_status_on_cancel_maps_to_its_meaning(
    sim: CoinbasePrimeSimulator,
    adapter: CoinbasePrimeAdapter,
    error: str,
    expected: ErrorType | type[Exception],
    retry_after: int | None,
) -> None:
    creds = connected(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("venue_error", "CancelOrder", api_key=creds.api_key, error=error))
    with pytest.raises((GatewayError, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(order_id))
    status, _, message = error.partition(":")
    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
        assert (caught.value.upstream_status, message in caught.value.message) == (int(status), True)
    else:
        assert type(caught.value) is expected and caught.value.upstream_status == int(status)
    assert sim.status(order_id) is OrderStatus.inProgress


@pytest.mark.parametrize(("kind", "status"), [("http_error", 502), ("http_error", 404), ("garbage", 200)])
async def test_pages_that_are_not_prime_answers_are_unavailable(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter, kind: str, status: int
) -> None:
    # An HTML 404 comes from a proxy or a wrong base URL, not from Prime about this order.
    creds = connected(sim)
    order_id = place(sim, creds)
    sim.inject(Fault(kind, "CancelOrder", api_key=creds.api_key, status=status))  # type: ignore[arg-type]
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionUnavailable, status)


async def test_venue_text_echoing_credentials_is_redacted(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter
) -> None:
    creds = connected(sim)
    error = f"403:no {creds.api_key} {creds.secret} {creds.passphrase}"
    sim.inject(Fault("venue_error", "CancelOrder", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(place(sim, creds)))
    assert "<redacted>" in caught.value.message
    assert_clean(caught.value, creds)


async def test_lost_answer_after_the_cancel_took_effect_is_outcome_unknown(
    served: tuple[CoinbasePrimeSimulator, str], sim: CoinbasePrimeSimulator
) -> None:
    impatient = Transport(timeout_s=0.3)
    adapter = CoinbasePrimeAdapter(SPEC, served[1], impatient)
    creds = connected(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("delay_after", "CancelOrder", api_key=creds.api_key, seconds=1.0))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds, ref(order_id))
    finally:
        await impatient.close()
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_verify_credentials_learns_the_portfolio(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter
) -> None:
    issued = sim.new_account()
    creds = Credentials(IntegrationType.coinbasePrime, issued.api_key, issued.secret, issued.passphrase)
    info = await adapter.verify_credentials(creds, None)
    assert (info.account_id, info.account_name) == (issued.extras["portfolio_id"], "Portfolio 1")
    assert info.extras == {"portfolio_id": issued.extras["portfolio_id"]}
    assert sim.count(issued.api_key, "GetPortfolios") == 1


@pytest.mark.parametrize(
    ("portfolios", "expected"), [(0, ErrorType.institutionPermissionDenied), (3, ErrorType.invalidField)]
)
async def test_verify_credentials_refuses_a_key_without_exactly_one_portfolio(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter, portfolios: int, expected: ErrorType
) -> None:
    issued = sim.new_account(portfolios=portfolios)
    creds = Credentials(IntegrationType.coinbasePrime, issued.api_key, issued.secret, issued.passphrase)
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(creds, None)
    assert caught.value.error_type is expected
    if expected is ErrorType.invalidField:
        assert list(caught.value.error_data["fields"]) == ["username"] and "3 portfolios" in caught.value.message


async def test_verify_credentials_rejections(sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter) -> None:
    creds = connected(sim)
    for candidate in (
        dataclasses.replace(creds, api_key="unknown-key"),
        dataclasses.replace(creds, secret="another-secret"),
        dataclasses.replace(creds, passphrase="another-passphrase"),
    ):
        with pytest.raises(GatewayError) as caught:
            await adapter.verify_credentials(candidate, None)
        assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionAuthFailed, 401)
        assert_clean(caught.value, candidate)


async def test_key_without_trade_permission(sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter) -> None:
    creds = connected(sim, can_trade=False)
    order_id = place(sim, creds)
    assert (await adapter.get_order(creds, ref(order_id))) is not None
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionPermissionDenied, 403)


async def test_what_cannot_be_sent_is_refused_before_sending(
    sim: CoinbasePrimeSimulator, adapter: CoinbasePrimeAdapter
) -> None:
    creds = connected(sim)
    order_id = place(sim, creds)
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as missing:
        await adapter.verify_credentials(dataclasses.replace(creds, passphrase=None), None)
    assert (missing.value.error_type, list(missing.value.error_data["fields"])) == (
        ErrorType.missingField,
        ["authToken"],
    )
    for unusable in (dataclasses.replace(creds, extras={}), dataclasses.replace(creds, passphrase=None)):
        for call in (adapter.cancel, adapter.get_order):
            with pytest.raises(GatewayError) as caught:
                await call(unusable, ref(order_id))
            assert caught.value.error_type is ErrorType.invalidAuthToken
    with pytest.raises(GatewayError) as invalid:
        await adapter.cancel(creds, ref("../../portfolios"))
    assert invalid.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent
