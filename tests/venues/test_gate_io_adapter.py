"""GateIoAdapter over a real Transport against the simulator (and, for odd answers, a scripted server) on a real
socket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.gate_io.adapter import GateIoAdapter
from ordergate.venues.gate_io.constants import ORDER_ID_SHAPE, TESTNET_URL
from ordergate.venues.gate_io.simulator import GateIoSimulator
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.gateIo]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GateIoSimulator, str]]:
    sim = GateIoSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[GateIoSimulator, str]) -> GateIoSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[GateIoSimulator, str], transport: Transport) -> GateIoAdapter:
    return GateIoAdapter(SPEC, served[1], transport)


def account(sim: GateIoSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.gateIo, key.api_key, key.secret)


def ref(order_id: str, pair: str | None = "BTC_USDT") -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True, symbol_pair=pair)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "error_data", None), getattr(error, "display_message", "")))
    assert creds.api_key not in text and creds.secret not in text


@pytest.mark.parametrize("pair", ["BTC_USDT", "BTC/USDT", "btc-usdt"])
async def test_cancel_is_one_request_and_confirmed(sim: GateIoSimulator, adapter: GateIoAdapter, pair: str) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sent = adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(order_id, pair))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.cancelled, 200)
    assert adapter.transport.requests_sent - sent == 1 == sim.count_key(creds.api_key)
    seen = sim.seen[-1]
    assert (seen.op, seen.label, seen.params) == ("cancel", None, {"currency_pair": "BTC_USDT", "order_id": order_id})
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize("suffix", ["", "/api/v4", "/api/v4/"])
async def test_base_url_with_or_without_api_v4_and_under_a_mount_prefix(transport: Transport, suffix: str) -> None:
    # The catalogue's URL ends in /api/v4, the sandbox mounts the simulator at /sandbox/gate_io: Gate's own
    # /api/v4/... path is what is signed either way.
    sim = GateIoSimulator()
    with serve_asgi(Starlette(routes=[Mount("/sandbox/gate_io", app=sim.app)])) as url:
        adapter = GateIoAdapter(SPEC, f"{url}/sandbox/gate_io{suffix}", transport)
        creds = account(sim)
        order_id = sim.place_order(creds.api_key)
        assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.cancelled
        assert (await adapter.verify_credentials(creds, None)).account_id.startswith("gateio-")


@pytest.mark.parametrize(
    "bad_id",
    ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\nX: y", "9" * 10_000, "t-my-order", "0123",
     str(2**63), "12 3", "１２３"],
)  # fmt: skip
async def test_ids_that_cannot_name_a_gate_order_never_reach_gate(
    sim: GateIoSimulator, adapter: GateIoAdapter, bad_id: str
) -> None:
    creds = account(sim)
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(bad_id))
        assert (caught.value.error_type, set(caught.value.error_data["fields"])) == (ErrorType.invalidField, {"id"})
    assert sim.count_key(creds.api_key) == 0


def test_the_declared_order_id_shape_is_what_the_adapter_accepts() -> None:
    import re

    pattern, example = ORDER_ID_SHAPE
    assert re.fullmatch(pattern, example) and not re.fullmatch(pattern, "t-abc")


@pytest.mark.parametrize(("pair", "error"), [(None, ErrorType.missingField), ("BTCUSDT", ErrorType.invalidField),
                                             ("BTC_USDT?x=1", ErrorType.invalidField)])  # fmt: skip
async def test_pair_is_required_and_must_be_unambiguous(
    sim: GateIoSimulator, adapter: GateIoAdapter, pair: str | None, error: ErrorType
) -> None:
    creds = account(sim)
    with pytest.raises(GatewayError) as caught:
        await adapter.get_order(creds, ref("394120203701", pair))
    assert (caught.value.error_type, set(caught.value.error_data["fields"])) == (error, {"symbolPair"})
    assert sim.count_key(creds.api_key) == 0


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's", "on another pair"])
async def test_final_or_unknown_orders_go_to_a_lookup(sim: GateIoSimulator, adapter: GateIoAdapter, state: str) -> None:
    creds = account(sim)
    owner = creds.api_key if state != "another account's" else account(sim).api_key
    order_id = sim.place_order(owner, pair="ETH_USDT" if state == "on another pair" else "BTC_USDT")
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "never placed":
        order_id = "999999999999"
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id))
    label = {"filled": "ORDER_CLOSED", "cancelled": "ORDER_CANCELLED"}.get(state, "ORDER_NOT_FOUND")
    assert caught.value.venue_message.startswith(label)
    snapshot = await adapter.get_order(creds, ref(order_id))
    expected = {"filled": OrderStatus.success, "cancelled": OrderStatus.cancelled}.get(state)
    assert (snapshot.status if snapshot else None) == expected


async def test_snapshot_of_a_partly_filled_then_cancelled_order(sim: GateIoSimulator, adapter: GateIoAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, side="sell", amount="2", price="30000")
    sim.fill(order_id, "0.5")
    live = await adapter.get_order(creds, ref(order_id))
    assert live is not None and (live.status, live.filled, live.amount) == (OrderStatus.partiallyFilled, 0.5, 2.0)
    await adapter.cancel(creds, ref(order_id))
    done = await adapter.get_order(creds, ref(order_id))
    assert done is not None
    assert (done.status, done.venue_status, done.filled, done.value, done.side) == (
        OrderStatus.cancelled, "cancelled/cancelled", 0.5, 15000.0, OrderSide.sell)  # fmt: skip
    assert (done.symbol, done.payment_symbol, done.symbol_pair, done.order_type, done.time_in_force) == (
        "BTC", "USDT", "BTC_USDT", "limit", "goodTillCanceled")  # fmt: skip


async def test_zero_fill_cancelled_order_is_gone_after_gates_retention(transport: Transport) -> None:
    sim = GateIoSimulator(retention_s=-1.0)  # forgotten at once, rather than after Gate's minute
    with serve_asgi(sim.app) as url:
        adapter, creds = GateIoAdapter(SPEC, url, transport), account(sim)
        order_id = sim.place_order(creds.api_key)
        await adapter.cancel(creds, ref(order_id))
        assert await adapter.get_order(creds, ref(order_id)) is None


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [("auth", ErrorType.institutionAuthFailed, 401),
     ("INVALID_SIGNATURE", ErrorType.institutionAuthFailed, 401),
     ("permission", ErrorType.institutionPermissionDenied, 403),
     ("IP_FORBIDDEN", ErrorType.institutionPermissionDenied, 403),
     ("ban", ErrorType.institutionLocked, 403),
     ("unavailable", ErrorType.institutionUnavailable, 500),
     ("INVALID_CURRENCY_PAIR", ErrorType.institutionRejected, 400),
     ("SOMETHING_NEW", ErrorType.institutionRejected, 400)],
)  # fmt: skip
async def test_labels_decide(
    sim: GateIoSimulator, adapter: GateIoAdapter, error: str, kind: ErrorType, status: int
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status, caught.value.retry_after) == (kind, status, None)
    assert_clean(caught.value, creds)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_read_only_key_is_403(sim: GateIoSimulator, adapter: GateIoAdapter) -> None:
    creds = account(sim, can_trade=False)
    order_id = sim.place_order(creds.api_key)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert caught.value.error_type is ErrorType.institutionPermissionDenied
    assert (await adapter.verify_credentials(creds, None)).account_name == "Gate.io"  # reads still work


async def test_gateway_clock_off_by_more_than_a_minute_names_the_clock(
    served: tuple[GateIoSimulator, str], transport: Transport
) -> None:
    sim, url = served
    creds = account(sim)
    adapter = GateIoAdapter(SPEC, url, transport, clock=lambda: str(int(time.time()) - 120))
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(creds, None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed and "clock" in caught.value.message


def _scripted(status: int, body: object, headers: dict[str, str] | None = None) -> Starlette:
    async def endpoint(_request: Request) -> JSONResponse:
        return JSONResponse(body, status_code=status, headers=headers)

    return Starlette(routes=[Route("/api/v4/spot/{rest:path}", endpoint, methods=["GET", "DELETE"])])


CREDS = Credentials(IntegrationType.gateIo, "a" * 32, "b" * 64)


async def test_rate_limit_reset_is_measured_on_gates_clock(transport: Transport) -> None:
    # Gate's clock is a day behind the gateway's here: X-Out-Time, not the local clock, is what the reset is
    # measured against.
    gate_now = time.time() - 86_400
    headers = {"X-Gate-RateLimit-Reset-Timestamp": str(int(gate_now) + 7), "X-Out-Time": str(int(gate_now) * 10**6)}
    app = _scripted(429, {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"}, headers)
    with serve_asgi(app) as url, pytest.raises(GatewayError) as caught:
        await GateIoAdapter(SPEC, url, transport).cancel(CREDS, ref("394120203701"))
    assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, 7)


@pytest.mark.parametrize(("headers", "expected"), [({}, 1), ({"X-Gate-RateLimit-Reset-Timestamp": "1"}, 1)])
async def test_rate_limit_without_a_usable_reset_waits_the_documented_window(
    transport: Transport, headers: dict[str, str], expected: int
) -> None:
    with serve_asgi(_scripted(429, {"label": "TOO_FAST", "message": "slow down"}, headers)) as url:
        adapter = GateIoAdapter(SPEC, url, transport)
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(CREDS, ref("394120203701"))
        assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, expected)
        with pytest.raises(GatewayError) as looked:
            await adapter.get_order(CREDS, ref("394120203701"))
        assert looked.value.retry_after == 10  # "the others: 200r/10s per endpoint"


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [(200, {"id": "394120203701", "status": "closed", "finish_as": "filled"}, ErrorType.orderNotCancelable),
     (200, {"id": "1", "status": "cancelled"}, ErrorType.institutionUnavailable),
     (200, ["not", "an", "order"], ErrorType.institutionUnavailable),
     (401, {"message": "no label"}, ErrorType.institutionAuthFailed),
     (403, {"error": "cloudflare"}, ErrorType.institutionUnavailable),
     (200, {"label": "SERVER_ERROR", "message": "inside a 200"}, ErrorType.institutionUnavailable)],
)  # fmt: skip
async def test_odd_answers_are_never_success(transport: Transport, status: int, body: object, kind: ErrorType) -> None:
    with serve_asgi(_scripted(status, body)) as url, pytest.raises(GatewayError) as caught:
        await GateIoAdapter(SPEC, url, transport).cancel(CREDS, ref("394120203701"))
    assert caught.value.error_type is kind
    if kind is ErrorType.orderNotCancelable:
        assert caught.value.error_data == {"orderStatus": "success", "orderId": "394120203701"}


async def test_venue_text_echoing_credentials_is_scrubbed(transport: Transport) -> None:
    body = {"label": "INVALID_KEY", "message": f"key {CREDS.api_key} with secret {CREDS.secret} is unknown"}
    with serve_asgi(_scripted(401, body)) as url, pytest.raises(GatewayError) as caught:
        await GateIoAdapter(SPEC, url, transport).verify_credentials(CREDS, None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert_clean(caught.value, CREDS)


def test_registry_routes_gate_io_and_its_testnet(transport: Transport) -> None:
    assert isinstance(VenueRegistry(transport).adapter(IntegrationType.gateIo), GateIoAdapter)
    testnet = VenueRegistry(transport, testnet=True)
    assert testnet.base_url(IntegrationType.gateIo) == TESTNET_URL
    assert SPEC.production_url == "https://api.gateio.ws/api/v4" and SPEC.oracle.startswith("gate-api")
