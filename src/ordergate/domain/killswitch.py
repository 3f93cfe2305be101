"""Kill switch and dead-man's switch (ordergate extensions, issue 18).

Kill switch: cancel every open order of one account, optionally of one symbolPair and/or side, and name each order
touched with its outcome. Where the venue has a native cancel-all (`NativeCancelAll`) that can apply the filters
asked for, it is one upstream request (plus what the adapter needs to name the orders: a venue whose cancel-all
answers only a count lists the open orders before and looks them up after). Otherwise the open orders are listed
(every page) and each is cancelled through `CancelService.cancel`, exactly as a batch does: concurrently, paced by
the key's budget, with the single cancel's lookups for ambiguous answers. A filter the venue's listing cannot apply
is applied here on the listed orders.

Dead-man's switch: arm (or with 0 disarm) the venue's own timer (`DeadManSwitch`); a venue without one is refused
with `cancelAfterNotSupported` before any token is opened or request sent. ordergate never runs such a timer
itself: a gateway that restarts would silently drop it, which is exactly the failure the switch guards against.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ordergate.domain.batch import PACE_S, cancel_each
from ordergate.domain.cancel import (
    CancelRequest,
    CancelService,
    open_credentials,
    supported_adapter,
    venue_back_off_id,
    venue_key_id,
)
from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderQuery, VenueSpec
from ordergate.venues.catalog import CATEGORIES
from ordergate.venues.transport import NotDelivered, OutcomeUnknown

# Orders one kill switch walks through the listing path at most: 40 pages of the largest Mesh page. Past it the
# answer says `truncated` rather than holding the request open for minutes.
MAX_ORDERS = 10_000
LIST_PAGE = 250
MAX_CANCEL_AFTER_S = 86_400  # Kraken's documented maximum timeout (a day)


@dataclass(frozen=True, slots=True)
class Touched:
    """One order a kill switch acted on: the venue's cancel acknowledgement, or why it was not cancelled."""

    order_id: str
    outcome: CancelAck | GatewayError


@dataclass(frozen=True, slots=True)
class NativeResult:
    touched: list[Touched]
    # Orders the venue says it cancelled that the adapter could not name (a count-only answer that covered an
    # order placed between its listing and the cancel-all).
    unnamed: int = 0
    how: str = ""  # how the orders were named, for the answer


@runtime_checkable
class NativeCancelAll(Protocol):
    """Optional adapter capability: the venue's own cancel-all for one account.

    `cancel_all_filters` names the filters (`symbolPair`, `side`) the venue applies itself; a kill switch asked for
    another one goes through the listing instead."""

    cancel_all_filters: frozenset[str]

    async def cancel_all(self, creds: Credentials, symbol_pair: str | None, side: OrderSide | None) -> NativeResult: ...


@runtime_checkable
class DeadManSwitch(Protocol):
    """Optional adapter capability: the venue's cancel-all-after timer. Answers the venue's own view of it."""

    async def cancel_after(self, creds: Credentials, timeout_s: int) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class KillRequest:
    auth_token: str
    type: IntegrationType
    symbol_pair: str | None = None
    side: OrderSide | None = None


def not_cancelable(order_id: str, status: OrderStatus) -> GatewayError:
    """What a single cancel answers for an order that went final before the kill switch reached it."""
    return GatewayError(
        ErrorType.orderNotCancelable,
        f"The order cannot be cancelled: its status is '{status.value}'.",
        error_data={"orderStatus": status.value, "orderId": order_id},
    )


def looked_up(
    order_id: str, snapshot: OrderSnapshot | None, status: int | None, venue: str
) -> CancelAck | GatewayError:
    """The outcome of an order a cancel-all was meant to reach, read from a lookup after it."""
    if snapshot is None:
        return GatewayError(
            ErrorType.cancelOutcomeUnknown,
            f"{venue}'s cancel-all did not name this order and it could not be looked up; check it before acting.",
            error_data={"orderId": order_id},
        )
    if snapshot.status is OrderStatus.cancelled:
        return CancelAck(order_id, OrderStatus.cancelled, status)
    if snapshot.status in OPEN_STATUSES:
        return GatewayError(
            ErrorType.institutionUnavailable,
            f"{venue}'s cancel-all did not cancel this order: it still reads open.",
            error_data={"orderId": order_id},
        )
    return not_cancelable(order_id, snapshot.status)


def uses_native(adapter: Adapter, req: KillRequest) -> bool:
    if not isinstance(adapter, NativeCancelAll):
        return False
    wanted = {name for name, value in (("symbolPair", req.symbol_pair), ("side", req.side)) if value}
    return wanted <= adapter.cancel_all_filters


def kill_adapter(cancels: CancelService, req: KillRequest) -> tuple[VenueSpec, Adapter]:
    """Decided from the type alone, before a token is opened."""
    spec, adapter = supported_adapter(cancels.registry, req.type)
    if not uses_native(adapter, req) and not spec.lists_orders:
        raise GatewayError(
            ErrorType.cancelNotSupported,
            f"ordergate can neither cancel all orders at once nor list the open orders at {spec.name}.",
            error_data={"type": spec.type.value, "feature": "cancelAll"},
        )
    return spec, adapter


async def native_cancel_all(cancels: CancelService, client_id: str, req: KillRequest) -> NativeResult:
    spec, adapter = kill_adapter(cancels, req)
    assert isinstance(adapter, NativeCancelAll)
    creds = open_credentials(cancels.sealer, client_id, req.type, req.auth_token)
    back_off_id = venue_back_off_id(spec, adapter.base_url) if spec.limits_per_ip else venue_key_id(spec, creds)
    await cancels.raise_if_cooling_down(spec, back_off_id)
    await cancels.take_from_budget(spec, back_off_id, PACE_S)
    try:
        return await adapter.cancel_all(creds, req.symbol_pair, req.side)
    except (NotDelivered, UnknownOrderAtVenue):
        raise GatewayError(
            ErrorType.institutionUnavailable, f"{spec.name}'s cancel-all could not be delivered; nothing cancelled."
        ) from None
    except OutcomeUnknown:
        raise GatewayError(
            ErrorType.cancelOutcomeUnknown,
            f"{spec.name}'s cancel-all was sent but its answer was lost: list the open orders before acting.",
        ) from None
    except GatewayError as exc:
        if exc.error_type in (ErrorType.rateLimited, ErrorType.institutionLocked) and exc.retry_after:
            await cancels.coordination.block(back_off_id, exc.retry_after, exc.error_type.value)
        raise


async def open_orders(cancels: CancelService, client_id: str, req: KillRequest) -> tuple[list[OrderSnapshot], bool]:
    """Every open order of the account matching the filters, all pages (up to MAX_ORDERS); True when cut short."""
    spec, adapter = kill_adapter(cancels, req)
    creds = open_credentials(cancels.sealer, client_id, req.type, req.auth_token)
    found: list[OrderSnapshot] = []
    cursor: dict[str, Any] | None = None
    while True:
        query = OrderQuery(count=LIST_PAGE, statuses=OPEN_STATUSES, cursor=cursor, symbol_pair=req.symbol_pair)
        try:
            page = await adapter.list_orders(creds, query)
        except (NotDelivered, OutcomeUnknown, UnknownOrderAtVenue):
            raise GatewayError(
                ErrorType.institutionUnavailable,
                f"The open orders at {spec.name} could not be listed; nothing was cancelled.",
            ) from None
        found += [o for o in page.orders if _matches(o, req)]
        cursor = page.cursor
        if cursor is None or len(found) >= MAX_ORDERS:
            return found[:MAX_ORDERS], cursor is not None


def _matches(order: OrderSnapshot, req: KillRequest) -> bool:
    # Listings are asked for open orders, but some venues' open-orders endpoints also show ones just closed.
    if order.status not in OPEN_STATUSES and order.status is not OrderStatus.unknown:
        return False
    if req.side is not None and order.side is not req.side:
        return False
    return not req.symbol_pair or _same_pair(order.symbol_pair, req.symbol_pair, order)


def _same_pair(venue_pair: str | None, wanted: str, order: OrderSnapshot) -> bool:
    """`symbolPair` as Mesh writes it (BTC/USD, BTC-USD) or as the venue does (XBTUSD, BTCUSDT)."""

    def norm(text: str) -> str:
        return "".join(ch for ch in text.upper() if ch.isalnum())

    target = norm(wanted)
    candidates = {norm(venue_pair or "")}
    if order.symbol and order.payment_symbol:
        candidates.add(norm(order.symbol + order.payment_symbol))
    return target in candidates


async def cancel_listed(
    cancels: CancelService,
    client_id: str,
    req: KillRequest,
    orders: list[OrderSnapshot],
    run: Callable[[OrderSnapshot, Callable[[], Awaitable[CancelAck]]], Awaitable[Any]],
) -> list[Any]:
    """Each listed order through the single cancel, concurrently as a batch; `run` wraps each (its audit row)."""
    crypto = "exchange" in CATEGORIES.get(req.type, ())

    def one_cancel(order: OrderSnapshot) -> Callable[[], Awaitable[CancelAck]]:
        ref = OrderRef(order.order_id, crypto, order.side, order.symbol_pair)
        return lambda: cancels.cancel(client_id, CancelRequest(req.auth_token, req.type, ref), pace_s=PACE_S)

    return await cancel_each(orders, lambda _i, order: run(order, one_cancel(order)))


async def cancel_after(cancels: CancelService, client_id: str, req: KillRequest, timeout_s: int) -> dict[str, Any]:
    spec, adapter = supported_adapter(cancels.registry, req.type)
    if not isinstance(adapter, DeadManSwitch):
        raise GatewayError(
            ErrorType.cancelAfterNotSupported,
            f"{spec.name} has no cancel-all-after timer (dead-man's switch) that ordergate can arm.",
            error_data={"type": spec.type.value},
        )
    creds = open_credentials(cancels.sealer, client_id, req.type, req.auth_token)
    back_off_id = venue_back_off_id(spec, adapter.base_url) if spec.limits_per_ip else venue_key_id(spec, creds)
    await cancels.raise_if_cooling_down(spec, back_off_id)
    try:
        return await adapter.cancel_after(creds, timeout_s)
    except NotDelivered:
        raise GatewayError(ErrorType.institutionUnavailable, f"{spec.name} could not be reached.") from None
    except OutcomeUnknown:
        raise GatewayError(
            ErrorType.institutionUnavailable,
            f"{spec.name}'s answer was lost; whether the timer changed is unknown. Send it again.",
        ) from None
