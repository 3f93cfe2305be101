"""KucoinAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.kucoin.adapter import KucoinAdapter, account_fingerprint
from ordergate.venues.kucoin.simulator import KucoinSimulator
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.kuCoin]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[KucoinSimulator, str]]:
    sim = KucoinSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[KucoinSimulator, str]) -> KucoinSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[KucoinSimulator, str], transport: Transport) -> KucoinAdapter:
    return KucoinAdapter(SPEC, served[1], transport)


def account(sim: KucoinSimulator, *, hf: bool = False, can_trade: bool = True) -> Credentials:
    """A fresh simulator key, with the account kind verify_credentials would have sealed into the token."""
    made = sim.new_credentials(hf=hf, can_trade=can_trade)
    return Credentials(IntegrationType.kuCoin, made.api_key, made.secret, made.passphrase, {"hf": hf})


def ref(order_id: str, symbol_pair: str | None = None) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True, symbol_pair=symbol_pair)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(
        str(v) for v in (error, getattr(error, "display_message", None), getattr(error, "error_data", None))
    )
    for secret in (creds.api_key, creds.secret, creds.passphrase):
        assert secret and secret not in text


async def test_classic_cancel_is_one_request_without_a_symbol(sim: KucoinSimulator, adapter: KucoinAdapter) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sent = adapter.transport.requests_sent

    ack = await adapter.cancel(creds, ref(order_id, "BTC-USDT"))

    # KuCoin documents its cancel as a request the engine processes later: acknowledged, not confirmed.
    assert (ack.order_id, ack.status, ack.upstream_status) == (order_id, OrderStatus.inProgress, 200)
    assert (sim.count(creds.api_key, "cancel_order"), adapter.transport.requests_sent - sent) == (1, 1)
    seen = sim.seen[-1]
    assert (seen.method, seen.endpoint, seen.key_version, seen.error) == (
        "DELETE",
        f"/api/v1/orders/{order_id}",
        "2",
        None,
    )
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize("pair", ["BTC-USDT", "BTC/USDT", "btcusdt", "BTC_USDT"])
async def test_hf_cancel_is_one_request_with_the_symbol(
    sim: KucoinSimulator, adapter: KucoinAdapter, pair: str
) -> None:
    creds = account(sim, hf=True)
    order_id = sim.place_order(creds.api_key)
    ack = await adapter.cancel(creds, ref(order_id, pair))
    assert ack.status is OrderStatus.inProgress
    assert sim.count_key(creds.api_key) == 1
    assert sim.seen[-1].endpoint == f"/api/v1/hf/orders/{order_id}?symbol=BTC-USDT"
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize(
    ("hf", "order_id", "pair", "error_type", "field"),
    [
        (True, "5bd6e9286d99522a52e458de", None, ErrorType.missingField, "symbolPair"),
        (True, "5bd6e9286d99522a52e458de", "BTC", ErrorType.invalidField, "symbolPair"),
        (False, "../user/api-key", None, ErrorType.invalidField, "id"),
        (True, "5bd6e9286d99522a52e458de?symbol=X", "BTC-USDT", ErrorType.invalidField, "id"),
    ],
)
async def test_unusable_requests_are_refused_before_sending(
    sim: KucoinSimulator,
    adapter: KucoinAdapter,
    hf: bool,
    order_id: str,
    pair: str | None,
    error_type: ErrorType,
    field: str,
) -> None:
    creds = account(sim, hf=hf)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id, pair))
        assert (caught.value.error_type, list(caught.value.error_data["fields"])) == (error_type, [field])
    assert adapter.transport.requests_sent == sent


async def test_a_token_without_passphrase_sends_nothing(sim: KucoinSimulator, adapter: KucoinAdapter) -> None:
    creds = account(sim)
    bare = Credentials(IntegrationType.kuCoin, creds.api_key, creds.secret, None, {})
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(bare, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert adapter.transport.requests_sent == sent


@pytest.mark.parametrize("hf", [False, True])
@pytest.mark.parametrize("state", ["filled", "cancelled", "never minted", "another account's", "other kind"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool, state: str
) -> None:
    creds = account(sim, hf=hf)
    owner = {"another account's": account(sim, hf=hf), "other kind": account(sim, hf=not hf)}.get(state, creds)
    order_id = sim.place_order(owner.api_key)
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(order_id, "BTC-USDT"))
    elif state == "never minted":
        order_id = "5bd6e9286d99522a52e458de"

    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(order_id, "BTC-USDT"))

    # KuCoin says this with HTTP 200 and code 400100: never a success.
    assert caught.value.upstream_status == 200
    expected = "The order does not exist." if hf else "order_not_exist_or_not_allow_to_cancel"
    assert caught.value.venue_message == f"400100 {expected}"
    if owner is not creds:
        assert sim.status(order_id) is OrderStatus.inProgress  # somebody else's order is left alone


async def test_pending_cancel_settles_later(sim: KucoinSimulator, adapter: KucoinAdapter) -> None:
    creds = account(sim, hf=True)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", "cancel_hf_order", api_key=creds.api_key, seconds=0.05))
    assert (await adapter.cancel(creds, ref(order_id, "BTC-USDT"))).status is OrderStatus.inProgress
    assert sim.status(order_id) is OrderStatus.inProgress
    for _ in range(200):
        if sim.status(order_id) is OrderStatus.cancelled:
            break
        await asyncio.sleep(0.01)
    assert sim.status(order_id) is OrderStatus.cancelled


@pytest.mark.parametrize("hf", [False, True])
@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "active", 0.0),
        ("partial", OrderStatus.partiallyFilled, "active", 0.4),
        ("filled", OrderStatus.success, "done", 1.0),
        ("cancelled", OrderStatus.cancelled, "done (cancelled)", 0.0),
        ("partial then cancelled", OrderStatus.cancelled, "done (cancelled)", 0.4),
    ],
)
async def test_get_order_maps_each_state(
    sim: KucoinSimulator,
    adapter: KucoinAdapter,
    hf: bool,
    state: str,
    status: OrderStatus,
    venue_status: str,
    filled: float,
) -> None:
    creds = account(sim, hf=hf)
    order_id = sim.place_order(creds.api_key, symbol="ETH-USDT", side="sell", volume="1", price="2000")
    if state in ("partial", "partial then cancelled"):
        sim.fill(order_id, "0.4")
    if state == "filled":
        sim.fill(order_id)
    if "cancelled" in state:
        await adapter.cancel(creds, ref(order_id, "ETH-USDT"))

    snapshot = await adapter.get_order(creds, ref(order_id, "ETH/USDT"))

    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (order_id, status, venue_status)
    assert (snapshot.amount, snapshot.filled, snapshot.value) == (1.0, filled, filled * 2000)
    assert (snapshot.symbol, snapshot.payment_symbol, snapshot.symbol_pair) == ("ETH", "USDT", "ETH-USDT")
    assert (snapshot.side, snapshot.price, snapshot.order_type, snapshot.time_in_force) == (
        OrderSide.sell,
        2000.0,
        "limit",
        "goodTillCanceled",
    )
    assert snapshot.fee == pytest.approx(filled * 2000 * 0.001)
    assert snapshot.created_at and snapshot.created_at > 1_600_000_000
    assert (snapshot.updated_at is not None) is hf  # only HF orders carry lastUpdatedAt
    assert sim.seen[-1].op == ("get_hf_order" if hf else "get_order")


@pytest.mark.parametrize("hf", [False, True])
async def test_get_order_of_an_order_kucoin_does_not_have_is_none(
    sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool
) -> None:
    creds = account(sim, hf=hf)
    foreign = sim.place_order(account(sim, hf=hf).api_key)
    for order_id in ("5bd6e9286d99522a52e458de", foreign):
        assert await adapter.get_order(creds, ref(order_id, "BTC-USDT")) is None
        assert sim.seen[-1].error == "400100"


async def test_get_order_answered_with_null_data_is_none(transport: Transport) -> None:
    async def null(_request: object) -> JSONResponse:
        return JSONResponse({"code": "200000", "data": None})

    app = Starlette(routes=[Route("/api/v1/hf/orders/{order_id}", null, methods=["GET"])])
    with serve_asgi(app) as url:
        creds = Credentials(IntegrationType.kuCoin, "k", "s", "p", {"hf": True})
        assert await KucoinAdapter(SPEC, url, transport).get_order(creds, ref("abc123", "BTC-USDT")) is None


ERROR_CASES: list[tuple[str, ErrorType | type[Exception], int | None, int]] = [
    ("400001", ErrorType.institutionAuthFailed, None, 401),
    ("400002", ErrorType.institutionAuthFailed, None, 401),
    ("400003", ErrorType.institutionAuthFailed, None, 401),
    ("400004", ErrorType.institutionAuthFailed, None, 401),
    ("400005", ErrorType.institutionAuthFailed, None, 401),
    ("400006", ErrorType.institutionAuthFailed, None, 401),
    ("400007", ErrorType.institutionPermissionDenied, None, 403),
    ("400008", ErrorType.institutionAuthFailed, None, 200),
    ("400010", ErrorType.institutionPermissionDenied, None, 200),
    ("400100", UnknownOrderAtVenue, None, 200),
    ("400100:order_not_exist_or_not_allow_to_cancel", UnknownOrderAtVenue, None, 200),
    ("126043", UnknownOrderAtVenue, None, 200),
    ("400301", ErrorType.institutionRestricted, None, 403),
    ("400500", ErrorType.institutionRestricted, None, 200),
    ("411100", ErrorType.institutionLocked, None, 403),
    ("429000", ErrorType.rateLimited, 13, 429),  # gw-ratelimit-reset: 12345 ms
    ("429000:Too Many Requests", ErrorType.rateLimited, 30, 429),  # overload: no countdown header
    ("500000", ErrorType.institutionUnavailable, None, 500),
    ("200002", ErrorType.institutionUnavailable, None, 200),
    ("987654:something KuCoin added", ErrorType.institutionUnavailable, None, 200),
]


@pytest.mark.parametrize(("error", "expected", "retry_after", "http"), ERROR_CASES)
async def test_each_kucoin_error_on_cancel_maps_to_its_meaning(
    sim: KucoinSimulator,
    adapter: KucoinAdapter,
    error: str,
    expected: ErrorType | type[Exception],
    retry_after: int | None,
    http: int,
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel_order", api_key=creds.api_key, error=error))

    with pytest.raises((GatewayError, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(order_id))

    assert caught.value.upstream_status == http
    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
        assert error.partition(":")[0] in caught.value.message
    else:
        assert type(caught.value) is expected
    assert sim.status(order_id) is OrderStatus.inProgress
    assert_clean(caught.value, creds)


async def test_a_used_up_pool_is_rate_limited_with_kucoins_countdown(
    sim: KucoinSimulator, adapter: KucoinAdapter
) -> None:
    sim.quotas["spot"] = 4  # a classic cancel weighs 3: the second one does not fit in this account's pool
    try:
        creds = account(sim)
        first, second = sim.place_order(creds.api_key), sim.place_order(creds.api_key)
        await adapter.cancel(creds, ref(first))
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(creds, ref(second))
    finally:
        sim.quotas["spot"] = 4000
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.rateLimited, 429)
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 30
    assert sim.status(second) is OrderStatus.inProgress


async def test_venue_text_echoing_credentials_is_redacted(sim: KucoinSimulator, adapter: KucoinAdapter) -> None:
    creds = account(sim)
    sim.inject(
        Fault(
            "venue_error",
            "cancel_order",
            api_key=creds.api_key,
            error=f"999999:{creds.api_key} {creds.secret} {creds.passphrase}",
        )
    )
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert "<redacted>" in caught.value.message
    assert_clean(caught.value, creds)


@pytest.mark.parametrize(
    ("op", "status"), [("cancel_order", 502), ("get_order", 503), ("cancel_order", 200), ("cancel_order", 429)]
)
async def test_error_pages_without_a_kucoin_body(
    sim: KucoinSimulator, adapter: KucoinAdapter, op: str, status: int
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("http_error", op, api_key=creds.api_key, status=status))
    with pytest.raises(GatewayError) as caught:
        await (adapter.cancel if op == "cancel_order" else adapter.get_order)(creds, ref(order_id))
    expected = ErrorType.rateLimited if status == 429 else ErrorType.institutionUnavailable
    assert (caught.value.error_type, caught.value.upstream_status) == (expected, status)
    assert caught.value.retry_after == (30 if status == 429 else None)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_read_timeout_after_the_venue_cancelled_is_outcome_unknown(
    served: tuple[KucoinSimulator, str], sim: KucoinSimulator
) -> None:
    impatient = Transport(timeout_s=0.3)
    adapter = KucoinAdapter(SPEC, served[1], impatient)
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("delay_after", "cancel_order", api_key=creds.api_key, seconds=1.0))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds, ref(order_id))
    finally:
        await impatient.close()
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_dropped_connection_is_outcome_unknown_and_nothing_happened(
    sim: KucoinSimulator, adapter: KucoinAdapter
) -> None:
    creds = account(sim)
    order_id = sim.place_order(creds.api_key)
    sim.inject(Fault("reset", "cancel_order", api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(order_id))
    # Exactly one DELETE reached KuCoin: the transport must not quietly resend an idempotent method.
    assert sim.count(creds.api_key, "cancel_order") == 1
    assert sim.status(order_id) is OrderStatus.inProgress
    assert (await adapter.cancel(creds, ref(order_id))).status is OrderStatus.inProgress
    assert sim.status(order_id) is OrderStatus.cancelled


async def test_concurrent_cancels_on_one_key_need_no_ordering(sim: KucoinSimulator, adapter: KucoinAdapter) -> None:
    creds = account(sim, hf=True)
    order_ids = [sim.place_order(creds.api_key) for _ in range(60)]
    sim.jitter_s = 0.003
    try:
        acks = await asyncio.gather(*(adapter.cancel(creds, ref(o, "BTC-USDT")) for o in order_ids))
    finally:
        sim.jitter_s = 0.0
    assert [a.status for a in acks] == [OrderStatus.inProgress] * 60
    assert {sim.status(o) for o in order_ids} == {OrderStatus.cancelled}
    assert sim.count(creds.api_key, "cancel_hf_order") == 60


@pytest.mark.parametrize("hf", [False, True])
async def test_verify_credentials_learns_the_account_kind(
    sim: KucoinSimulator, adapter: KucoinAdapter, hf: bool
) -> None:
    creds = account(sim, hf=hf)
    bare = Credentials(IntegrationType.kuCoin, creds.api_key, creds.secret, creds.passphrase)
    info = await adapter.verify_credentials(bare, None)
    assert (info.account_id, info.extras) == (account_fingerprint(creds.api_key), {"hf": hf})
    assert creds.api_key not in info.account_id
    assert sim.count_key(creds.api_key) == 1 and sim.seen[-1].op == "hf_account_type"


async def test_verify_credentials_rejections(sim: KucoinSimulator, adapter: KucoinAdapter) -> None:
    creds = account(sim)
    other = account(sim)
    cases = {
        "unknown key": Credentials(IntegrationType.kuCoin, "no-such-key", creds.secret, creds.passphrase),
        "wrong secret": Credentials(IntegrationType.kuCoin, creds.api_key, other.secret, creds.passphrase),
        "wrong passphrase": Credentials(IntegrationType.kuCoin, creds.api_key, creds.secret, "wrong-passphrase"),
    }
    codes = []
    for name, candidate in cases.items():
        with pytest.raises(GatewayError) as caught:
            await adapter.verify_credentials(candidate, None)
        assert (name, caught.value.error_type, caught.value.upstream_status) == (
            name,
            ErrorType.institutionAuthFailed,
            401,
        )
        codes.append(sim.seen[-1].error)
        assert_clean(caught.value, candidate)
    assert codes == ["400003", "400004", "400004"]  # the passphrase is checked before the signature

    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as missing:
        await adapter.verify_credentials(Credentials(IntegrationType.kuCoin, creds.api_key, creds.secret), None)
    assert (missing.value.error_type, list(missing.value.error_data["fields"])) == (
        ErrorType.missingField,
        ["authToken"],
    )
    assert adapter.transport.requests_sent == sent
