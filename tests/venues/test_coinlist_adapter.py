"""CoinlistAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.coinlist.adapter import CoinlistAdapter
from ordergate.venues.coinlist.simulator import CoinlistSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.coinlist]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinlistSimulator, str]]:
    sim = CoinlistSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[CoinlistSimulator, str]) -> CoinlistSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[CoinlistSimulator, str], transport: Transport) -> CoinlistAdapter:
    return CoinlistAdapter(SPEC, served[1], transport)


def account(sim: CoinlistSimulator, *, can_trade: bool = True) -> Credentials:
    issued = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.coinlist, issued.api_key, issued.secret)


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


def place(sim: CoinlistSimulator, creds: Credentials, volume: str = "1") -> str:
    return sim.place(SimAccount(creds.api_key, creds.secret), volume=volume, price="20000")[0]


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None)))
    assert creds.api_key not in text and creds.secret not in text


async def test_verify_names_the_trader_and_cancel_is_acknowledged(sim: CoinlistSimulator, adapter: CoinlistAdapter):
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    order_id = place(sim, creds)
    assert info.account_id == sim.describe(order_id)["trader_id"]
    ack = await adapter.cancel(creds, ref(order_id))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.inProgress, 202)
    assert sim.count(creds.api_key, "CancelOrder") == 1 and sim.count_key(creds.api_key) == 2


async def test_lookup_maps_coinlist_statuses(sim: CoinlistSimulator, adapter: CoinlistAdapter) -> None:
    creds = account(sim)
    order_id = place(sim, creds, volume="2")
    open_ = await adapter.get_order(creds, ref(order_id))
    assert open_ is not None
    assert (open_.status, open_.venue_status, open_.side, open_.symbol_pair) == (
        OrderStatus.inProgress,
        "accepted",
        OrderSide.buy,
        "BTC-USDT",
    )
    assert (open_.symbol, open_.payment_symbol, open_.amount, open_.price) == ("BTC", "USDT", 2.0, 20000.0)
    sim.fill(order_id, "0.5")
    partial = await adapter.get_order(creds, ref(order_id))
    assert partial is not None and (partial.status, partial.filled, partial.value) == (
        OrderStatus.partiallyFilled,
        0.5,
        10000.0,
    )
    sim.fill(order_id)
    done = await adapter.get_order(creds, ref(order_id))
    assert done is not None and (done.status, done.venue_status, done.filled) == (OrderStatus.success, "done", 2.0)


async def test_unknown_and_final_orders_are_ambiguous_on_cancel(sim: CoinlistSimulator, adapter: CoinlistAdapter):
    creds = account(sim)
    filled = place(sim, creds)
    sim.fill(filled)
    for order_id in (filled, str(uuid.uuid4()), place(sim, account(sim))):
        with pytest.raises(UnknownOrderAtVenue):
            await adapter.cancel(creds, ref(order_id))
    # The lookup of an order this trader does not have is CoinList's empty 404: definitely no such order.
    assert await adapter.get_order(creds, ref(str(uuid.uuid4()))) is None


async def test_definite_failures(sim: CoinlistSimulator, adapter: CoinlistAdapter) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    wrong = Credentials(IntegrationType.coinlist, creds.api_key, account(sim).secret)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(wrong, ref(order_id))
    assert caught.value.error_type is ErrorType.institutionAuthFailed and "AUTH_SIG_INVALID" in str(caught.value)
    assert_clean(caught.value, wrong)

    unknown_key = Credentials(IntegrationType.coinlist, str(uuid.uuid4()), creds.secret)
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(unknown_key, None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed

    reader = account(sim, can_trade=False)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(reader, ref(place(sim, reader)))
    assert caught.value.error_type is ErrorType.institutionPermissionDenied

    not_base64 = Credentials(IntegrationType.coinlist, creds.api_key, "not base64!")
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(not_base64, ref(order_id))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_rate_limit_and_lost_answers(sim: CoinlistSimulator, adapter: CoinlistAdapter) -> None:
    creds = account(sim)
    order_id = place(sim, creds)
    sim.inject(Fault("venue_error", "CancelOrder", api_key=creds.api_key, error="rate_limit"))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, 1)
    sim.inject(Fault("reset", "CancelOrder", api_key=creds.api_key, process=True))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    assert sim.status(order_id) is OrderStatus.cancelled


def _fake_venue(status: int, body: bytes, content_type: str = "application/json") -> Starlette:
    async def answer(_request: Request) -> Response:
        return Response(body, status_code=status, media_type=content_type)

    return Starlette(routes=[Route("/v1/orders/{order_id}", answer, methods=["GET", "DELETE"])])


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        # A 2xx with a message code is an error, never a success (ccxt handle_errors reads it the same way).
        (200, b'{"status":400,"message":"x","message_code":"ORDER_REJECT_BAD_STATUS"}', UnknownOrderAtVenue),
        (
            202,
            b'{"message":"Cancel order request received.","order_id":"someone-else"}',
            ErrorType.institutionUnavailable,
        ),
        (200, b"not json", ErrorType.institutionUnavailable),
        (404, b"<html>nginx 404</html>", ErrorType.institutionUnavailable),  # a page in front of CoinList
        (503, b'{"status":503,"message":"x","message_code":"DENIED_MAINTENANCE"}', ErrorType.institutionUnavailable),
        (400, b'{"status":400,"message":"\\"order_id\\" must be a valid GUID"}', UnknownOrderAtVenue),
    ],
)
async def test_answers_that_are_not_an_acknowledgement(
    transport: Transport, status: int, body: bytes, expected: object
) -> None:
    with serve_asgi(_fake_venue(status, body)) as url:
        adapter = CoinlistAdapter(SPEC, url, transport)
        creds = Credentials(IntegrationType.coinlist, "key-0001", "c2VjcmV0c2VjcmV0")
        order_id = str(uuid.uuid4())
        if expected is UnknownOrderAtVenue:
            with pytest.raises(UnknownOrderAtVenue):
                await adapter.cancel(creds, ref(order_id))
        else:
            with pytest.raises(GatewayError) as caught:
                await adapter.cancel(creds, ref(order_id))
            assert caught.value.error_type is expected


async def test_an_html_404_on_lookup_is_not_no_such_order(transport: Transport) -> None:
    # Only CoinList's own empty 404 (or a JSON answer) means "no such order"; a proxy's page says nothing.
    with serve_asgi(_fake_venue(404, b"<html>not found</html>", "text/html")) as url:
        adapter = CoinlistAdapter(SPEC, url, transport)
        creds = Credentials(IntegrationType.coinlist, "key-0001", "c2VjcmV0c2VjcmV0")
        with pytest.raises(GatewayError) as caught:
            await adapter.get_order(creds, ref(str(uuid.uuid4())))
    assert caught.value.error_type is ErrorType.institutionUnavailable
