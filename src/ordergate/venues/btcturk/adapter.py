"""BtcTurk: cancel one order, look one order up, verify a key.

`DELETE /api/v1/order?id=` answers `success: true` on receipt of the cancel (BtcTurk finalises it later), so an ack
is `inProgress`. NO_ORDER_MATCHES_YOUR_REQUEST and ORDER_COULD_NOT_BE_CANCELED do not tell unknown from closed:
the cancel service looks the order up (`GET /api/v1/order/{id}`). BtcTurk answers a missing permission and a bad
key alike (401); a 401 that names no authentication fault is told apart by one signed read of the balances.

Listing: open orders come from `GET /api/v1/openOrders` (all of them in one answer, paged here newest first);
any other status needs `GET /api/v1/allOrders`, which BtcTurk answers per pair, so those listings need symbolPair.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.btcturk import auth
from ordergate.venues.btcturk.constants import (
    ALL_ORDERS_MAX,
    ALL_ORDERS_PATH,
    AUTH_FAULTS,
    CANCEL_PATH,
    ERROR_MAP,
    NOT_FOUND_CODE,
    OPEN_ORDERS_PATH,
    ORDER_ID,
    ORDER_ID_SHAPE,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    RATE_LIMIT_S,
    STATUS_MAP,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import Transport, UpstreamResponse

VENUE = "BtcTurk"


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("btcturk", api_key)


def require_order_id(order_id: str) -> str:
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A BtcTurk order id is a number such as {ORDER_ID_SHAPE[1]}",
            error_data={"fields": {"id": "a BtcTurk order id (digits only)"}},
        )
    return order_id


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000


class _KeyRefused(Exception):
    """A 401 that does not say why: a wrong key or secret, or a key without the permission."""

    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.message)
        self.error = error


class BtcTurkAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, clock: Callable[[], int] = _milliseconds
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._clock = clock

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        try:
            await self._call(creds, "GET", VERIFY_PATH, _Op.verify)
        except _KeyRefused as refused:
            raise refused.error from None
        return AccountInfo(account_id=account_fingerprint(creds.api_key), account_name=VENUE)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        order_id = require_order_id(order.id)
        try:
            status, _ = await self._call(creds, "DELETE", f"{CANCEL_PATH}?id={order_id}", _Op.cancel)
        except _KeyRefused as refused:
            raise await self._why_refused(creds, refused) from None
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        order_id = require_order_id(order.id)
        try:
            status, data = await self._call(creds, "GET", f"{ORDER_PATH}/{order_id}", _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        except _KeyRefused as refused:
            raise refused.error from None
        if not isinstance(data, dict) or str(data.get("id")) != order_id:
            raise GatewayError(
                ErrorType.institutionUnavailable, "BtcTurk's order answer is not this order", upstream_status=status
            )
        return _snapshot(order_id, data)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        try:
            if query.open_only:
                return await self._list_open(creds, query)
            return await self._list_all(creds, query)
        except _KeyRefused as refused:
            raise refused.error from None

    async def _list_open(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """Every open order in one answer: a page is the newest ones below the previous page's last (time, id), so
        an order that closes between pages shifts nothing."""
        path = OPEN_ORDERS_PATH + (f"?{urlencode({'pairSymbol': query.symbol_pair})}" if query.symbol_pair else "")
        status, data = await self._call(creds, "GET", path, _Op.listing)
        if not isinstance(data, dict):
            raise GatewayError(ErrorType.institutionUnavailable, "BtcTurk's open orders are not an object",
                               upstream_status=status)  # fmt: skip
        rows = [r for side in ("bids", "asks") for r in data.get(side) or () if _listable(r)]
        rows.sort(key=_newest_first_key, reverse=True)
        bound = (query.cursor or {}).get("before")
        if isinstance(bound, list) and len(bound) == 2 and all(isinstance(v, int) for v in bound):
            rows = [r for r in rows if _newest_first_key(r) < tuple(bound)]
        snaps = [_snapshot(str(r["id"]), r) for r in rows]
        if query.since is not None:
            snaps = [s for s in snaps if s.created_at is None or s.created_at >= query.since]
        snaps = [s for s in snaps if query.statuses is None or s.status in query.statuses]
        page, more = snaps[: query.count], len(snaps) > query.count
        cursor = None
        if more:
            last = next(r for r in rows if str(r["id"]) == page[-1].order_id)
            cursor = {"phase": "open", "before": list(_newest_first_key(last))}
        return OrderPage(tuple(page), cursor)

    async def _list_all(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """allOrders pages (1-based) newest first. An order placed between pages pushes the rest down one place:
        the ids already passed (below the previous page's last id) are skipped, so none is listed twice."""
        if not query.symbol_pair:
            raise GatewayError(
                ErrorType.missingField,
                "BtcTurk lists closed orders one pair at a time: symbolPair (such as BTCTRY) is required unless only "
                "open orders are asked for.",
                error_data={"fields": {"symbolPair": "required"}},
            )
        cursor = query.cursor or {}
        page_no = cursor.get("page") if isinstance(cursor.get("page"), int) else 1
        below = cursor.get("below") if isinstance(cursor.get("below"), int) else None
        size = min(query.count, ALL_ORDERS_MAX)
        params: dict[str, str | int] = {"pairSymbol": query.symbol_pair, "page": page_no, "limit": size}
        if query.since is not None:
            params["startTime"] = query.since  # seconds, as ccxt sends it
        status, data = await self._call(creds, "GET", f"{ALL_ORDERS_PATH}?{urlencode(params)}", _Op.listing)
        if not isinstance(data, list):
            raise GatewayError(ErrorType.institutionUnavailable, "BtcTurk's orders are not a list",
                               upstream_status=status)  # fmt: skip
        rows = [r for r in data if _listable(r)]
        fresh = [r for r in rows if below is None or int(r["id"]) < below]
        snaps = [_snapshot(str(r["id"]), r) for r in fresh]
        if query.since is not None:
            snaps = [s for s in snaps if s.created_at is None or s.created_at >= query.since]
        orders = tuple(s for s in snaps if query.statuses is None or s.status in query.statuses)
        last = min((int(r["id"]) for r in fresh), default=below)
        next_cursor = {"phase": "all", "page": page_no + 1, "below": last} if len(data) >= size else None
        return OrderPage(orders, next_cursor)

    async def _why_refused(self, creds: Credentials, refused: _KeyRefused) -> GatewayError:
        """The cancel was refused with a bare 401: if the key can still read its balances, it may not trade."""
        try:
            await self._call(creds, "GET", VERIFY_PATH, _Op.verify)
        except (_KeyRefused, GatewayError):
            return refused.error
        return GatewayError(
            ErrorType.institutionPermissionDenied,
            "This BtcTurk API key cannot trade: enable the trading permission on the key.",
            upstream_status=refused.error.upstream_status,
        )

    async def _call(self, creds: Credentials, method: str, path: str, op: _Op) -> tuple[int, Any]:
        try:
            signed = auth.headers(creds.api_key, creds.secret, self._clock())
        except auth.BadSecret:
            raise GatewayError(ErrorType.institutionAuthFailed, "The BtcTurk API secret is not base64") from None
        resp = await self.transport.send(method, self.base_url + path, headers=signed, body=b"")
        try:
            answer: Any = json.loads(resp.body)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("success") is True and resp.status < 400:
            return resp.status, answer.get("data")
        raise _failure(op, resp, answer, creds)


def _failure(op: _Op, resp: UpstreamResponse, answer: Any, creds: Credentials) -> Exception:
    status = resp.status
    readable = isinstance(answer, dict) and "success" in answer
    message = str(answer.get("message") or "") if readable else ""
    text = _scrub(message, creds) or f"HTTP {status}"
    if readable and (message == "Order not found" or answer.get("code") == NOT_FOUND_CODE):
        kind: ErrorType | Ambiguous | None = Ambiguous.unknownOrder
    else:
        kind = ERROR_MAP.get(message) if readable else None
    if kind is Ambiguous.unknownOrder:
        if op in (_Op.verify, _Op.listing):
            return GatewayError(ErrorType.institutionRejected, f"{VENUE} answered {text}", upstream_status=status)
        return UnknownOrderAtVenue(status, text)
    if kind is ErrorType.rateLimited or status == 429:
        header = str(resp.headers.get("Retry-After", ""))
        retry = int(header) if header.isdigit() else RATE_LIMIT_S
        return GatewayError(
            ErrorType.rateLimited, f"{VENUE} answered {text}", retry_after=retry, upstream_status=status
        )
    if status == 401:
        error = GatewayError(ErrorType.institutionAuthFailed, f"{VENUE} answered {text}", upstream_status=status)
        if any(fault in message.lower() for fault in AUTH_FAULTS):
            return error
        return _KeyRefused(error)
    if isinstance(kind, ErrorType):
        return GatewayError(kind, f"{VENUE} answered {text}", upstream_status=status)
    if readable and 400 <= status < 500:
        return GatewayError(ErrorType.institutionRejected, f"{VENUE} answered {text}", upstream_status=status)
    # An error page, garbage, or a 5xx: an outage, which the cancel service checks with a lookup.
    return GatewayError(ErrorType.institutionUnavailable, f"{VENUE} answered {text}", upstream_status=status)


def _listable(row: Any) -> bool:
    return isinstance(row, dict) and ORDER_ID.fullmatch(str(row.get("id") or "")) is not None


def _newest_first_key(row: dict[str, Any]) -> tuple[int, int]:
    # Open orders may carry "time": 0 (BtcTurk's own sample); updateTime is then the only clock, ids break ties.
    stamp = _number(row.get("time")) or _number(row.get("updateTime")) or 0
    return int(stamp), int(row["id"])


def _snapshot(order_id: str, data: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(data.get("status") or "")
    amount = _number(data.get("quantity") if data.get("quantity") is not None else data.get("amount"))
    amount = abs(amount) if amount is not None else None
    left = _number(data.get("leftAmount"))
    filled = max(amount - left, 0.0) if amount is not None and left is not None else None
    pair = str(data.get("pairSymbolNormalized") or "")
    base, _, quote = pair.partition("_")
    side = str(data.get("type") or "")
    method = str(data.get("method") or "").lower()
    created, updated = _number(data.get("time")), _number(data.get("updateTime"))
    return OrderSnapshot(
        order_id,
        STATUS_MAP.get(venue_status, OrderStatus.unknown),
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=str(data.get("pairSymbol") or "") or None,
        price=_number(data.get("price")),
        order_type=ORDER_TYPE_MAP.get(method),
        time_in_force="goodTillCanceled" if method == "limit" else None,
        created_at=int(created // 1000) if created else None,
        updated_at=int(updated // 1000) if updated else None,
    )
