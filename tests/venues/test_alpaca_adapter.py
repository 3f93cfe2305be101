"""AlpacaAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from email.utils import formatdate

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.alpaca.adapter import AlpacaAdapter, _retry_after
from ordergate.venues.alpaca.simulator import SYMBOLIC_RESET_S, AlpacaSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.alpaca]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[AlpacaSimulator, str]]:
    sim = AlpacaSimulator()
    with serve_asgi(sim.app, date_header=False) as url:
        yield sim, url


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    # One per test, so `requests_sent` counts only that test's requests.
    transport = Transport(timeout_s=2.0)
    await transport.start()
    yield transport
    await transport.close()


@pytest.fixture
def sim(served: tuple[AlpacaSimulator, str]) -> AlpacaSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[AlpacaSimulator, str], transport: Transport) -> AlpacaAdapter:
    return AlpacaAdapter(SPEC, served[1], transport)


def creds_of(account: SimAccount, **extras: object) -> Credentials:
    return Credentials(IntegrationType.alpaca, account.api_key, account.secret, extras=extras)


def oauth_creds(token: str) -> Credentials:
    return Credentials(IntegrationType.alpaca, "oauth", token, extras={"auth": "oauth"})


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=False)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(
        str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", None))
    )
    assert creds.secret not in text


# -- cancel ------------------------------------------------------------------------------------------------
async def test_cancel_open_order_is_a_delete_then_one_get_reporting_cancelled(
    sim: AlpacaSimulator, adapter: AlpacaAdapter
):
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sent_before = adapter.transport.requests_sent

    ack = await adapter.cancel(creds_of(account), ref(order_id))

    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.cancelled, 204)
    assert (sim.count(account.api_key, "cancel"), sim.count(account.api_key, "get")) == (1, 1)
    assert adapter.transport.requests_sent - sent_before == 2
    assert sim.describe(order_id)["status"] == "canceled"


async def test_accepted_cancel_with_a_failed_lookup_is_still_in_progress(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(Fault("http_error", "get", api_key=account.api_key, status=503))
    ack = await adapter.cancel(creds_of(account), ref(order_id))
    assert (ack.status, ack.upstream_status) == (OrderStatus.inProgress, 204)


async def test_cancel_with_an_oauth_token_uses_the_bearer_header(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    order_id, _ = sim.place(account)
    ack = await adapter.cancel(oauth_creds(sim.issue_token(account)), ref(order_id))
    assert ack.status is OrderStatus.cancelled
    assert sim.count(account.api_key, "cancel") == 1  # counted under the account the token belongs to
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_cancel_acknowledged_but_pending_stays_in_progress(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(Fault("pending", "cancel", api_key=account.api_key, seconds=60))
    assert (await adapter.cancel(creds_of(account), ref(order_id))).status is OrderStatus.inProgress
    assert sim.describe(order_id)["status"] == "pending_cancel"

    # A second cancel while Alpaca is still cancelling: the cancel the client asks for is under way.
    again = await adapter.cancel(creds_of(account), ref(order_id))
    assert (again.status, again.upstream_status) == (OrderStatus.inProgress, 422)
    assert sim.count(account.api_key, "cancel") == 2


@pytest.mark.parametrize(
    ("state", "http"),
    [("filled", 422), ("canceled", 422), ("expired", 422), ("pending_replace", 422), ("never", 404), ("foreign", 404)],
)
async def test_cancel_of_final_or_unknown_order_is_unknown_order(
    sim: AlpacaSimulator, adapter: AlpacaAdapter, state: str, http: int
) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account if state != "foreign" else sim.new_account())
    if state == "filled":
        sim.fill(order_id)
    elif state in ("canceled", "expired", "pending_replace"):
        sim.set_status(order_id, state)
    elif state == "never":
        order_id = "9b0a3f1e-0000-4000-8000-000000000000"

    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds_of(account), ref(order_id))

    assert caught.value.upstream_status == http
    expected = "order not found" if http == 404 else f'order is already in "{state}" state'
    assert caught.value.venue_message == expected
    assert sim.count_key(account.api_key) == 1


@pytest.mark.parametrize("bad_id", ["../account", "a/b", "x?y=1", "", "a" * 65, "id with spaces", "%2e%2e", "ab\n"])
async def test_ids_that_would_change_the_url_are_refused_before_sending(adapter: AlpacaAdapter, bad_id: str):
    creds = Credentials(IntegrationType.alpaca, "PKTEST", "secret")
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(bad_id))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == 0


# -- errors ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fault", "error_type", "status"),
    [
        (Fault("venue_error", "cancel", error="auth"), ErrorType.institutionAuthFailed, 401),
        (Fault("venue_error", "cancel", error="permission"), ErrorType.institutionPermissionDenied, 403),
        (Fault("venue_error", "cancel", error="unavailable"), ErrorType.institutionUnavailable, 500),
        (Fault("venue_error", "cancel", error="40010001:invalid order id"), ErrorType.institutionRejected, 400),
        (Fault("http_error", "cancel", status=503), ErrorType.institutionUnavailable, 503),
        (Fault("http_error", "cancel", status=403), ErrorType.institutionUnavailable, 403),  # an edge page
    ],
)
async def test_each_error_answer_is_mapped(
    sim: AlpacaSimulator, adapter: AlpacaAdapter, fault: Fault, error_type: ErrorType, status: int
) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(dataclasses.replace(fault, api_key=account.api_key))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds_of(account), ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (error_type, status)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_wrong_secret_and_unknown_token_are_auth_failures(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    order_id, _ = sim.place(account)
    for creds in (creds_of(SimAccount(account.api_key, "not-the-secret")), oauth_creds("not-a-token")):
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(creds, ref(order_id))
        assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionAuthFailed, 401)
        assert_clean(caught.value, creds)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_key_without_trading_is_permission_denied(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account(can_trade=False)
    order_id, _ = sim.place(account)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds_of(account), ref(order_id))
    assert caught.value.error_type is ErrorType.institutionPermissionDenied
    # Reading is still allowed: the service's lookup works for such a key.
    assert (await adapter.get_order(creds_of(account), ref(order_id))) is not None


async def test_credentials_that_cannot_be_headers_are_refused_before_sending(adapter: AlpacaAdapter):
    for creds in (
        Credentials(IntegrationType.alpaca, "PKTEST", "secret\r\nX-Injected: 1"),
        Credentials(IntegrationType.alpaca, "PK TEST", "secret"),
        Credentials(IntegrationType.alpaca, "oauth", "token\n"),
    ):
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(creds, ref("9b0a3f1e-0000-4000-8000-000000000000"))
        assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert adapter.transport.requests_sent == 0


async def test_symbolic_rate_limit_retry_after_is_read_against_alpacas_clock(
    sim: AlpacaSimulator, adapter: AlpacaAdapter
) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds_of(account), ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, SYMBOLIC_RESET_S)


async def test_rate_limit_window_is_enforced_and_reported(transport: Transport) -> None:
    sim = AlpacaSimulator(rate_limit=4)  # each cancel is a DELETE and a GET
    with serve_asgi(sim.app, date_header=False) as url:
        adapter = AlpacaAdapter(SPEC, url, transport)
        account = sim.new_account()
        order_ids = [sim.place(account)[0] for _ in range(3)]
        for order_id in order_ids[:2]:
            await adapter.cancel(creds_of(account), ref(order_id))
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(creds_of(account), ref(order_ids[2]))
    assert caught.value.error_type is ErrorType.rateLimited
    assert 1 <= (caught.value.retry_after or 0) <= 60  # until the 60 s window that the first cancel opened ends
    assert sim.status(order_ids[2]) is OrderStatus.inProgress


def test_retry_after_sources_in_order_of_preference() -> None:
    now = int(time.time())
    date = formatdate(now - 1000, usegmt=True)  # Alpaca's clock 1000 s behind ours: its Date is what counts
    assert _retry_after({"Retry-After": "7", "X-Ratelimit-Reset": str(now + 30)}) == 7
    assert _retry_after({"x-ratelimit-reset": str(now - 1000 + 12), "date": date}) == 12
    assert _retry_after({"X-Ratelimit-Reset": "not a time"}) == 60
    assert _retry_after({}) == 60
    assert _retry_after({"X-Ratelimit-Reset": str(now + 3600), "Date": formatdate(now, usegmt=True)}) == 60


async def test_timeout_after_the_venue_acted_is_outcome_unknown(served: tuple[AlpacaSimulator, str]):
    sim, url = served
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(Fault("delay_after", "cancel", api_key=account.api_key, seconds=1.0))
    adapter = AlpacaAdapter(SPEC, url, Transport(timeout_s=0.2))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds_of(account), ref(order_id))
    finally:
        await adapter.transport.close()
    assert sim.count(account.api_key, "cancel") == 1
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_dropped_connection_is_outcome_unknown(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(Fault("reset", "cancel", api_key=account.api_key, process=True))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds_of(account), ref(order_id))
    # Sent once: a DELETE re-sent by the HTTP client would meet "already canceled" and turn an ok into a 409.
    assert sim.count(account.api_key, "cancel") == 1
    assert sim.status(order_id) is OrderStatus.cancelled


# -- lookup ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("venue_status", "status"),
    [
        ("new", OrderStatus.inProgress),
        ("accepted", OrderStatus.inProgress),
        ("pending_cancel", OrderStatus.inProgress),
        ("done_for_day", OrderStatus.inProgress),
        ("stopped", OrderStatus.inProgress),
        ("filled", OrderStatus.success),
        ("canceled", OrderStatus.cancelled),
        ("replaced", OrderStatus.cancelled),
        ("expired", OrderStatus.expired),
        ("rejected", OrderStatus.rejected),
    ],
)
async def test_get_order_maps_each_status(
    sim: AlpacaSimulator, adapter: AlpacaAdapter, venue_status: str, status: OrderStatus
) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.set_status(order_id, venue_status)
    snapshot = await adapter.get_order(creds_of(account), ref(order_id))
    assert snapshot is not None
    assert (snapshot.status, snapshot.venue_status) == (status, venue_status)
    assert sim.count(account.api_key, "get") == 1


async def test_get_order_fills_mesh_fields(sim: AlpacaSimulator, adapter: AlpacaAdapter) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account, volume="2", price="150.5")
    sim.fill(order_id, "0.5")
    snapshot = await adapter.get_order(creds_of(account), ref(order_id))
    assert snapshot is not None
    assert (snapshot.status, snapshot.amount, snapshot.filled) == (OrderStatus.partiallyFilled, 2.0, 0.5)
    assert (snapshot.side, snapshot.symbol, snapshot.payment_symbol) == (OrderSide.buy, "AAPL", "USD")
    assert (snapshot.price, snapshot.value) == (150.5, 75.25)
    assert (snapshot.order_type, snapshot.time_in_force) == ("limit", "goodForDay")
    assert snapshot.created_at and abs(snapshot.created_at - time.time()) < 3600  # seconds, not micro- or nano-
    assert snapshot.updated_at and snapshot.updated_at >= snapshot.created_at


async def test_get_order_of_unknown_or_foreign_order_is_none(sim: AlpacaSimulator, adapter: AlpacaAdapter):
    account = sim.new_account()
    foreign_id, _ = sim.place(sim.new_account())
    for order_id in (foreign_id, "9b0a3f1e-0000-4000-8000-000000000000"):
        assert await adapter.get_order(creds_of(account), ref(order_id)) is None
    assert sim.count(account.api_key, "get") == 2
