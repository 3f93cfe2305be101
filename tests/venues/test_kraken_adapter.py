"""KrakenAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.kraken.adapter import KrakenAdapter, account_fingerprint
from ordergate.venues.kraken.simulator import Fault, KrakenSimulator
from ordergate.venues.transport import OutcomeUnknown, Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.kraken]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[KrakenSimulator, str]]:
    sim = KrakenSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[KrakenSimulator, str]) -> KrakenSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[KrakenSimulator, str], transport: Transport) -> KrakenAdapter:
    return KrakenAdapter(SPEC, served[1], transport)


def account(
    sim: KrakenSimulator, *, otp: str | None = None, can_trade: bool = True, known_2fa: bool = False
) -> Credentials:
    """A fresh simulator key; `known_2fa` is what verify_credentials would have sealed into the token."""
    key, secret = sim.new_credentials(otp=otp, can_trade=can_trade)
    return Credentials(IntegrationType.kraken, key, secret, extras={"otp": True} if known_2fa else {})


def ref(txid: str, mfa_code: str | None = None) -> OrderRef:
    return OrderRef(id=txid, is_cryptocurrency=True, mfa_code=mfa_code)


def assert_clean(error: BaseException, creds: Credentials, *extra: str) -> None:
    text = " ".join(
        str(v) for v in (error, getattr(error, "display_message", None), getattr(error, "error_data", None))
    )
    for secret in (creds.api_key, creds.secret, *extra):
        assert secret not in text


async def test_cancel_open_order_is_exactly_one_request(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key)
    total, sent = sim.total_requests, adapter.transport.requests_sent

    ack = await adapter.cancel(creds, ref(txid))

    assert (ack.order_id, ack.status, ack.upstream_status) == (txid, OrderStatus.cancelled, 200)
    assert sim.order(txid)["status"] == "canceled"
    assert sim.requests[(creds.api_key, "CancelOrder")] == 1
    assert (sim.total_requests - total, adapter.transport.requests_sent - sent) == (1, 1)
    assert sim.seen[-1].params["txid"] == txid and "otp" not in sim.seen[-1].params


async def test_cancel_partially_filled_order_keeps_the_fill(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key, volume="2")
    sim.fill(txid, "0.5")
    assert (await adapter.cancel(creds, ref(txid))).status is OrderStatus.cancelled
    assert (sim.order(txid)["status"], sim.order(txid)["vol_exec"]) == ("canceled", "0.50000000")


@pytest.mark.parametrize("state", ["filled", "cancelled", "expired", "never minted", "another account's"])
async def test_cancel_of_a_final_or_unknown_order_is_unknown_order(
    sim: KrakenSimulator, adapter: KrakenAdapter, state: str
) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key if state != "another account's" else account(sim).api_key)
    if state == "filled":
        sim.fill(txid)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(txid))
    elif state == "expired":
        sim.expire(txid)
    elif state == "never minted":
        txid = "OZZZZZ-ZZZZZ-ZZZZZZ"
    before = sim.requests[(creds.api_key, "CancelOrder")]

    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds, ref(txid))

    assert caught.value.upstream_status == 200
    assert caught.value.venue_message in ("EOrder:Unknown order", "EOrder:Invalid order")
    assert sim.requests[(creds.api_key, "CancelOrder")] == before + 1


async def test_pending_cancel_is_in_progress(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key)
    sim.inject(Fault("pending", "CancelOrder", api_key=creds.api_key, seconds=0.0))
    assert (await adapter.cancel(creds, ref(txid))).status is OrderStatus.inProgress


@pytest.mark.parametrize(
    ("state", "status", "venue_status", "filled"),
    [
        ("open", OrderStatus.inProgress, "open", 0.0),
        ("partial", OrderStatus.partiallyFilled, "open", 0.4),
        ("filled", OrderStatus.success, "closed", 1.0),
        ("cancelled", OrderStatus.cancelled, "canceled", 0.0),
        ("expired", OrderStatus.expired, "expired", 0.0),
    ],
)
async def test_get_order_maps_each_state(
    sim: KrakenSimulator,
    adapter: KrakenAdapter,
    state: str,
    status: OrderStatus,
    venue_status: str,
    filled: float,
) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key, volume="1")
    {
        "partial": lambda: sim.fill(txid, "0.4"),
        "filled": lambda: sim.fill(txid),
        "expired": lambda: sim.expire(txid),
    }.get(state, lambda: None)()
    if state == "cancelled":
        await adapter.cancel(creds, ref(txid))

    snapshot = await adapter.get_order(creds, ref(txid))

    assert snapshot is not None
    assert (snapshot.order_id, snapshot.status, snapshot.venue_status) == (txid, status, venue_status)
    assert (snapshot.amount, snapshot.filled) == (1.0, filled)
    assert sim.seen[-1].method == "QueryOrders" and sim.seen[-1].params["trades"] == "false"


@pytest.mark.parametrize("txid", ["OZZZZZ-ZZZZZ-ZZZZZZ", "not a txid"])
async def test_get_order_of_an_order_kraken_does_not_have_is_none(
    sim: KrakenSimulator, adapter: KrakenAdapter, txid: str
) -> None:
    creds = account(sim)
    assert await adapter.get_order(creds, ref(txid)) is None
    assert sim.seen[-1].error == "EOrder:Invalid order"


async def test_mfa_code_travels_as_otp_inside_the_signed_body(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim, otp="271828", known_2fa=True)
    txid = sim.place_order(creds.api_key)

    assert (await adapter.get_order(creds, ref(txid, "271828"))) is not None
    ack = await adapter.cancel(creds, ref(txid, "271828"))

    assert ack.status is OrderStatus.cancelled
    seen = sim.seen[-1]
    assert (seen.method, seen.params["otp"], seen.otp_verified, seen.error) == ("CancelOrder", "271828", True, None)


async def test_wrong_mfa_code_is_mfa_invalid(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim, otp="271828", known_2fa=True)
    txid = sim.place_order(creds.api_key)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(txid, "999999"))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.mfaInvalid, 200)
    assert sim.order(txid)["status"] == "open"
    assert_clean(caught.value, creds, "999999")


@pytest.mark.parametrize("call", ["cancel", "get_order"])
async def test_missing_mfa_code_for_a_two_factor_key_sends_nothing(
    sim: KrakenSimulator, adapter: KrakenAdapter, call: str
) -> None:
    creds = account(sim, otp="271828", known_2fa=True)
    txid = sim.place_order(creds.api_key)
    total, sent = sim.total_requests, adapter.transport.requests_sent
    with pytest.raises(GatewayError) as caught:
        await getattr(adapter, call)(creds, ref(txid))
    assert caught.value.error_type is ErrorType.mfaRequired
    assert (sim.total_requests, adapter.transport.requests_sent) == (total, sent)


@pytest.mark.parametrize("order_id", ["12345", "-7", "OAAAAA-AAAAA-AAAAAA,OBBBBB-BBBBB-BBBBBB", ""])
async def test_ids_naming_several_orders_are_refused_before_sending(
    sim: KrakenSimulator, adapter: KrakenAdapter, order_id: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(order_id))
        assert caught.value.error_type is ErrorType.invalidField
        assert list(caught.value.error_data["fields"]) == ["id"]
    assert adapter.transport.requests_sent == sent


ERROR_CASES: list[tuple[str, ErrorType | type[Exception], int | None]] = [
    ("EAPI:Invalid key", ErrorType.institutionAuthFailed, None),
    ("EAPI:Invalid signature", ErrorType.institutionAuthFailed, None),
    ("EAPI:Invalid nonce", ErrorType.institutionAuthFailed, None),
    ("EGeneral:Permission denied", ErrorType.institutionPermissionDenied, None),
    ("EAPI:Rate limit exceeded", ErrorType.rateLimited, 5),
    ("EOrder:Rate limit exceeded", ErrorType.rateLimited, 10),
    ("EService:Throttled", ErrorType.rateLimited, 5),
    ("EGeneral:Temporary lockout", ErrorType.institutionLocked, 900),
    ("ETrade:User Locked", ErrorType.institutionLocked, 900),
    ("EService:Unavailable", ErrorType.institutionUnavailable, None),
    ("EService:Busy", ErrorType.institutionUnavailable, None),
    ("EGeneral:Internal error", ErrorType.institutionUnavailable, None),
    ("EGeneral:Internal error:6a8f", ErrorType.institutionUnavailable, None),
    ("EService:Market in cancel_only mode", ErrorType.institutionUnavailable, None),
    ("EBrandNew:Something Kraken added", ErrorType.institutionUnavailable, None),
    ("EService:Deadline elapsed", OutcomeUnknown, None),
    ("EOrder:Unknown order", UnknownOrderAtVenue, None),
    ("EOrder:Invalid order", UnknownOrderAtVenue, None),
    ("EGeneral:Invalid arguments", UnknownOrderAtVenue, None),
    ("EGeneral:Invalid arguments:txid", UnknownOrderAtVenue, None),
]


@pytest.mark.parametrize(("error", "expected", "retry_after"), ERROR_CASES)
async def test_each_kraken_error_on_cancel_maps_to_its_meaning(
    sim: KrakenSimulator,
    adapter: KrakenAdapter,
    error: str,
    expected: ErrorType | type[Exception],
    retry_after: int | None,
) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key)
    sim.inject(Fault("venue_error", "CancelOrder", api_key=creds.api_key, error=error))

    with pytest.raises((GatewayError, OutcomeUnknown, UnknownOrderAtVenue)) as caught:
        await adapter.cancel(creds, ref(txid))

    if isinstance(expected, ErrorType):
        assert isinstance(caught.value, GatewayError)
        assert (caught.value.error_type, caught.value.retry_after) == (expected, retry_after)
        assert caught.value.upstream_status == 200
        assert error in caught.value.message
    else:
        assert type(caught.value) is expected
    assert sim.order(txid)["status"] == "open"
    assert_clean(caught.value, creds)


async def test_venue_text_echoing_credentials_is_redacted(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim, otp="8675309", known_2fa=True)
    echo = f"EGeneral:Odd:{creds.api_key}:{creds.secret}:8675309"
    sim.inject(Fault("venue_error", "CancelOrder", api_key=creds.api_key, error=echo))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key), "8675309"))
    assert caught.value.error_type is ErrorType.institutionUnavailable
    assert "<redacted>" in caught.value.message
    assert_clean(caught.value, creds, "8675309")


async def test_throttled_uses_the_time_kraken_names(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    until = int(time.time()) + 40
    sim.inject(Fault("venue_error", "CancelOrder", api_key=creds.api_key, error=f"EService: Throttled: {until}"))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert caught.value.error_type is ErrorType.rateLimited
    assert caught.value.retry_after is not None and 30 <= caught.value.retry_after <= 40


async def test_key_without_trade_permission(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim, can_trade=False)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionPermissionDenied, 200)


@pytest.mark.parametrize(("call", "status"), [("cancel", 502), ("get_order", 502), ("cancel", 503), ("cancel", 200)])
async def test_html_error_pages_are_institution_unavailable(
    sim: KrakenSimulator, adapter: KrakenAdapter, call: str, status: int
) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key)
    method = "CancelOrder" if call == "cancel" else "QueryOrders"
    sim.inject(Fault("http_error", method, api_key=creds.api_key, status=status))
    with pytest.raises(GatewayError) as caught:
        await getattr(adapter, call)(creds, ref(txid))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionUnavailable, status)
    assert sim.order(txid)["status"] == "open"


async def test_http_429_is_rate_limited(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    sim.inject(Fault("http_error", "CancelOrder", api_key=creds.api_key, status=429))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(sim.place_order(creds.api_key)))
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.rateLimited, 429)
    assert caught.value.retry_after == 5


async def test_lost_answer_after_the_cancel_took_effect_is_outcome_unknown(
    served: tuple[KrakenSimulator, str], sim: KrakenSimulator
) -> None:
    impatient = Transport(timeout_s=0.3)
    adapter = KrakenAdapter(SPEC, served[1], impatient)
    creds = account(sim)
    txid = sim.place_order(creds.api_key)
    sim.inject(Fault("delay_after", "CancelOrder", api_key=creds.api_key, seconds=1.5))
    try:
        with pytest.raises(OutcomeUnknown):
            await adapter.cancel(creds, ref(txid))
    finally:
        await impatient.close()
    assert sim.order(txid)["status"] == "canceled"


async def test_dropped_connection_is_outcome_unknown_and_nothing_happened(
    sim: KrakenSimulator, adapter: KrakenAdapter
) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key)
    sim.inject(Fault("reset", "CancelOrder", api_key=creds.api_key))
    with pytest.raises(OutcomeUnknown):
        await adapter.cancel(creds, ref(txid))
    assert sim.order(txid)["status"] == "open"
    assert (await adapter.cancel(creds, ref(txid))).status is OrderStatus.cancelled


async def test_slow_venue_still_answers(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    txid = sim.place_order(creds.api_key)
    sim.inject(Fault("delay_before", "CancelOrder", api_key=creds.api_key, seconds=0.05))
    assert (await adapter.cancel(creds, ref(txid))).status is OrderStatus.cancelled


async def test_concurrent_cancels_on_one_key_never_break_nonce_order(
    sim: KrakenSimulator, adapter: KrakenAdapter
) -> None:
    creds = account(sim)
    txids = [sim.place_order(creds.api_key) for _ in range(300)]
    nonce_errors = sim.errors["EAPI:Invalid nonce"]

    sim.jitter_s = 0.003  # without it, loopback delivers even overlapping requests in the order sent
    try:
        acks = await asyncio.gather(*(adapter.cancel(creds, ref(txid)) for txid in txids))
    finally:
        sim.jitter_s = 0.0

    assert [a.status for a in acks] == [OrderStatus.cancelled] * 300
    assert sim.errors["EAPI:Invalid nonce"] == nonce_errors
    assert sim.max_in_flight[creds.api_key] == 1
    assert sim.requests[(creds.api_key, "CancelOrder")] == 300
    assert {sim.order(t)["status"] for t in txids} == {"canceled"}


async def test_verify_credentials_ok(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id == account_fingerprint(creds.api_key)
    assert info.account_id.startswith("kraken-") and creds.api_key not in info.account_id
    assert (info.account_name, info.extras) == ("Kraken", {"otp": False})
    assert sim.seen[-1].method == "Balance"


async def test_verify_credentials_with_two_factor(sim: KrakenSimulator, adapter: KrakenAdapter) -> None:
    creds = account(sim, otp="161803")
    with pytest.raises(GatewayError) as missing:
        await adapter.verify_credentials(creds, None)
    with pytest.raises(GatewayError) as wrong:
        await adapter.verify_credentials(creds, "000000")
    info = await adapter.verify_credentials(creds, "161803")

    assert (missing.value.error_type, missing.value.upstream_status) == (ErrorType.mfaRequired, 200)
    assert (wrong.value.error_type, wrong.value.upstream_status) == (ErrorType.mfaInvalid, 200)
    assert info.extras == {"otp": True}
    assert_clean(wrong.value, creds, "000000")


async def test_verify_credentials_rejections(
    sim: KrakenSimulator, adapter: KrakenAdapter, served: tuple[KrakenSimulator, str]
) -> None:
    creds = account(sim)
    _, other_secret = sim.new_credentials()
    cases = {
        "unknown key": (
            Credentials(IntegrationType.kraken, "no-such-key", creds.secret),
            ErrorType.institutionAuthFailed,
        ),
        "wrong secret": (
            Credentials(IntegrationType.kraken, creds.api_key, other_secret),
            ErrorType.institutionAuthFailed,
        ),
        "otp without 2FA": (creds, ErrorType.mfaInvalid),
    }
    for name, (candidate, expected) in cases.items():
        with pytest.raises(GatewayError) as caught:
            await adapter.verify_credentials(candidate, "123456" if name == "otp without 2FA" else None)
        assert (name, caught.value.error_type, caught.value.upstream_status) == (name, expected, 200)
        assert_clean(caught.value, candidate)

    sent = adapter.transport.requests_sent
    garbled = Credentials(IntegrationType.kraken, creds.api_key, "not base64!")
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(garbled, None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert adapter.transport.requests_sent == sent
