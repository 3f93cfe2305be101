"""BitflyerAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.bitflyer.adapter import BitflyerAdapter
from ordergate.venues.bitflyer.constants import ORDER_ID_SHAPE, RATE_WINDOW_S
from ordergate.venues.bitflyer.simulator import SYMBOLIC_PERIOD_S, BitflyerSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.bitFlyer]
BAD_SIGNATURE = b'{"status":-500,"error_message":"Invalid signature","data":null}'
OVER_LIMIT = b'{"status":-1,"error_message":"Over API limit per minute","data":null}'


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BitflyerSimulator, str]]:
    sim = BitflyerSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BitflyerSimulator, str]) -> BitflyerSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BitflyerSimulator, str], transport: Transport) -> BitflyerAdapter:
    return BitflyerAdapter(SPEC, served[1], transport)


def account(sim: BitflyerSimulator, *, can_trade: bool = True) -> Credentials:
    key = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.bitFlyer, key.api_key, key.secret)


def ref(order_id: str, symbol_pair: str | None = "BTC_JPY") -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True, symbol_pair=symbol_pair)


def child_id(sim: BitflyerSimulator, acceptance_id: str) -> str:
    return sim.describe(acceptance_id)["child_order_id"]


def test_registry_routes_bitflyer_here(transport: Transport) -> None:
    registry = VenueRegistry(transport)
    adapter = registry.adapter(IntegrationType.bitFlyer)
    assert isinstance(adapter, BitflyerAdapter) and adapter.base_url == "https://api.bitflyer.com"
    assert (SPEC.requests_per_cancel, SPEC.testnet_url) == (3, None)
    assert [f.value for f in SPEC.required_fields] == ["symbolPair"]


@pytest.mark.parametrize("by", ["acceptance id", "child order id"])
@pytest.mark.parametrize("pair", ["BTC_JPY", "BTC/JPY", "btc-jpy"])
async def test_cancel_reads_then_cancels(sim: BitflyerSimulator, adapter: BitflyerAdapter, by: str, pair: str) -> None:
    creds = account(sim)
    acceptance, _ = sim.place(SimAccount(creds.api_key, creds.secret))
    order_id = acceptance if by == "acceptance id" else child_id(sim, acceptance)
    ack = await adapter.cancel(creds, ref(order_id, pair))
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.cancelled, 200)
    assert (sim.count(creds.api_key, "getchildorders"), sim.count(creds.api_key, "cancelchildorder")) == (2, 1)
    assert sim.status(acceptance) is OrderStatus.cancelled
    snapshot = await adapter.get_order(creds, ref(order_id, pair))
    assert snapshot is not None and (snapshot.status, snapshot.venue_status) == (OrderStatus.cancelled, "CANCELED")


@pytest.mark.parametrize("state", ["filled", "cancelled", "expired", "never placed", "another account's", "ETH_JPY"])
async def test_a_final_or_unknown_order_gets_no_cancel(
    sim: BitflyerSimulator, adapter: BitflyerAdapter, state: str
) -> None:
    creds = account(sim)
    owner = account(sim) if state == "another account's" else creds
    order_id, _ = sim.place(SimAccount(owner.api_key, owner.secret))
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "expired":
        sim.set_state(order_id, "EXPIRED")
    elif state == "never placed":
        order_id = order_id[:-6] + ("000000" if order_id[-6:] != "000000" else "000001")
    before = sim.count(creds.api_key, "cancelchildorder")
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(order_id, "ETH_JPY" if state == "ETH_JPY" else "BTC_JPY"))
    assert sim.count(creds.api_key, "cancelchildorder") == before
    if state in ("another account's", "ETH_JPY"):
        assert sim.status(order_id) is OrderStatus.inProgress


@pytest.mark.parametrize(
    ("order_id", "pair", "field"),
    [("", "BTC_JPY", "id"), ("-1", "BTC_JPY", "id"), ("..", "BTC_JPY", "id"), ("a/b", "BTC_JPY", "id"),
     ("1?x=1", "BTC_JPY", "id"), ("%2e%2e", "BTC_JPY", "id"), ("JRF20150707-060559-396699#x", "BTC_JPY", "id"),
     ("JRF20150707-060559-396699\r\n", "BTC_JPY", "id"), ("J" * 10_000, "BTC_JPY", "id"),
     ("JCP20150101-035534-486653", "BTC_JPY", "id"), ("QQQ73333373-333333-333333", "BTC_JPY", "id"),
     (ORDER_ID_SHAPE[1], None, "symbolPair"), (ORDER_ID_SHAPE[1], "BTC JPY", "symbolPair"),
     (ORDER_ID_SHAPE[1], "BTC_JPY&x=1", "symbolPair"), (ORDER_ID_SHAPE[1], "_", "symbolPair")],
)  # fmt: skip
async def test_malformed_ids_and_symbols_are_refused_before_sending(
    sim: BitflyerSimulator, adapter: BitflyerAdapter, order_id: str, pair: str | None, field: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id, pair))
        assert caught.value.error_type is ErrorType.invalidField
        assert list(caught.value.error_data["fields"]) == [field]
    assert adapter.transport.requests_sent == sent


async def test_snapshot_of_a_partial_fill(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds = account(sim)
    order_id, _ = sim.place(SimAccount(creds.api_key, creds.secret), volume="2", price="3000000")
    sim.fill(order_id, "0.5")
    snap = await adapter.get_order(creds, ref(order_id))
    assert snap is not None
    assert (snap.status, snap.amount, snap.filled, snap.side, snap.symbol, snap.payment_symbol) == (
        OrderStatus.partiallyFilled, 2, 0.5, OrderSide.buy, "BTC", "JPY",
    )  # fmt: skip
    assert (snap.price, snap.value, snap.order_type, snap.time_in_force) == (
        3000000,
        1500000,
        "limit",
        "goodTillCanceled",
    )
    assert snap.created_at is not None


async def test_pending_cancel_is_in_progress_until_it_settles(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds = account(sim)
    order_id, _ = sim.place(SimAccount(creds.api_key, creds.secret))
    sim.inject(Fault("pending", "cancelchildorder", api_key=creds.api_key, seconds=0.5))
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.inProgress
    assert (await adapter.get_order(creds, ref(order_id))).status is OrderStatus.inProgress  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("error", "kind", "retry"),
    [("rate_limit", ErrorType.rateLimited, SYMBOLIC_PERIOD_S), ("ban", ErrorType.institutionLocked, 3600),
     ("auth", ErrorType.institutionAuthFailed, None), ("permission", ErrorType.institutionPermissionDenied, None),
     ("unavailable", ErrorType.institutionUnavailable, None),
     ("-208:Order is not accepted. Please try again later.", ErrorType.institutionUnavailable, None),
     ("-100:Invalid product", ErrorType.institutionRejected, None)],
)  # fmt: skip
async def test_venue_errors_map_to_definite_answers(
    sim: BitflyerSimulator, adapter: BitflyerAdapter, error: str, kind: ErrorType, retry: int | None
) -> None:
    creds = account(sim)
    order_id, _ = sim.place(SimAccount(creds.api_key, creds.secret))
    sim.inject(Fault("venue_error", "cancelchildorder", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after) == (kind, retry)
    assert creds.api_key not in str(caught.value) and creds.secret not in str(caught.value)
    assert sim.status(order_id) is OrderStatus.inProgress


def _fake(status: int, body: bytes, headers: dict[str, str] | None = None) -> Starlette:
    async def endpoint(_request: object) -> Response:
        return Response(body, status, headers, media_type="application/json")

    return Starlette(routes=[Route("/v1/me/{path}", endpoint, methods=["GET", "POST"])])


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "retry"),
    [(200, BAD_SIGNATURE, {}, ErrorType.institutionAuthFailed, None),
     (200, OVER_LIMIT, {}, ErrorType.rateLimited, RATE_WINDOW_S),
     (429, b"", {"Retry-After": "7"}, ErrorType.rateLimited, 7),
     (429, b"<html>slow down</html>", {"x-ratelimit-period": "12"}, ErrorType.rateLimited, 12),
     (200, b'{"status":-9999,"error_message":"?","data":null}', {}, ErrorType.institutionUnavailable, None),
     (502, b"<html>bad gateway</html>", {}, ErrorType.institutionUnavailable, None),
     (200, b'{"unexpected": true}', {}, ErrorType.institutionUnavailable, None),
     (200, b"<html>", {}, ErrorType.institutionUnavailable, None)],
)  # fmt: skip
async def test_errors_inside_http_200_and_bare_status_codes(
    transport: Transport, status: int, body: bytes, headers: dict[str, str], kind: ErrorType, retry: int | None
) -> None:
    with serve_asgi(_fake(status, body, headers)) as url:
        adapter = BitflyerAdapter(SPEC, url, transport)
        with pytest.raises(GatewayError) as caught:
            await adapter.get_order(Credentials(IntegrationType.bitFlyer, "KEY0", "SECRET0"), ref(ORDER_ID_SHAPE[1]))
    assert (caught.value.error_type, caught.value.retry_after) == (kind, retry)


async def test_verify_credentials(sim: BitflyerSimulator, adapter: BitflyerAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("bitflyer-") and creds.api_key not in info.account_id
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(account(sim, can_trade=False), None)
    assert caught.value.error_type is ErrorType.institutionPermissionDenied
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(Credentials(IntegrationType.bitFlyer, creds.api_key, "wrong" * 8), None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(Credentials(IntegrationType.bitFlyer, "key\r\nX: 1", creds.secret), None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
