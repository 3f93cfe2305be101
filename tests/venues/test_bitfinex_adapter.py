"""BitfinexAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.bitfinex.adapter import BitfinexAdapter
from ordergate.venues.bitfinex.constants import ORDER_ID_SHAPE
from ordergate.venues.bitfinex.simulator import BitfinexSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitfinex]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitfinexSimulator, str]]:
    sim = BitfinexSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitfinexSimulator, str]) -> BitfinexSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitfinexSimulator, str], transport: Transport) -> BitfinexAdapter:
    return BitfinexAdapter(SPEC, served[1], transport)


def account(sim: BitfinexSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.bitfinex, key.api_key, key.secret)


def ref(order_id: int | str) -> OrderRef:
    return OrderRef(id=str(order_id), is_cryptocurrency=True)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", "")))
    assert creds.api_key not in text and creds.secret not in text


async def test_cancel_is_one_request_and_only_submitted(sim: BitfinexSimulator, adapter: BitfinexAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sent = adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (str(order_id), OrderStatus.inProgress, 200)
    assert adapter.transport.requests_sent - sent == 1
    assert (sim.seen[-1].op, sim.seen[-1].body, sim.seen[-1].error) == ("cancel", {"id": order_id}, None)


async def test_pending_cancel_settles_later(sim: BitfinexSimulator, adapter: BitfinexAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", "cancel", api_key=creds.api_key, seconds=30))
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.inProgress
    # Submitted is not done: the order is still live until Bitfinex confirms.
    assert (await adapter.get_order(creds, ref(order_id))).status is OrderStatus.inProgress


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: BitfinexSimulator, adapter: BitfinexAdapter, state: str
) -> None:
    creds = account(sim)
    owner = creds.api_key if state != "another account's" else account(sim).api_key
    order_id = sim.place_order(owner) if state != "never placed" else 777777777777
    if state == "filled":
        sim.fill(str(order_id))
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.upstream_status, caught.value.venue_message) == (500, "Order not found.")


@pytest.mark.parametrize(
    "order_id", ["", "-1", "0", "01", "1.5", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n2", "1" * 19, "9" * 10_000]
)
async def test_malformed_ids_are_refused_before_sending(
    sim: BitfinexSimulator, adapter: BitfinexAdapter, order_id: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id))
        assert caught.value.error_type is ErrorType.invalidField
        assert list(caught.value.error_data["fields"]) == ["id"]
    assert adapter.transport.requests_sent == sent


def test_order_id_shape_example_matches() -> None:
    import re

    assert re.fullmatch(ORDER_ID_SHAPE[0], ORDER_ID_SHAPE[1])


@pytest.mark.parametrize(
    ("state", "status", "filled", "side"),
    [
        ("open", OrderStatus.inProgress, 0.0, OrderSide.buy),
        ("partial", OrderStatus.partiallyFilled, 0.4, OrderSide.sell),
        ("filled", OrderStatus.success, 1.0, OrderSide.buy),
        ("cancelled", OrderStatus.cancelled, 0.0, OrderSide.sell),
        ("partial then cancelled", OrderStatus.cancelled, 0.4, OrderSide.buy),
    ],
)
async def test_get_order_maps_each_state(
    sim: BitfinexSimulator, adapter: BitfinexAdapter, state: str, status: OrderStatus, filled: float, side: OrderSide
) -> None:
    creds = account(sim)
    amount = "1" if side is OrderSide.buy else "-1"
    order_id = sim.place_order(creds.api_key, amount=amount, price="30000")
    if state.startswith("partial"):
        sim.fill(str(order_id), "0.4")
    if state == "filled":
        sim.fill(str(order_id))
    if "cancelled" in state:
        await adapter.cancel(creds, ref(order_id))
    snapshot = await adapter.get_order(creds, ref(order_id))
    assert snapshot is not None
    assert (snapshot.status, snapshot.amount, snapshot.filled, snapshot.side) == (status, 1.0, filled, side)
    assert (snapshot.symbol, snapshot.payment_symbol, snapshot.symbol_pair) == ("BTC", "USD", "tBTCUSD")
    assert (snapshot.price, snapshot.order_type, snapshot.time_in_force) == (30000.0, "limit", "goodTillCanceled")
    assert snapshot.value == pytest.approx(filled * 30000)
    live = status in (OrderStatus.inProgress, OrderStatus.partiallyFilled)
    assert [s.op for s in sim.seen if s.api_key == creds.api_key][-(1 if live else 2) :] == (
        ["orders"] if live else ["orders", "hist"]
    )


async def test_get_order_of_an_order_bitfinex_does_not_have_is_none(
    sim: BitfinexSimulator, adapter: BitfinexAdapter
) -> None:
    creds = account(sim)
    for order_id in (777777777777, sim.place_order(account(sim).api_key)):
        assert await adapter.get_order(creds, ref(order_id)) is None


ERRORS: list[tuple[str, ErrorType, int | None, int]] = [
    ("auth", ErrorType.institutionAuthFailed, None, 500),
    ("permission", ErrorType.institutionPermissionDenied, None, 500),
    ("rate_limit", ErrorType.rateLimited, 60, 429),
    ("unavailable", ErrorType.institutionUnavailable, None, 500),  # 20060 maintenance
    ("10000", ErrorType.institutionUnavailable, None, 500),
    ("10020", ErrorType.institutionRejected, None, 500),
    ("10114", ErrorType.institutionAuthFailed, None, 500),
    ("11000", ErrorType.institutionUnavailable, None, 500),
]


@pytest.mark.parametrize(("error", "expected", "retry_after", "http"), ERRORS)
async def test_each_business_error_maps_to_its_meaning(
    sim: BitfinexSimulator,
    adapter: BitfinexAdapter,
    error: str,
    expected: ErrorType,
    retry_after: int | None,
    http: int,
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after, caught.value.upstream_status) == (
        expected,
        retry_after,
        http,
    )
    assert sim.status(str(order_id)) is OrderStatus.inProgress
    assert_clean(caught.value, creds)


@pytest.mark.parametrize("status", [500, 502, 503, 200])
async def test_an_html_page_is_an_outage_not_a_business_error(
    sim: BitfinexSimulator, adapter: BitfinexAdapter, status: int
) -> None:
    creds = account(sim)
    sim.inject(Fault("http_error", "cancel", api_key=creds.api_key, status=status))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionUnavailable
    assert "unreadable body" in caught.value.message


async def test_dropped_connection_is_outcome_unknown(sim: BitfinexSimulator, adapter: BitfinexAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("reset", "cancel", api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    assert sim.status(str(order_id)) is OrderStatus.inProgress


@pytest.fixture(scope="module")
def odd_venue() -> Iterator[tuple[list[Response], str]]:
    """Answers whatever the test queues: shapes a broken or changed Bitfinex could send."""
    queued: list[Response] = []

    async def endpoint(_request):
        return queued.pop(0)

    app = Starlette(routes=[Route("/v2/auth/w/order/cancel", endpoint, methods=["POST"])])
    with serve_asgi(app) as url:
        yield queued, url


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (JSONResponse([1, "oc-req", None, None, [456], None, "SUCCESS", "ok"]), ErrorType.institutionUnavailable),
        (JSONResponse([1, "oc-req", None, None, [123], None, "ERROR", "failed"]), ErrorType.institutionUnavailable),
        (JSONResponse([1, "on-req", None, None, [123], None, "SUCCESS", "ok"]), ErrorType.institutionUnavailable),
        (JSONResponse([1, "oc-req"]), ErrorType.institutionUnavailable),
        (JSONResponse({"error": "ERR_RATE_LIMIT"}, status_code=429), ErrorType.rateLimited),
        (JSONResponse({"code": 503, "error": "temporarily_unavailable"}, 503), ErrorType.institutionUnavailable),
        (JSONResponse(["error", 99999, "something new"], status_code=500), ErrorType.institutionUnavailable),
        (HTMLResponse("<html>429</html>", status_code=429), ErrorType.rateLimited),
    ],
)
async def test_an_answer_that_is_not_a_clear_success_is_never_success(
    odd_venue: tuple[list[Response], str], transport: Transport, answer: Response, expected: ErrorType
) -> None:
    queued, url = odd_venue
    queued.append(answer)
    with pytest.raises(GatewayError) as caught:
        await BitfinexAdapter(SPEC, url, transport).cancel(
            Credentials(IntegrationType.bitfinex, "k" * 43, "s" * 43), ref(123)
        )
    assert caught.value.error_type is expected


async def test_an_error_notification_saying_not_found_is_unknown_order(
    odd_venue: tuple[list[Response], str], transport: Transport
) -> None:
    queued, url = odd_venue
    queued.append(JSONResponse([1, "oc-req", None, None, None, None, "ERROR", "Order not found."]))
    with pytest.raises(UnknownOrderAtVenue):
        await BitfinexAdapter(SPEC, url, transport).cancel(
            Credentials(IntegrationType.bitfinex, "k" * 43, "s" * 43), ref(123)
        )


async def test_verify_credentials(sim: BitfinexSimulator, adapter: BitfinexAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("bitfinex-") and creds.api_key not in info.account_id
    assert info.account_name == "Bitfinex"
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(account(sim, can_trade=False), None)
    assert caught.value.error_type is ErrorType.institutionPermissionDenied


@pytest.mark.parametrize("integration", [IntegrationType.bitfinex, IntegrationType.bitfinexDirect])
async def test_registry_routes_both_types(integration: IntegrationType) -> None:
    transport = Transport(timeout_s=1.0)
    adapter = VenueRegistry(transport).adapter(integration)
    assert isinstance(adapter, BitfinexAdapter) and adapter.base_url == "https://api.bitfinex.com"
    # No sandbox host exists: testnet mode keeps production (paper trading is a sub-account there).
    assert VenueRegistry(transport, testnet=True).adapter(integration).base_url == "https://api.bitfinex.com"
    assert SPECS[integration].oracle == "bitfinex-api-py, ccxt bitfinex" and SPECS[integration].requests_per_cancel == 1
    await transport.close()
