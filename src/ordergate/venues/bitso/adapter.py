"""Bitso REST v3: cancel one order, look one order up, verify a key.

`DELETE /api/v3/orders/{oid}` answers `success: true` with the ids it cancelled; an order it did not cancel
(filled, already cancelled, unknown) is simply absent from that list, which is never success: the cancel service
looks the order up. Bitso's lookup shows open orders, and closed ones for an hour after they close; past that an
order with fills still has trades (`/order_trades/{oid}`), so it is reported as not cancelable rather than unknown.
Errors are `{"success": false, "error": {"code", "message"}}`, whose code decides whatever the HTTP status.

Listing: Bitso lists open orders only (`GET /open_orders`, newest first, paged with `marker`); it has no list of
closed orders, so a listing asked for closed statuses only is refused as something Bitso cannot answer, and a listing
of every status holds the open orders.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.bitso.auth import authorization
from ordergate.venues.bitso.constants import (
    ERROR_MAP,
    NONCE_CODES,
    OPEN_ORDERS_MAX,
    OPEN_ORDERS_PATH,
    ORDER_ID,
    ORDER_ID_SHAPE,
    ORDER_TYPE_MAP,
    ORDERS_PATH,
    RATE_LIMIT_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    TRADES_PATH,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.nonces import NonceGate
from ordergate.venues.transport import Transport, UpstreamResponse

VENUE = "Bitso"


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("bitso", api_key)


def require_order_id(order_id: str) -> str:
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A Bitso order id is its oid, such as {ORDER_ID_SHAPE[1]}",
            error_data={"fields": {"id": "a Bitso oid (letters and digits)"}},
        )
    return order_id


class BitsoAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, nonces: NonceGate | None = None
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._nonces = nonces if nonces is not None else NonceGate(venue="bitso")

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Bitso API keys carry no per-request second factor.
        _, payload = await self._call(creds, "GET", VERIFY_PATH, _Op.verify)
        if not isinstance(payload, dict):
            raise GatewayError(ErrorType.institutionUnavailable, "Bitso's account status is not an object")
        return AccountInfo(account_id=account_fingerprint(creds.api_key), account_name=VENUE)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        oid = require_order_id(order.id)
        status, payload = await self._call(creds, "DELETE", f"{ORDERS_PATH}/{oid}", _Op.cancel)
        if not isinstance(payload, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "Bitso's cancel answer has no list of ids", upstream_status=status
            )
        if oid in payload:
            return CancelAck(order.id, OrderStatus.cancelled, status)
        # Absent: filled, already cancelled or never this account's; only the lookup tells which.
        raise UnknownOrderAtVenue(status, "Bitso did not list the order as cancelled")

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        oid = require_order_id(order.id)
        try:
            status, payload = await self._call(creds, "GET", f"{ORDERS_PATH}/{oid}", _Op.lookup)
        except UnknownOrderAtVenue:
            payload = []
        else:
            if not isinstance(payload, list):
                raise GatewayError(
                    ErrorType.institutionUnavailable, "Bitso's order lookup is not a list", upstream_status=status
                )
        # Filtered here too: the answer must be about this oid, whatever Bitso's filter did.
        entry = next((e for e in payload if isinstance(e, dict) and e.get("oid") == oid), None)
        if entry is not None:
            return _snapshot(oid, entry)
        try:
            status, trades = await self._call(creds, "GET", f"{TRADES_PATH}/{oid}", _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        if isinstance(trades, list) and any(isinstance(t, dict) and t.get("oid") == oid for t in trades):
            # It traded and has left the one-hour window: not open, and neither "never existed". Bitso no longer
            # says whether the rest was filled or cancelled.
            raise GatewayError(
                ErrorType.orderNotCancelable,
                "The order cannot be cancelled: it traded and closed more than an hour ago, so Bitso no longer "
                "reports whether it filled completely.",
                error_data={"orderStatus": OrderStatus.unknown.value, "orderId": oid},
                upstream_status=status,
            )
        return None

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        if query.statuses is not None and not query.statuses & OPEN_STATUSES:
            raise GatewayError(
                ErrorType.listingNotSupported,
                "Bitso lists open orders only: it keeps no list of completed or cancelled orders (each is found "
                "by its id, for an hour after it closes).",
                error_data={"type": self.spec.type.value, "listable": sorted(s.value for s in OPEN_STATUSES)},
            )
        # One more than the page asks, to know whether another page follows without an empty last request.
        size = min(query.count, OPEN_ORDERS_MAX - 1)
        params: dict[str, str | int] = {"sort": "desc", "limit": size + 1}
        marker = (query.cursor or {}).get("marker")
        if isinstance(marker, str) and ORDER_ID.fullmatch(marker):
            params["marker"] = marker
        if query.symbol_pair:
            params["book"] = query.symbol_pair
        status, payload = await self._call(creds, "GET", f"{OPEN_ORDERS_PATH}?{urlencode(params)}", _Op.listing)
        if not isinstance(payload, list):
            raise GatewayError(ErrorType.institutionUnavailable, "Bitso's open orders are not a list",
                               upstream_status=status)  # fmt: skip
        entries = [e for e in payload if isinstance(e, dict) and ORDER_ID.fullmatch(str(e.get("oid") or ""))]
        more = len(entries) > size
        orders: list[OrderSnapshot] = []
        for entry in entries[:size]:
            snap = _snapshot(str(entry["oid"]), entry)
            if query.since is not None and snap.created_at is not None and snap.created_at < query.since:
                more = False  # newest first: every later one is older still
                break
            if query.statuses is None or snap.status in query.statuses:
                orders.append(snap)
        cursor = {"phase": "open", "marker": str(entries[size - 1]["oid"])} if more else None
        return OrderPage(tuple(orders), cursor)

    async def _call(self, creds: Credentials, method: str, path: str, op: _Op) -> tuple[int, Any]:
        shared = getattr(self.coordination, "key_sequencer", None)
        gate = shared if shared is not None else self._nonces  # across workers when Redis is configured
        async with gate.hold(creds.api_key) as next_nonce:
            headers = {"Authorization": authorization(creds.api_key, creds.secret, next_nonce(), method, path)}
            resp = await self.transport.send(method, self.base_url + path, headers=headers, body=b"")
        try:
            answer: Any = json.loads(resp.body)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("success") is True and resp.status < 400:
            return resp.status, answer.get("payload")
        raise _failure(op, resp, answer, creds)


def _failure(op: _Op, resp: UpstreamResponse, answer: Any, creds: Credentials) -> Exception:
    status = resp.status
    error = answer.get("error") if isinstance(answer, dict) and answer.get("success") is not True else None
    if isinstance(error, dict) and error.get("code") is not None:
        code = str(error.get("code"))
        text = _scrub(f"{code}: {error.get('message', '')}", creds)
        kind = ERROR_MAP.get(code)
        if kind is Ambiguous.unknownOrder:
            if op in (_Op.verify, _Op.listing):
                return GatewayError(ErrorType.institutionRejected, f"{VENUE} answered {text}", upstream_status=status)
            return UnknownOrderAtVenue(status, text)
        if code in NONCE_CODES:
            text += " (this key was used elsewhere with larger nonces; give ordergate a key of its own)"
        if kind is None:
            # An unlisted code: its category says whether it is about the request (4xx) or Bitso (5xx).
            kind = ErrorType.institutionRejected if 400 <= status < 500 and status != 429 else None
        if kind is None and status == 429:
            kind = ErrorType.rateLimited
        if kind is not None:
            return GatewayError(
                kind, f"{VENUE} answered {text}", retry_after=_retry(kind, resp), upstream_status=status
            )
    if status == 429:
        return GatewayError(
            ErrorType.rateLimited,
            f"{VENUE} answered HTTP 429",
            retry_after=_retry(ErrorType.rateLimited, resp),
            upstream_status=status,
        )
    # An error page in front of Bitso, or an answer that is neither success nor a Bitso error: an outage, which
    # the cancel service checks with a lookup.
    detail = "an unreadable body" if answer is None else "no Bitso error"
    return GatewayError(ErrorType.institutionUnavailable, f"{VENUE} answered HTTP {status} with {detail}",
                        upstream_status=status)  # fmt: skip


def _retry(kind: ErrorType, resp: UpstreamResponse) -> int | None:
    if kind is not ErrorType.rateLimited:
        return None
    header = str(resp.headers.get("Retry-After", ""))
    return int(header) if header.isdigit() else RATE_LIMIT_S


def _stamp(text: Any) -> int | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        # Bitso writes "2016-04-08T17:52:31.000+00:00" and "...+0000"; both parse.
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        return None


def _snapshot(oid: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    amount, unfilled = _number(entry.get("original_amount")), _number(entry.get("unfilled_amount"))
    filled = max(amount - unfilled, 0.0) if amount is not None and unfilled is not None else None
    book = str(entry.get("book") or "")
    base, _, quote = book.partition("_")
    side = str(entry.get("side") or "")
    return OrderSnapshot(
        oid,
        STATUS_MAP.get(venue_status, OrderStatus.unknown),
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base.upper() or None,
        payment_symbol=quote.upper() or None,
        symbol_pair=book or None,
        price=_number(entry.get("price")),
        order_type=ORDER_TYPE_MAP.get(str(entry.get("type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("time_in_force") or "").replace("_", "").lower()),
        created_at=_stamp(entry.get("created_at")),
        updated_at=_stamp(entry.get("updated_at")),
    )
