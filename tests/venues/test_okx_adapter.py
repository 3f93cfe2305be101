"""OkxAdapter over a real Transport against the simulator (and, for answers it never gives, a fixed-answer
server) on real sockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.okx.adapter import OkxAdapter, _snapshot
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.okx.symbols import to_inst_id
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.okx]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[OkxSimulator, str]]:
    sim = OkxSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[OkxSimulator, str]) -> OkxSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[OkxSimulator, str], transport: Transport) -> OkxAdapter:
    return OkxAdapter(SPEC, served[1], transport)


def account(sim: OkxSimulator, *, can_trade: bool = True, demo: bool = False) -> Credentials:
    key, secret, passphrase = sim.new_credentials(can_trade=can_trade, demo=demo)
    return Credentials(IntegrationType.okx, key, secret, passphrase)


def ref(ord_id: str, pair: str | None = "BTC-USDT") -> OrderRef:
    return OrderRef(id=ord_id, is_cryptocurrency=True, symbol_pair=pair)


def assert_clean(error: BaseException, creds: Credentials) -> None:
    text = " ".join(str(v) for v in (error, getattr(error, "message", ""), getattr(error, "error_data", None)))
    for secret in (creds.api_key, creds.secret, creds.passphrase or "-"):
        assert secret not in text


async def test_cancel_is_one_signed_request_and_only_an_acknowledgement(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    total, sent = sim.total_requests, adapter.transport.requests_sent

    ack = await adapter.cancel(creds, ref(ord_id))

    assert (ack.order_id, ack.status, ack.upstream_status) == (ord_id, OrderStatus.inProgress, 200)
    assert (sim.total_requests - total, adapter.transport.requests_sent - sent) == (1, 1)
    seen = sim.seen[-1]
    assert (seen.op, seen.target, seen.error, seen.demo) == ("cancel-order", "/api/v5/trade/cancel-order", None, False)
    assert seen.body == json.dumps({"instId": "BTC-USDT", "ordId": ord_id}, separators=(",", ":")).encode()
    assert sim.describe(ord_id)["state"] == "canceled"


@pytest.mark.parametrize("pair", ["BTC-USDT", "BTC/USDT", "btc/usdt", "BTCUSDT", "btcusdt", " BTC-USDT "])
async def test_symbol_pair_forms_become_the_instrument_id(sim: OkxSimulator, adapter: OkxAdapter, pair: str) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    assert (await adapter.cancel(creds, ref(ord_id, pair))).status is OrderStatus.inProgress
    assert json.loads(sim.seen[-1].body)["instId"] == "BTC-USDT"


@pytest.mark.parametrize(
    ("pair", "inst_id"),
    [("ETHBTC", "ETH-BTC"), ("USDCUSDT", "USDC-USDT"), ("OKBUSD", "OKB-USD"), ("BTC-USDT-SWAP", "BTC-USDT-SWAP")],
)
def test_instrument_ids(pair: str, inst_id: str) -> None:
    assert to_inst_id(pair) == inst_id


@pytest.mark.parametrize("pair", ["FOOBAR", "USDT", "BTC-", "BTC USDT", "BTC/", "", None])
async def test_unreadable_symbol_pairs_are_refused_before_sending(
    sim: OkxSimulator, adapter: OkxAdapter, pair: str | None
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref("123", pair))
        assert (caught.value.error_type, list(caught.value.error_data["fields"])) == (
            ErrorType.invalidField,
            ["symbolPair"],
        )
    assert adapter.transport.requests_sent == sent


def test_a_pair_two_quotes_could_end_is_ambiguous() -> None:
    with pytest.raises(GatewayError):
        to_inst_id("BTCTUSD", quotes=("USD", "TUSD"))
    assert to_inst_id("BTC/TUSD", quotes=("USD", "TUSD")) == "BTC-TUSD"


@pytest.mark.parametrize("order_id", ["", "12,34", "1 2", "../x", "1" * 65])
async def test_ids_that_cannot_name_an_order_are_refused_before_sending(
    sim: OkxSimulator, adapter: OkxAdapter, order_id: str
) -> None:
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(account(sim), ref(order_id))
    assert caught.value.error_type is ErrorType.invalidField and list(caught.value.error_data["fields"]) == ["id"]
    assert adapter.transport.requests_sent == sent


@pytest.mark.parametrize("state", ["filled", "cancelled", "never minted", "another account's", "other pair"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: OkxSimulator, adapter: OkxAdapter, state: str
) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key if state != "another account's" else account(sim).api_key)
    pair = "ETH-USDT" if state == "other pair" else "BTC-USDT"
    if state == "filled":
        sim.fill(ord_id)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(ord_id))
    elif state == "never minted":
        ord_id = "777777777777777777"
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(ord_id, pair))
    assert caught.value.upstream_status == 200
    assert caught.value.venue_message.startswith("51400 Order cancellation failed")


async def test_pending_cancel_is_in_progress_until_the_venue_settles(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", "cancel-order", api_key=creds.api_key, seconds=60))
    assert (await adapter.cancel(creds, ref(ord_id))).status is OrderStatus.inProgress
    assert (await adapter.get_order(creds, ref(ord_id))).status is OrderStatus.inProgress  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("state", "status", "filled"),
    [
        ("live", OrderStatus.inProgress, 0.0),
        ("partially_filled", OrderStatus.partiallyFilled, 0.4),
        ("filled", OrderStatus.success, 1.0),
        ("canceled", OrderStatus.cancelled, 0.0),
    ],
)
async def test_get_order_maps_each_state(
    sim: OkxSimulator, adapter: OkxAdapter, state: str, status: OrderStatus, filled: float
) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key, inst_id="ETH-USDC", side="sell", sz="1", px="2500")
    if state in ("partially_filled", "filled"):
        sim.fill(ord_id, "0.4" if state == "partially_filled" else None)
    if state == "canceled":
        await adapter.cancel(creds, ref(ord_id, "ETH/USDC"))

    snapshot = await adapter.get_order(creds, ref(ord_id, "ETHUSDC"))

    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (ord_id, status, state)
    assert (snapshot.amount, snapshot.filled, snapshot.side) == (1.0, filled, OrderSide.sell)
    assert (snapshot.symbol, snapshot.payment_symbol, snapshot.symbol_pair) == ("ETH", "USDC", "ETH-USDC")
    assert (snapshot.price, snapshot.order_type, snapshot.time_in_force) == (2500.0, "limit", "goodTillCanceled")
    assert snapshot.value == (2500.0 * filled if filled else None)
    assert snapshot.created_at and snapshot.updated_at and snapshot.updated_at >= snapshot.created_at
    assert sim.seen[-1].target == f"/api/v5/trade/order?instId=ETH-USDC&ordId={ord_id}"


def test_snapshot_of_okx_documented_example() -> None:
    # The response example of "GET / Order details" in OKX's docs: a spot market buy sized in the quote currency.
    entry = {
        "accFillSz": "0.00192834", "avgPx": "51858", "cTime": "1708587373361", "fee": "-0.00000192834",
        "feeCcy": "BTC", "instId": "BTC-USDT", "instType": "SPOT", "ordId": "680800019749904384",
        "ordType": "market", "px": "", "side": "buy", "state": "filled", "sz": "100", "tgtCcy": "quote_ccy",
        "uTime": "1708587373362",
    }  # fmt: skip
    snapshot = _snapshot("680800019749904384", entry)
    assert (snapshot.status, snapshot.amount, snapshot.filled) == (OrderStatus.success, None, 0.00192834)
    assert (snapshot.price, snapshot.fee, snapshot.order_type, snapshot.time_in_force) == (
        51858.0,
        0.00000192834,
        "market",
        None,
    )
    assert snapshot.value == pytest.approx(100.0, abs=0.01)
    assert (snapshot.created_at, snapshot.updated_at) == (1708587373, 1708587373)
    assert _snapshot("1", {**entry, "state": "mmp_canceled"}).status is OrderStatus.cancelled
    assert _snapshot("1", {**entry, "state": "something_new"}).status is OrderStatus.unknown


@pytest.mark.parametrize(("pair", "ord_id"), [("BTC-USDT", "777777777777777777"), ("ETH-USDT", None)])
async def test_get_order_of_an_order_okx_does_not_have_is_none(
    sim: OkxSimulator, adapter: OkxAdapter, pair: str, ord_id: str | None
) -> None:
    creds = account(sim)
    assert await adapter.get_order(creds, ref(ord_id or sim.place_order(creds.api_key), pair)) is None
    assert sim.seen[-1].error == "51603"


ERROR_CASES: list[tuple[str, ErrorType | type[Exception], int | None, int]] = [
    ("50011", ErrorType.rateLimited, 2, 429),
    ("50040", ErrorType.rateLimited, 2, 200),
    ("50061", ErrorType.rateLimited, 2, 200),
    ("50001", ErrorType.institutionUnavailable, None, 503),
    ("50026", ErrorType.institutionUnavailable, None, 500),
    ("50013", ErrorType.institutionUnavailable, None, 429),
    ("50004", OutcomeUnknown, None, 400),
    ("51054", OutcomeUnknown, None, 200),
    ("51412", OutcomeUnknown, None, 200),
    ("50101", ErrorType.institutionAuthFailed, None, 401),
    ("50102", ErrorType.institutionAuthFailed, None, 401),
    ("50105", ErrorType.institutionAuthFailed, None, 401),
    ("50110", ErrorType.institutionAuthFailed, None, 401),
    ("50111", ErrorType.institutionAuthFailed, None, 401),
    ("50113", ErrorType.institutionAuthFailed, None, 401),
    ("50119", ErrorType.institutionAuthFailed, None, 200),
    ("50120", ErrorType.institutionPermissionDenied, None, 200),
    ("50030", ErrorType.institutionPermissionDenied, None, 200),
    ("51155", ErrorType.institutionRestricted, None, 200),
    ("50121", ErrorType.institutionRestricted, None, 200),
    ("50051", ErrorType.institutionRestricted, None, 200),
    ("51024:trading is currently unavailable in your verified country or region", ErrorType.institutionRestricted,
     None, 200),
    ("51024:Trading account is blocked.", ErrorType.institutionLocked, None, 200),
    ("50100", ErrorType.institutionLocked, None, 400),
    ("50007", ErrorType.institutionLocked, None, 200),
    ("51400", UnknownOrderAtVenue, None, 200),
    ("51401", UnknownOrderAtVenue, None, 200),
    ("51402", UnknownOrderAtVenue, None, 200),
    ("51410", UnknownOrderAtVenue, None, 200),
    ("51000", ErrorType.institutionRejected, None, 400),
    ("51001", ErrorType.institutionRejected, None, 200),
    ("51403", ErrorType.institutionRejected, None, 200),
    ("59999:Something OKX added", ErrorType.institutionUnavailable, None, 200),
]  # fmt: skip


@pytest.mark.parametrize(("error", "expected", "retry_after", "http"), ERROR_CASES)
async def test_each_okx_code_on_cancel_maps_to_its_meaning(
    sim: OkxSimulator,
    adapter: OkxAdapter,
    error: str,
    expected: ErrorType | type[Exception],
    retry_after: int | None,
    http: int,
) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "cancel-order", api_key=creds.api_key, error=error))

    with pytest.raises((GatewayError, OutcomeUnknown, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(ord_id))

    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
        assert caught.value.upstream_status == http
        assert error.partition(":")[0] in caught.value.message
    else:
        assert type(caught.value) is expected
    assert sim.describe(ord_id)["state"] == "live"
    assert_clean(caught.value, creds)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("50004", ErrorType.institutionUnavailable),
        ("51400", UnknownOrderAtVenue),
        ("50113", ErrorType.institutionAuthFailed),
    ],
)
async def test_the_same_codes_on_a_lookup(
    sim: OkxSimulator, adapter: OkxAdapter, error: str, expected: ErrorType | type[Exception]
) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "order", api_key=creds.api_key, error=error))
    if expected is UnknownOrderAtVenue:
        assert await adapter.get_order(creds, ref(ord_id)) is None
        return
    with pytest.raises(GatewayError) as caught:
        await adapter.get_order(creds, ref(ord_id))
    assert caught.value.error_type is expected


async def test_venue_text_echoing_credentials_is_redacted(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    echo = f"59998:odd {creds.api_key} {creds.secret} {creds.passphrase}"
    sim.inject(Fault("venue_error", "cancel-order", api_key=creds.api_key, error=echo))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert "<redacted>" in caught.value.message
    assert_clean(caught.value, creds)


async def test_real_rejections_from_the_simulator(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    cases = {
        "wrong secret": Credentials(IntegrationType.okx, creds.api_key, "0" * 32, creds.passphrase),
        "wrong passphrase": Credentials(IntegrationType.okx, creds.api_key, creds.secret, "nope"),
        "unknown key": Credentials(IntegrationType.okx, "no-such-key", creds.secret, creds.passphrase),
    }
    for name, candidate in cases.items():
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(candidate, ref(ord_id))
        assert (name, caught.value.error_type, caught.value.upstream_status) == (
            name,
            ErrorType.institutionAuthFailed,
            401,
        )
        assert_clean(caught.value, candidate)
    assert [s.error for s in list(sim.seen)[-3:]] == ["50113", "50105", "50111"]
    no_trade = account(sim, can_trade=False)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(no_trade, ref(sim.place_order(no_trade.api_key)))
    assert caught.value.error_type is ErrorType.institutionPermissionDenied
    assert sim.describe(ord_id)["state"] == "live"


@pytest.mark.parametrize("call", ["cancel", "get_order"])
async def test_a_token_without_passphrase_sends_nothing(sim: OkxSimulator, adapter: OkxAdapter, call: str) -> None:
    creds = account(sim)
    bare = Credentials(IntegrationType.okx, creds.api_key, creds.secret, None)
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await getattr(adapter, call)(bare, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.invalidAuthToken
    assert adapter.transport.requests_sent == sent


@pytest.mark.parametrize(("call", "status"), [("cancel", 502), ("get_order", 502), ("cancel", 503), ("cancel", 200)])
async def test_html_error_pages_are_institution_unavailable(
    sim: OkxSimulator, adapter: OkxAdapter, call: str, status: int
) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    sim.inject(
        Fault("http_error", "cancel-order" if call == "cancel" else "order", api_key=creds.api_key, status=status)
    )
    with pytest.raises(GatewayError) as caught:
        await getattr(adapter, call)(creds, ref(ord_id))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionUnavailable, status)
    assert sim.describe(ord_id)["state"] == "live"


class FixedAnswers:
    """A server that answers each request with the next queued (status, headers, body): shapes the simulator never
    produces but OKX (or its edge) has been seen to."""

    def __init__(self) -> None:
        self.queue: list[tuple[int, dict[str, str], bytes]] = []

        async def endpoint(_request: Request) -> Response:
            status, headers, body = self.queue.pop(0)
            return Response(body, status_code=status, headers=headers, media_type="application/json")

        self.app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST"])])


@pytest.fixture(scope="module")
def fixed() -> Iterator[tuple[FixedAnswers, str]]:
    answers = FixedAnswers()
    with serve_asgi(answers.app) as url:
        yield answers, url


def _body(value: Any) -> bytes:
    return json.dumps(value).encode()


FIXED_CASES: list[tuple[int, dict[str, str], bytes, ErrorType | type[Exception], int | None]] = [
    # A per-order failure under code "0" (seen in the wild): never read as success.
    (200, {}, _body({"code": "0", "msg": "", "data": [{"ordId": "1", "sCode": "51400", "sMsg": "x"}]}),
     UnknownOrderAtVenue, None),
    (200, {}, _body({"code": "0", "msg": "", "data": []}), ErrorType.institutionUnavailable, None),
    (200, {}, _body({"code": "0", "msg": "", "data": [{"ordId": "1"}]}), ErrorType.institutionUnavailable, None),
    # 2021-era answers carried the code as a number.
    (429, {}, _body({"msg": "Requests too frequent.", "code": 50011}), ErrorType.rateLimited, 2),
    (429, {"Retry-After": "7"}, b"<html>slow down</html>", ErrorType.rateLimited, 7),
    (200, {}, b"<html>maintenance</html>", ErrorType.institutionUnavailable, None),
    (200, {}, _body(["not", "an", "object"]), ErrorType.institutionUnavailable, None),
]  # fmt: skip


@pytest.mark.parametrize(("status", "headers", "body", "expected", "retry_after"), FIXED_CASES)
async def test_answers_only_a_real_okx_or_its_edge_gives(
    fixed: tuple[FixedAnswers, str],
    transport: Transport,
    status: int,
    headers: dict[str, str],
    body: bytes,
    expected: ErrorType | type[Exception],
    retry_after: int | None,
) -> None:
    answers, url = fixed
    answers.queue.append((status, headers, body))
    creds = Credentials(IntegrationType.okx, "k", "s", "p")
    with pytest.raises((GatewayError, UnknownOrderAtVenue)) as caught:
        await OkxAdapter(SPEC, url, transport).cancel(creds, ref("1"))
    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
    else:
        assert type(caught.value) is expected


async def test_lost_answer_after_the_cancel_took_effect_is_outcome_unknown(
    served: tuple[OkxSimulator, str], sim: OkxSimulator
) -> None:
    impatient = Transport(timeout_s=0.3)
    adapter = OkxAdapter(SPEC, served[1], impatient)
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    sim.inject(Fault("delay_after", "cancel-order", api_key=creds.api_key, seconds=1.0))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds, ref(ord_id))
    finally:
        await impatient.close()
    assert sim.describe(ord_id)["state"] == "canceled"


async def test_dropped_connection_is_outcome_unknown_and_nothing_happened(
    sim: OkxSimulator, adapter: OkxAdapter
) -> None:
    creds = account(sim)
    ord_id = sim.place_order(creds.api_key)
    sim.inject(Fault("reset", "cancel-order", api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(ord_id))
    assert sim.describe(ord_id)["state"] == "live"
    assert (await adapter.cancel(creds, ref(ord_id))).status is OrderStatus.inProgress


async def test_demo_trading_sends_the_header_and_uses_demo_keys(
    served: tuple[OkxSimulator, str], sim: OkxSimulator, transport: Transport
) -> None:
    demo = OkxAdapter(SPEC, served[1], transport)
    demo.testnet = True
    creds = account(sim, demo=True)
    ord_id = sim.place_order(creds.api_key)
    assert (await demo.cancel(creds, ref(ord_id))).status is OrderStatus.inProgress
    assert sim.seen[-1].demo and sim.seen[-1].error is None
    with pytest.raises(GatewayError) as caught:
        await OkxAdapter(SPEC, served[1], transport).get_order(creds, ref(ord_id))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert sim.seen[-1].error == "50101"


async def test_concurrent_cancels_on_one_key(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim)
    ids = [sim.place_order(creds.api_key) for _ in range(100)]
    acks = await asyncio.gather(*(adapter.cancel(creds, ref(i)) for i in ids))
    assert [a.status for a in acks] == [OrderStatus.inProgress] * 100
    assert {sim.describe(i)["state"] for i in ids} == {"canceled"}
    assert sim.count(creds.api_key, "cancel-order") == 100


async def test_verify_credentials(sim: OkxSimulator, adapter: OkxAdapter) -> None:
    creds = account(sim, can_trade=False)  # reading the configuration needs no trade permission
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("okx-") and info.account_id[4:].isdigit()
    assert (info.account_name, info.extras) == ("OKX", {})
    assert (sim.seen[-1].op, sim.seen[-1].target) == ("account-config", "/api/v5/account/config")
    assert sim.count(creds.api_key, "account-config") == 1
    wrong = Credentials(IntegrationType.okx, creds.api_key, creds.secret, "wrong")
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(wrong, None)
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionAuthFailed, 401)
    sent = adapter.transport.requests_sent
    with pytest.raises(GatewayError) as missing:
        await adapter.verify_credentials(Credentials(IntegrationType.okx, creds.api_key, creds.secret), None)
    assert missing.value.error_type is ErrorType.missingField
    assert missing.value.error_data == {"fields": {"authToken": "the API key's passphrase"}}
    assert adapter.transport.requests_sent == sent
