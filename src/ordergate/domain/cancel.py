"""The cancel use-case: open the token, cancel once, and turn every ambiguous answer into a definite one.

Rules (ordergate's promise to clients):
- `ok` only when the venue accepted or confirmed the cancel, or a lookup shows the order cancelled after we
  sent ours;
- `orderNotFound` only after a lookup that shows the venue has no such order;
- when the answer was lost (read timeout, dropped connection), look the order up: cancelled → ok; still open
  → one more cancel (cancelling an open order twice is harmless); anything else → a definite error, and
  `cancelOutcomeUnknown` only when even the lookup cannot tell.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ordergate.coordination import Coordination, LocalCoordination
from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.tokens import InvalidToken, TokenSealer
from ordergate.venues.base import Adapter, RequestField, VenueSpec
from ordergate.venues.health import VenueHealth
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.transport import NotDelivered, OutcomeUnknown, VenueRedirected

log = logging.getLogger("ordergate.cancel")

_OPEN = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled, OrderStatus.unknown})


@dataclass(slots=True)  # not frozen: a frozen dataclass sets each field through object.__setattr__, per request
class CancelRequest:
    auth_token: str
    type: IntegrationType
    order: OrderRef


def open_credentials(sealer: TokenSealer, client_id: str, integration: IntegrationType, token: str) -> Credentials:
    try:
        return sealer.open(client_id, integration, token)
    except InvalidToken:
        raise GatewayError(
            ErrorType.invalidAuthToken,
            "The authToken is not valid for this API client and integration type.",
            display_message="Please reconnect the account.",
        ) from None


def refuse_if_no_cancel_api(spec: VenueSpec) -> None:
    """Decided from the type alone, before a token is opened or anything is sent."""
    if spec.no_cancel_api:
        raise GatewayError(
            ErrorType.cancelNotSupported,
            f"{spec.name} has no public API to cancel orders.",
            display_message=spec.no_cancel_api,
            error_data={"type": spec.type.value},
        )


def supported_adapter(registry: VenueRegistry, integration: IntegrationType) -> tuple[VenueSpec, Adapter]:
    spec = registry.spec(integration)
    refuse_if_no_cancel_api(spec)
    adapter = registry.adapter(integration)
    if adapter is None:
        refuse_if_unconfigured(spec)
        raise GatewayError(
            ErrorType.cancelNotSupported,
            f"Order cancellation is not supported for integration '{integration.value}'.",
            error_data={"type": integration.value},
        )
    return spec, adapter


def refuse_if_unconfigured(spec: VenueSpec) -> None:
    """A venue with an adapter but no public URL (the user's own Interactive Brokers gateway) works only once the
    operator has said where it is; the URL never comes from a request."""
    if spec.cancel_supported and spec.production_url is None:
        env = f"ORDERGATE_BASE_URL_{spec.type.env_name}"
        raise GatewayError(
            ErrorType.cancelNotSupported,
            f"{spec.name} is reached through a gateway the operator runs; this deployment has none configured "
            f"(the operator sets {env}).",
            display_message=f"{spec.name} is not set up on this server yet.",
            error_data={"type": spec.type.value, "configure": env},
        )


def require_order_id_shape(spec: VenueSpec, order: OrderRef) -> None:
    """Refuse an id the venue could not have issued before any token is opened or request built: ids go into URL
    paths, and some venues read special ids (`-1`, an integer, a list) as several orders."""
    shape = spec.order_id
    if shape is not None and not shape.admits(order.id):
        raise GatewayError(
            ErrorType.invalidField,
            f"This is not a {spec.name} order id; {spec.name} order ids look like {shape.example}.",
            error_data={"fields": {"id": f"a {spec.name} order id, such as {shape.example}"}},
        )


def _require_fields(spec: VenueSpec, order: OrderRef) -> None:
    if not spec.required_fields:
        return  # most venues need nothing beyond the id
    present = {
        RequestField.symbolPair: bool(order.symbol_pair),
        RequestField.side: order.side is not None,
        RequestField.mfaCode: bool(order.mfa_code),
    }
    missing = sorted(f.value for f in spec.required_fields if not present[f])
    if missing:
        raise GatewayError(
            ErrorType.missingField,
            f"{', '.join(missing)} must be provided to cancel orders at {spec.name}.",
            error_data={"fields": {name: f"required for {spec.type.value}" for name in missing}},
        )


def _not_cancelable(snapshot: OrderSnapshot) -> GatewayError:
    return GatewayError(
        ErrorType.orderNotCancelable,
        f"The order cannot be cancelled: its status is '{snapshot.status.value}'.",
        error_data={"orderStatus": snapshot.status.value, "orderId": snapshot.order_id},
    )


def _not_found(order: OrderRef) -> GatewayError:
    return GatewayError(
        ErrorType.orderNotFound,
        "The institution has no order with this id for this account.",
        error_data={"orderId": order.id},
    )


def _unknown_outcome(order: OrderRef, why: str) -> GatewayError:
    return GatewayError(
        ErrorType.cancelOutcomeUnknown,
        f"The cancel was sent but its outcome is unknown ({why}). Check the order before acting on it.",
        error_data={"orderId": order.id},
    )


_BACK_OFF = frozenset({ErrorType.rateLimited, ErrorType.institutionLocked})


def _raise_if_blocked(spec: VenueSpec, blocked: tuple[float, str] | None) -> None:
    if blocked is not None:
        remaining, reason = blocked
        raise GatewayError(
            ErrorType(reason),
            f"{spec.name} asked to back off with this key; not contacting it again for {remaining:.0f} s.",
            retry_after=remaining,
            error_data={"limit": "venue"},
        )


def _over_budget(spec: VenueSpec, wait: float) -> GatewayError:
    rate, burst = spec.key_budget or (0.0, 0)
    return GatewayError(
        ErrorType.rateLimited,
        f"This key's cancels would exceed {spec.name}'s documented limit; not sent.",
        retry_after=wait,
        error_data={"limit": "venueBudget", "ratePerSecond": rate, "burst": burst},
    )


def venue_back_off_id(spec: VenueSpec, base_url: str) -> str:
    """The cool-down key shared by every key sent to a venue that limits and bans by IP (Binance)."""
    return f"host:{spec.family}:{base_url}"


def venue_wide_types(registry: VenueRegistry, spec: VenueSpec, base_url: str) -> list[IntegrationType]:
    """Every integration type a venue-wide back-off silences: same family, same host."""
    return [
        t
        for t in IntegrationType
        if registry.spec(t).family == spec.family
        and (url := registry.base_url(t)) is not None
        and url.rstrip("/") == base_url
    ]


def venue_key_id(spec: VenueSpec, creds: Credentials) -> str:
    """Identifies a venue key for rate-limit state without keeping the key itself."""
    # The secret is part of it: OAuth accounts share a placeholder api_key ("oauth"), and one user's 429 must not
    # silence another's. Only a digest is kept.
    key_id = creds.memo.get("key_id")
    if key_id is None:
        digest = hashlib.sha256(f"{spec.family}\x00{creds.api_key}\x00{creds.secret}".encode()).hexdigest()[:32]
        key_id = creds.memo["key_id"] = digest
    return key_id  # type: ignore[return-value]


@dataclass(slots=True)  # not frozen, as CancelRequest
class Prepared:
    """A cancel request checked and its token opened, not yet sent."""

    req: CancelRequest
    spec: VenueSpec
    adapter: Adapter
    creds: Credentials
    key_id: str
    back_off_id: str


class CancelService:
    def __init__(
        self,
        registry: VenueRegistry,
        sealer: TokenSealer,
        coordination: Coordination | None = None,
        *,
        key_budgets: bool = True,
        health: VenueHealth | None = None,
    ) -> None:
        self.registry = registry
        self.health = health
        self.sealer = sealer
        self.key_budgets = key_budgets
        # Once a venue says "slow down" or "locked" for a key, ordergate answers for it until Retry-After passes:
        # calling again would only deepen the user's ban.
        self.coordination = coordination or LocalCoordination()
        self._routes: dict[IntegrationType, tuple[VenueSpec, Adapter, Callable[[str], object] | None]] = {}

    async def cancel(
        self, client_id: str, req: CancelRequest, *, wait_s: float = 0.0, pace_s: float = 0.0
    ) -> CancelAck:
        """`wait_s`: where the venue only acknowledges, poll the order until it is final or the time is up
        (domain/settle.py). `pace_s`: wait up to this long for the key's budget instead of refusing at once (a
        batch paces its orders rather than failing those past the burst)."""
        prepared = self.prepare(client_id, req)
        if self.coordination.local and pace_s <= 0:
            self.admit_now(prepared)
        else:
            await self.admit(prepared, pace_s)
        adapter, creds, order = prepared.adapter, prepared.creds, req.order
        try:
            try:
                ack = await adapter.cancel(creds, order)
            except (UnknownOrderAtVenue, OutcomeUnknown, VenueRedirected, NotDelivered, GatewayError) as exc:
                ack = await self.resolve(adapter, creds, order, exc)
        except GatewayError as exc:
            await self.note_back_off(prepared, exc)
            raise
        if wait_s > 0 and ack.status is OrderStatus.inProgress:
            return await self.settle(prepared, ack, wait_s)
        return ack

    def prepare(self, client_id: str, req: CancelRequest) -> Prepared:
        """Everything decided before anything is sent: venue, id shape, fields, token."""
        route = self._routes.get(req.type)
        if route is None:
            route = self._route(req.type)
        spec, adapter, admits = route
        if admits is not None and not admits(req.order.id):
            require_order_id_shape(spec, req.order)  # raises, with the venue's example
        if spec.required_fields:  # most venues need nothing beyond the id
            _require_fields(spec, req.order)
        creds = open_credentials(self.sealer, client_id, req.type, req.auth_token)
        key_id = venue_key_id(spec, creds)
        # Where a venue limits and bans by IP (Binance), its back-off applies to every key sent from this gateway.
        back_off_id = venue_back_off_id(spec, adapter.base_url) if spec.limits_per_ip else key_id
        return Prepared(req, spec, adapter, creds, key_id, back_off_id)

    def _route(self, integration: IntegrationType) -> tuple[VenueSpec, Adapter, Callable[[str], object] | None]:
        """What `prepare` needs of a type, kept once a type has a supported adapter (the registry keeps adapters
        for the process's life): spec, adapter and its order id check, with no call per request to find them."""
        spec, adapter = supported_adapter(self.registry, integration)
        route = self._routes[integration] = (spec, adapter, spec.order_id.matcher() if spec.order_id else None)
        return route

    def admit_now(self, prepared: Prepared) -> None:
        """`admit` with in-process coordination (`coordination.local`), which answers without I/O: no await."""
        coordination = self.coordination
        spec = prepared.spec
        blocked = coordination.check_now(prepared.back_off_id)  # type: ignore[attr-defined]
        if blocked is not None:
            _raise_if_blocked(spec, blocked)
        if self.key_budgets and spec.key_budget is not None:
            rate, burst = spec.key_budget
            wait = coordination.take_token_now(f"budget:{prepared.back_off_id}", rate, burst)  # type: ignore[attr-defined]
            if wait:
                raise _over_budget(spec, wait)

    async def admit(self, prepared: Prepared, pace_s: float = 0.0) -> None:
        """The key's back-off and one unit of its budget."""
        await self.raise_if_cooling_down(prepared.spec, prepared.back_off_id)
        # The same for the documented budget: Interactive Brokers' 10 requests/s is per gateway, not per account.
        await self.take_from_budget(prepared.spec, prepared.back_off_id, pace_s)

    async def note_back_off(self, prepared: Prepared, exc: GatewayError) -> None:
        spec, adapter = prepared.spec, prepared.adapter
        if exc.error_type in _BACK_OFF and exc.retry_after:
            await self.coordination.block(prepared.back_off_id, exc.retry_after, exc.error_type.value)
            if spec.limits_per_ip and self.health is not None:
                self.health.cooled_down(
                    venue_wide_types(self.registry, spec, adapter.base_url), exc.retry_after, exc.error_type.value
                )

    async def settle(self, prepared: Prepared, ack: CancelAck, wait_s: float) -> CancelAck:
        if wait_s > 0 and ack.status is OrderStatus.inProgress:
            from ordergate.domain.settle import await_final  # settle builds on this module's answers

            p = prepared
            order = p.req.order
            return await await_final(self, p.spec, p.adapter, p.creds, order, ack, p.key_id, p.back_off_id, wait_s)
        return ack

    async def take_from_budget(self, spec: VenueSpec, key_id: str, pace_s: float = 0.0) -> None:
        if not self.key_budgets or spec.key_budget is None:
            return
        rate, burst = spec.key_budget
        deadline = time.monotonic() + pace_s
        while True:
            wait = await self.coordination.take_token(f"budget:{key_id}", rate, burst)
            if not wait or time.monotonic() + wait > deadline:
                break
            await asyncio.sleep(wait)
        if wait:
            raise _over_budget(spec, wait)

    async def raise_if_cooling_down(self, spec: VenueSpec, key_id: str) -> None:
        _raise_if_blocked(spec, await self.coordination.check(key_id))

    async def _cancel(
        self, adapter: Adapter, creds: Credentials, order: OrderRef, retries_left: int, sent_before: bool
    ) -> CancelAck:
        """A retry after a lookup (the first attempt is inline in `cancel`)."""
        try:
            return await adapter.cancel(creds, order)
        except (UnknownOrderAtVenue, OutcomeUnknown, VenueRedirected, NotDelivered, GatewayError) as exc:
            return await self.resolve(adapter, creds, order, exc, retries_left, sent_before)

    async def resolve(
        self,
        adapter: Adapter,
        creds: Credentials,
        order: OrderRef,
        exc: Exception,
        retries_left: int = 1,
        sent_before: bool = False,
    ) -> CancelAck:
        """The definite answer for a cancel whose request ended in `exc`. A native batch's per-order outcomes come
        through here too, so an order answers the same whether it went alone or in a batch."""
        if isinstance(exc, UnknownOrderAtVenue):
            return await self._after_unknown_order(adapter, creds, order, exc, retries_left, sent_before)
        if isinstance(exc, OutcomeUnknown):
            return await self._after_lost_answer(adapter, creds, order, str(exc), retries_left)
        if isinstance(exc, VenueRedirected):
            # Definite (see VenueRedirected): no lookup, unless an earlier attempt's answer was lost.
            if sent_before:
                raise _unknown_outcome(order, "an earlier attempt's answer was lost") from None
            raise exc
        if isinstance(exc, NotDelivered):
            if sent_before:
                raise _unknown_outcome(order, "an earlier attempt's answer was lost") from None
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "The institution could not be reached; the cancel was not delivered.",
            ) from None
        if isinstance(exc, GatewayError) and exc.error_type is ErrorType.institutionUnavailable and not exc.unprocessed:
            # A failing venue may still have cancelled (an edge 502 after the engine acted): only a lookup can
            # tell. 502 promises "not cancelled as far as the venue shows", so a failed lookup makes it 504.
            try:
                snapshot = await adapter.get_order(creds, order)
            except (OutcomeUnknown, NotDelivered, GatewayError, UnknownOrderAtVenue):
                raise _unknown_outcome(order, f"{exc.message}; the order lookup failed too") from None
            if snapshot is not None and snapshot.status is OrderStatus.cancelled:
                return CancelAck(order.id, OrderStatus.cancelled, exc.upstream_status)
        raise exc

    async def _after_unknown_order(
        self,
        adapter: Adapter,
        creds: Credentials,
        order: OrderRef,
        exc: UnknownOrderAtVenue,
        retries_left: int,
        sent_before: bool,
    ) -> CancelAck:
        try:
            snapshot = await adapter.get_order(creds, order)
        except (OutcomeUnknown, NotDelivered):
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "The institution reported the order unknown and the order lookup failed; the order was not "
                "cancelled by this request.",
                upstream_status=exc.upstream_status,
            ) from None
        if snapshot is None:
            raise _not_found(order)
        if snapshot.status is OrderStatus.cancelled and sent_before:
            # Our earlier cancel in this request (whose answer was lost) is what cancelled it.
            return CancelAck(order.id, OrderStatus.cancelled, exc.upstream_status)
        if snapshot.status not in _OPEN:
            raise _not_cancelable(snapshot)
        # Listed as open yet "unknown" to the cancel: a replication lag right after creation. Retry once.
        if retries_left > 0:
            return await self._cancel(adapter, creds, order, retries_left - 1, sent_before=True)
        raise GatewayError(
            ErrorType.institutionUnavailable,
            "The institution lists the order as open but refused to cancel it as unknown; it is still open.",
            upstream_status=exc.upstream_status,
        )

    async def _after_lost_answer(
        self, adapter: Adapter, creds: Credentials, order: OrderRef, why: str, retries_left: int
    ) -> CancelAck:
        try:
            snapshot = await adapter.get_order(creds, order)
        except (OutcomeUnknown, NotDelivered, GatewayError):
            raise _unknown_outcome(order, f"{why}; the order lookup failed too") from None
        if snapshot is None:
            raise _not_found(order)
        if snapshot.status is OrderStatus.cancelled:
            return CancelAck(order.id, OrderStatus.cancelled)
        if snapshot.status in _OPEN and retries_left > 0:
            log.info("cancel answer lost, order still open: retrying once")
            return await self._cancel(adapter, creds, order, retries_left - 1, sent_before=True)
        if snapshot.status in _OPEN:
            raise _unknown_outcome(order, f"{why}; the order is still open after a retry")
        raise _not_cancelable(snapshot)
