"""BinanceAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.binance.adapter import BinanceAdapter, _snapshot, account_fingerprint
from ordergate.venues.binance.auth import ServerClock
from ordergate.venues.binance.simulator import BinanceSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.binanceInternational]
TYPES = [IntegrationType.binanceUs, IntegrationType.binanceInternational, IntegrationType.binanceInternationalDirect]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BinanceSimulator, str]]:
    sim = BinanceSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BinanceSimulator, str]) -> BinanceSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BinanceSimulator, str], transport: Transport) -> BinanceAdapter:
    return BinanceAdapter(SPEC, served[1], transport)


def account(sim: BinanceSimulator, *, can_trade: bool = True) -> Credentials:
    made = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.binanceInternational, made.api_key, made.secret)


def ref(order_id: int | str, symbol_pair: str | None = "BTCUSDT") -> OrderRef:
    return OrderRef(id=str(order_id), is_cryptocurrency=True, symbol_pair=symbol_pair)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(
        str(v) for v in (error, getattr(error, "display_message", None), getattr(error, "error_data", None))
    )
    assert creds.api_key not in text and creds.secret not in text


async def test_cancel_open_order_is_exactly_one_request(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    total, sent = sim.total_requests, adapter.transport.requests_sent

    ack = await adapter.cancel(creds, ref(order_id))

    assert (ack.order_id, ack.status, ack.upstream_status) == (str(order_id), OrderStatus.cancelled, 200)
    assert sim.status(str(order_id)) is OrderStatus.cancelled
    assert (sim.total_requests - total, adapter.transport.requests_sent - sent) == (1, 1)
    seen = sim.seen[-1]
    assert (seen.op, seen.error) == ("cancel", None)
    assert seen.params.keys() == {"timestamp", "symbol", "orderId", "recvWindow"}
    assert (seen.params["symbol"], seen.params["orderId"], seen.params["recvWindow"]) == (
        "BTCUSDT",
        str(order_id),
        "5000",
    )


@pytest.mark.parametrize("pair", ["BTCUSDT", "BTC/USDT", "BTC-USDT", "btc_usdt", "btcusdt"])
async def test_symbol_pairs_are_sent_as_binance_symbols(
    sim: BinanceSimulator, adapter: BinanceAdapter, pair: str
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    assert (await adapter.cancel(creds, ref(order_id, pair))).status is OrderStatus.cancelled
    assert sim.seen[-1].params["symbol"] == "BTCUSDT"


async def test_non_ascii_symbol_is_sent_percent_encoded_and_accepted(
    sim: BinanceSimulator, adapter: BinanceAdapter
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, symbol="币安人生USDT", price="0.2")
    assert (await adapter.cancel(creds, ref(order_id, "币安人生/usdt"))).status is OrderStatus.cancelled
    assert sim.seen[-1].params["symbol"] == "币安人生USDT"


async def test_cancel_partially_filled_order_keeps_the_fill(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, quantity="2")
    sim.fill(str(order_id), "0.5")
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.cancelled
    assert (sim.describe(str(order_id))["status"], sim.describe(str(order_id))["executedQty"]) == (
        "CANCELED",
        "0.50000000",
    )


@pytest.mark.parametrize("state", ["filled", "cancelled", "expired", "never minted", "another account's", "symbol"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: BinanceSimulator, adapter: BinanceAdapter, state: str
) -> None:
    creds = account(sim)
    owner = account(sim).api_key if state == "another account's" else creds.api_key
    order_id = sim.place_order(owner)
    if state == "filled":
        sim.fill(str(order_id))
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id))
    elif state == "expired":
        sim.expire(str(order_id))
    elif state == "never minted":
        order_id = 99
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id, "ETHUSDT" if state == "symbol" else "BTCUSDT"))
    assert (caught.value.upstream_status, caught.value.venue_message) == (400, "-2011 Unknown order sent.")


@pytest.mark.parametrize(
    ("order_ref", "field", "error_type"),
    [
        (ref("12a"), "id", ErrorType.invalidField),
        (ref(""), "id", ErrorType.invalidField),
        (ref("9" * 20), "id", ErrorType.invalidField),
        (ref("1", "BTC/USDT/EUR"), "symbolPair", ErrorType.invalidField),
        (ref("1", "BTC&USDT"), "symbolPair", ErrorType.invalidField),
        (ref("1", None), "symbolPair", ErrorType.missingField),
    ],
)
async def test_malformed_requests_are_refused_before_sending(
    sim: BinanceSimulator, adapter: BinanceAdapter, order_ref: OrderRef, field: str, error_type: ErrorType
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, order_ref)
        assert (caught.value.error_type, list(caught.value.error_data["fields"])) == (error_type, [field])
    assert adapter.transport.requests_sent == sent


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "NEW", 0.0),
        ("partial", OrderStatus.partiallyFilled, "PARTIALLY_FILLED", 0.5),
        ("filled", OrderStatus.success, "FILLED", 2.0),
        ("cancelled", OrderStatus.cancelled, "CANCELED", 0.0),
        ("expired", OrderStatus.expired, "EXPIRED", 0.0),
        ("stp", OrderStatus.expired, "EXPIRED_IN_MATCH", 0.0),
    ],
)
async def test_get_order_maps_each_state_and_fills_meshs_fields(
    sim: BinanceSimulator, adapter: BinanceAdapter, state: str, status: OrderStatus, venue_status: str, filled: float
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key, symbol="ETHBTC", side="SELL", quantity="2", price="0.05")
    {
        "partial": lambda: sim.fill(str(order_id), "0.5"),
        "filled": lambda: sim.fill(str(order_id)),
        "expired": lambda: sim.expire(str(order_id)),
        "stp": lambda: sim.expire(str(order_id), "EXPIRED_IN_MATCH"),
    }.get(state, lambda: None)()
    if state == "cancelled":
        await adapter.cancel(creds, ref(order_id, "ETH/BTC"))

    snapshot = await adapter.get_order(creds, ref(order_id, "ETH/BTC"))

    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (str(order_id), status, venue_status)
    assert (snapshot.amount, snapshot.filled, snapshot.value) == (2.0, filled, pytest.approx(filled * 0.05))
    assert (snapshot.side, snapshot.symbol, snapshot.payment_symbol, snapshot.symbol_pair) == (
        OrderSide.sell,
        "ETH",
        "BTC",
        "ETHBTC",
    )
    assert (snapshot.price, snapshot.order_type, snapshot.time_in_force) == (0.05, "limit", "goodTillCanceled")
    assert snapshot.created_at is not None and abs(snapshot.created_at - time.time()) < 600
    assert sim.seen[-1].op == "query"


@pytest.mark.parametrize("order_id", [99, "another account's"])
async def test_get_order_of_an_order_binance_does_not_have_is_none(
    sim: BinanceSimulator, adapter: BinanceAdapter, order_id: int | str
) -> None:
    creds = account(sim)
    if order_id == "another account's":
        order_id = sim.place_order(account(sim).api_key)
    assert await adapter.get_order(creds, ref(order_id)) is None
    assert sim.seen[-1].error == -2013


async def test_archived_order_is_final_with_nothing_filled(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    sim.inject(Fault("venue_error", "query", api_key=creds.api_key, error="-2026"))
    snapshot = await adapter.get_order(creds, ref(1234))
    assert snapshot is not None
    assert (snapshot.status, snapshot.venue_status, snapshot.filled) == (OrderStatus.cancelled, "ARCHIVED", 0.0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Shapes from Binance's "Query order" documentation, varied per case.
        (
            {"symbol": "BTCUSDT", "status": "FILLED", "type": "MARKET", "side": "BUY", "price": "0.00000000",
             "origQty": "2.00000000", "executedQty": "2.00000000", "cummulativeQuoteQty": "60000.00000000",
             "timeInForce": "GTC", "time": 1700000000000, "updateTime": 1700000005000},
            (OrderStatus.success, "market", "goodTillCanceled", 30000.0, 1700000000, 1700000005),
        ),
        (
            {"symbol": "BTCUSDT", "status": "NEW", "type": "LIMIT_MAKER", "side": "SELL", "price": "31000.00",
             "origQty": "1", "executedQty": "0", "cummulativeQuoteQty": "0", "timeInForce": "GTC", "time": 1},
            (OrderStatus.inProgress, "limit", "postOnly", 31000.0, None, None),
        ),
        (
            {"symbol": "BTCUSDT", "status": "REJECTED", "type": "STOP_LOSS_LIMIT", "side": "BUY", "price": "1",
             "timeInForce": "IOC"},
            (OrderStatus.rejected, "stopLimit", "immediateOrCancel", 1.0, None, None),
        ),
        (
            {"symbol": "BTCUSDT", "status": "PENDING_CANCEL", "type": "TAKE_PROFIT_LIMIT", "timeInForce": "FOK"},
            (OrderStatus.inProgress, "takeProfit", "fillOrKill", None, None, None),
        ),
        ({"symbol": "BTCUSDT", "status": "SOMETHING_NEW"}, (OrderStatus.unknown, None, None, None, None, None)),
    ],
)  # fmt: skip
def test_snapshot_mapping_of_documented_shapes(body: dict[str, object], expected: tuple[object, ...]) -> None:
    snapshot = _snapshot("1", body, ("BTCUSDT", ("BTC", "USDT")))
    status, order_type, tif, price, created, updated = expected
    assert (snapshot.status, snapshot.order_type, snapshot.time_in_force, snapshot.price) == (
        status,
        order_type,
        tif,
        price,
    )
    assert (snapshot.created_at, snapshot.updated_at) == (created, updated)
    assert (snapshot.symbol, snapshot.payment_symbol, snapshot.fee) == ("BTC", "USDT", None)


ERROR_CASES: list[tuple[str, ErrorType | type[Exception], int, int | None]] = [
    ("-2013", UnknownOrderAtVenue, 400, None),
    ("-2026", UnknownOrderAtVenue, 400, None),
    ("-1007", OutcomeUnknown, 503, None),
    ("-1006", OutcomeUnknown, 503, None),
    ("-1000", OutcomeUnknown, 500, None),
    ("-1001", ErrorType.institutionUnavailable, 503, None),
    ("-1008", ErrorType.institutionUnavailable, 503, None),
    ("unavailable", ErrorType.institutionUnavailable, 503, None),
    ("-1022", ErrorType.institutionAuthFailed, 400, None),
    ("-2014", ErrorType.institutionAuthFailed, 401, None),
    ("auth", ErrorType.institutionAuthFailed, 401, None),
    ("-1002", ErrorType.institutionPermissionDenied, 400, None),
    ("permission", ErrorType.institutionPermissionDenied, 400, None),
    ("-2011:This account may not place or cancel orders.", ErrorType.institutionPermissionDenied, 400, None),
    ("-2010:Rest API trading is not enabled.", ErrorType.institutionPermissionDenied, 400, None),
    ("-2011:This symbol is restricted for this account.", ErrorType.institutionPermissionDenied, 400, None),
    ("rate_limit", ErrorType.rateLimited, 429, 30),
    ("-1015", ErrorType.rateLimited, 429, 60),  # order-count 429s carry no Retry-After
    ("ban", ErrorType.institutionLocked, 418, 120),
    ("restricted", ErrorType.institutionRestricted, 451, None),
    ("-1121", ErrorType.institutionRejected, 400, None),
    ("-1100", ErrorType.institutionRejected, 400, None),
    ("-2011:Order was not canceled due to cancel restrictions.", ErrorType.institutionRejected, 400, None),
    ("-1999:Something Binance added", ErrorType.institutionRejected, 400, None),
]


@pytest.mark.parametrize(("error", "expected", "status", "retry_after"), ERROR_CASES)
async def test_each_binance_error_on_cancel_maps_to_its_meaning(
    sim: BinanceSimulator,
    adapter: BinanceAdapter,
    error: str,
    expected: ErrorType | type[Exception],
    status: int,
    retry_after: int | None,
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))

    with pytest.raises((GatewayError, OutcomeUnknown, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(order_id))

    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
        assert caught.value.upstream_status == status
        assert caught.value.message.startswith("Binance answered")
        if error == "-1121":
            assert list(caught.value.error_data["fields"]) == ["symbolPair"]
    else:
        assert type(caught.value) is expected
    assert sim.status(str(order_id)) is OrderStatus.inProgress
    assert sim.count(creds.api_key, "cancel") == 1
    assert_clean(caught.value, creds)


async def test_ip_ban_without_retry_after_uses_the_time_binance_names(
    sim: BinanceSimulator, adapter: BinanceAdapter
) -> None:
    creds = account(sim)
    until = int(time.time() * 1000) + 300_000
    error = f"-1003:Way too much request weight used; IP banned until {until}. Please use WebSocket Streams."
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionLocked, 429)
    assert caught.value.retry_after is not None and 280 <= caught.value.retry_after <= 300


@pytest.mark.parametrize(
    ("status", "expected", "retry_after"),
    [
        (500, ErrorType.institutionUnavailable, None),
        (502, ErrorType.institutionUnavailable, None),
        (503, ErrorType.institutionUnavailable, None),
        (403, ErrorType.institutionUnavailable, None),  # WAF
        (429, ErrorType.rateLimited, 60),
        (418, ErrorType.institutionLocked, 120),
        (451, ErrorType.institutionRestricted, None),
    ],
)
@pytest.mark.parametrize("call", ["cancel", "get_order"])
async def test_error_pages_map_by_http_status(
    sim: BinanceSimulator,
    adapter: BinanceAdapter,
    call: str,
    status: int,
    expected: ErrorType,
    retry_after: int | None,
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    op = "cancel" if call == "cancel" else "query"
    sim.inject(Fault("http_error", op, api_key=creds.api_key, status=status))
    with pytest.raises(GatewayError) as caught:
        await getattr(adapter, call)(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status, caught.value.retry_after) == (
        expected,
        status,
        retry_after,
    )
    assert sim.status(str(order_id)) is OrderStatus.inProgress


async def test_key_without_trade_permission_is_told_apart_by_a_read(
    sim: BinanceSimulator, adapter: BinanceAdapter
) -> None:
    creds = account(sim, can_trade=False)
    order_id = sim.place_order(creds.api_key)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionPermissionDenied, 401)
    assert (sim.count(creds.api_key, "cancel"), sim.count(creds.api_key, "query")) == (1, 1)
    assert sim.status(str(order_id)) is OrderStatus.inProgress


async def test_rejected_key_is_auth_failed_even_after_the_read(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    stranger = Credentials(IntegrationType.binanceInternational, "K" * 64, "S" * 64)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(stranger, ref(sim.place_order(account(sim).api_key)))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionAuthFailed, 401)
    assert (sim.count(stranger.api_key, "cancel"), sim.count(stranger.api_key, "query")) == (1, 1)
    assert "IP, or the key's permissions" in caught.value.message


async def test_clock_drift_is_corrected_once_from_binances_server_time(
    served: tuple[BinanceSimulator, str], sim: BinanceSimulator, transport: Transport
) -> None:
    behind = ServerClock(lambda: time.time_ns() // 1_000_000 - 30_000)  # 30 s slow: outside recvWindow
    adapter = BinanceAdapter(SPEC, served[1], transport, clock=behind)
    creds = account(sim)
    first, second = sim.place_order(creds.api_key), sim.place_order(creds.api_key)
    time_requests = sim.count("", "time")

    assert (await adapter.cancel(creds, ref(first))).status is OrderStatus.cancelled
    assert (sim.count(creds.api_key, "cancel"), sim.count("", "time") - time_requests) == (2, 1)
    assert 25_000 <= behind.offset_ms <= 35_000
    assert (await adapter.cancel(creds, ref(second))).status is OrderStatus.cancelled
    assert sim.count(creds.api_key, "cancel") == 3  # the learned offset holds: no second re-sync


async def test_clock_still_rejected_after_a_resync_is_a_clear_error(
    sim: BinanceSimulator, adapter: BinanceAdapter
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    for _ in range(2):
        sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error="-1021"))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(order_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionUnavailable, 400)
    assert "clock" in caught.value.message and "-1021" in caught.value.message
    assert sim.count(creds.api_key, "cancel") == 2
    assert sim.status(str(order_id)) is OrderStatus.inProgress


async def test_venue_text_echoing_credentials_is_redacted(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=f"-1130:{creds.api_key} {creds.secret}"))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionRejected
    assert "<redacted>" in caught.value.message
    assert_clean(caught.value, creds)


async def test_lost_answer_after_the_cancel_took_effect_is_outcome_unknown(
    served: tuple[BinanceSimulator, str], sim: BinanceSimulator
) -> None:
    impatient = Transport(timeout_s=0.3)
    adapter = BinanceAdapter(SPEC, served[1], impatient)
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("delay_after", "cancel", api_key=creds.api_key, seconds=1.5))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds, ref(order_id))
    finally:
        await impatient.close()
    assert sim.status(str(order_id)) is OrderStatus.cancelled


async def test_dropped_connection_is_outcome_unknown_and_nothing_happened(
    sim: BinanceSimulator, adapter: BinanceAdapter
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("reset", "cancel", api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    assert sim.count(creds.api_key, "cancel") == 1  # a DELETE is idempotent to aiohttp; the Transport never resends
    assert sim.status(str(order_id)) is OrderStatus.inProgress
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.cancelled


@pytest.mark.parametrize("integration", TYPES)
async def test_verify_credentials_ok(
    served: tuple[BinanceSimulator, str], sim: BinanceSimulator, transport: Transport, integration: IntegrationType
) -> None:
    adapter = BinanceAdapter(SPECS[integration], served[1], transport)
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id == account_fingerprint(creds.api_key)
    assert info.account_id.startswith("binance-") and creds.api_key not in info.account_id
    name = "Binance.US" if integration is IntegrationType.binanceUs else "Binance"
    assert (info.account_name, info.extras) == (name, {})
    seen = sim.seen[-1]
    assert (seen.op, seen.error, sim.count(creds.api_key, "account")) == ("account", None, 1)
    # Documented for binance.com only; Binance answers -1104 to parameters an endpoint does not read.
    assert ("omitZeroBalances" in seen.params) is (integration is not IntegrationType.binanceUs)


async def test_verify_credentials_rejections(sim: BinanceSimulator, adapter: BinanceAdapter) -> None:
    creds = account(sim)
    cases = {
        "unknown key": (Credentials(creds.type, "Q" * 64, creds.secret), 401),
        "malformed key": (Credentials(creds.type, "not a key", creds.secret), 401),
        "wrong secret": (Credentials(creds.type, creds.api_key, account(sim).secret), 400),
    }
    for name, (candidate, status) in cases.items():
        with pytest.raises(GatewayError) as caught:
            await adapter.verify_credentials(candidate, None)
        assert (name, caught.value.error_type, caught.value.upstream_status) == (
            name,
            ErrorType.institutionAuthFailed,
            status,
        )
        assert_clean(caught.value, candidate)


async def test_testnet_mode_never_sends_binance_us_traffic_to_production(
    served: tuple[BinanceSimulator, str], sim: BinanceSimulator, transport: Transport
) -> None:
    spec = SPECS[IntegrationType.binanceUs]
    assert spec.testnet_url is None and spec.production_url
    live = BinanceAdapter(spec, spec.production_url, transport)
    live.testnet = True
    creds = account(sim)
    sent = transport.requests_sent
    for call in (live.cancel(creds, ref(1)), live.get_order(creds, ref(1)), live.verify_credentials(creds, None)):
        with pytest.raises(GatewayError) as caught:
            await call
        assert caught.value.error_type is ErrorType.institutionUnavailable
    assert transport.requests_sent == sent

    overridden = BinanceAdapter(spec, served[1], transport)  # ORDERGATE_BASE_URL_BINANCE_US still wins
    overridden.testnet = True
    assert (await overridden.verify_credentials(creds, None)).account_name == "Binance.US"
