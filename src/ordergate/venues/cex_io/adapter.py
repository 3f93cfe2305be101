"""CEX.IO Spot Trading REST: cancel one order, look one order up, verify a key.

Two requests per cancel. CEX.IO acknowledges `do_cancel_my_order` with `{"ok":"ok","data":{}}` whatever the order
is: open, filled, cancelled or never created (its docs show exactly that for an order "that has never been
created"; the refusal only arrives later as a WebSocket `orderCancelReject`). So the acknowledgement is followed by
one `get_my_orders`, which decides: CANCELLED → `cancelled`; PENDING_CANCEL or still open → `inProgress` (the
request was accepted, the engine has not finished); FILLED/EXPIRED/REJECTED → 409 with that status (also when a
fill beat the cancel); no such order → 404. Looking up after the cancel rather than before also catches a fill that
races the cancel. An order CEX.IO shows cancelled well before this request (more than the clock slack below) is a
409 `cancelled`; one cancelled moments before is reported `cancelled`, which is true either way.

Errors come as `{"error": …}` (sometimes with `statusCode`), under HTTP 4xx/5xx and also under HTTP 200, or as
`{"ok":"ok","data":{"error":…}}`: any `error` is a failure, never success.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery
from ordergate.venues.cex_io.auth import encode_body, signed_headers
from ordergate.venues.cex_io.constants import (
    ARCHIVE_LOOKBACK_MS,
    AUTH_TEXTS,
    CANCEL_ACTION,
    CANCELLED_BEFORE_SLACK_MS,
    FINAL_STATUSES,
    LIST_REQUESTS_PER_PAGE,
    MAINTENANCE_TEXTS,
    OPEN_STATUSES,
    ORDER_ID_SHAPE,
    ORDER_TYPE_MAP,
    ORDERS_ACTION,
    PERMISSION_TEXTS,
    RATE_LIMIT_TEXTS,
    RATE_LIMIT_WINDOW_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_ACTION,
)
from ordergate.venues.cex_io.listing import following, params, start
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import NotDelivered, OutcomeUnknown

VENUE = "CEX.IO"
_ORDER_ID = re.compile(ORDER_ID_SHAPE.pattern)


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    list = "list"


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("cexio", api_key)


def order_id_number(order_id: str) -> int:
    """The id as the JSON number CEX.IO's bodies carry; anything not of its shape is refused before sending."""
    if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A CEX.IO order id is the number CEX.IO assigned (orderId), such as {ORDER_ID_SHAPE.example}",
            error_data={"fields": {"id": "a CEX.IO orderId (digits only)"}},
        )
    return int(order_id)


def cancel_params(number: int, now_ms: int | None = None) -> dict[str, Any]:
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    # cancelRequestId is the client's name for this cancel; unique per request, as a retry is a new request.
    return {"orderId": number, "cancelRequestId": f"og_{ms}_{secrets.token_hex(4)}", "timestamp": ms}


class CexIoAdapter(Adapter):
    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # CEX.IO API keys have no one-time codes. The answer names no account, so the key's digest does.
        await self._post(creds, VERIFY_ACTION, {}, _Op.verify)
        return AccountInfo(account_id=account_fingerprint(creds.api_key), account_name=VENUE)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        number = order_id_number(order.id)
        params = cancel_params(number)
        status, _ = await self._post(creds, CANCEL_ACTION, params, _Op.cancel)
        try:
            entry = await self._entry(creds, order.id, number)
        except (GatewayError, OutcomeUnknown, NotDelivered):
            # CEX.IO accepted the request; only its outcome could not be read.
            return CancelAck(order.id, OrderStatus.inProgress, status)
        if entry is None:
            raise GatewayError(
                ErrorType.orderNotFound,
                "CEX.IO has no order with this id for this account.",
                error_data={"orderId": order.id},
            )
        snapshot = _snapshot(order.id, entry)
        updated = _number(entry.get("lastUpdateTimestamp"))
        if snapshot.venue_status == "CANCELLED":
            if updated is not None and updated < params["timestamp"] - CANCELLED_BEFORE_SLACK_MS:
                raise _not_cancelable(snapshot, "CEX.IO cancelled it before this request")
            return CancelAck(order.id, OrderStatus.cancelled, status)
        if snapshot.venue_status in FINAL_STATUSES:
            raise _not_cancelable(snapshot, f"CEX.IO lists it as {snapshot.venue_status}")
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        return await self._lookup(creds, order.id, order_id_number(order.id))

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """Pages of CEX.IO's fixed page size, open phase then archive, until `count` orders are in hand: a page that
        ends the open orders with room left goes on into the archive, and one that fills up inside a CEX.IO page
        keeps how many rows of it were served (`skip`), so the next page starts right after them."""
        pair = _pair(query.symbol_pair)
        position: dict[str, Any] | None = start(query)
        orders: list[OrderSnapshot] = []
        for _ in range(LIST_REQUESTS_PER_PAGE):
            if position is None or len(orders) >= query.count:
                break
            _, data = await self._post(creds, ORDERS_ACTION, params(position, query, pair), _Op.list)
            if not isinstance(data, list):
                raise GatewayError(ErrorType.institutionUnavailable, "CEX.IO's orders answer has no list of orders")
            rows = [r for r in data if isinstance(r, dict)]
            consumed = position.get("skip", 0)
            for row in rows[consumed:]:
                if len(orders) >= query.count:
                    break
                consumed += 1
                order = _snapshot(str(row.get("orderId")), row)
                if query.statuses is None or order.status in query.statuses:
                    orders.append(order)
            if consumed < len(rows):
                position = {**position, "skip": consumed}
                break
            position = following({k: v for k, v in position.items() if k != "skip"}, len(rows), query)
        return OrderPage(tuple(orders), position)

    async def _lookup(self, creds: Credentials, order_id: str, number: int) -> OrderSnapshot | None:
        entry = await self._entry(creds, order_id, number)
        return _snapshot(order_id, entry) if entry is not None else None

    async def _entry(self, creds: Credentials, order_id: str, number: int) -> dict[str, Any] | None:
        _, data = await self._post(creds, ORDERS_ACTION, {"orderId": number}, _Op.lookup)
        entry = _find(data, order_id)
        if entry is None:
            # The docs say the exact-order query ignores every other field, archived ones included; ccxt asks the
            # archive separately for final orders. One more query before "no such order" costs less than a wrong 404.
            since = int(time.time() * 1000) - ARCHIVE_LOOKBACK_MS
            archived = {"orderId": number, "archived": True, "serverCreateTimestampFrom": since}
            _, data = await self._post(creds, ORDERS_ACTION, archived, _Op.lookup)
            entry = _find(data, order_id)
        return entry

    async def _post(self, creds: Credentials, action: str, params: dict[str, Any], op: _Op) -> tuple[int, Any]:
        body = encode_body(params)
        headers = signed_headers(creds.api_key, creds.secret, action, body)
        resp = await self.transport.send("POST", f"{self.base_url}/{action}", headers=headers, body=body)
        try:
            payload: Any = json.loads(resp.body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise _failure(op, resp.status, resp.headers, None, creds)
        data = payload.get("data")
        error = payload.get("error")
        if error is None and isinstance(data, dict) and "error" in data:
            error = data["error"]
        if error is not None or payload.get("ok") != "ok":
            raise _failure(op, resp.status, resp.headers, error, creds)
        if not 200 <= resp.status < 300:
            raise _failure(op, resp.status, resp.headers, None, creds)
        return resp.status, data


def _not_cancelable(snapshot: OrderSnapshot, why: str) -> GatewayError:
    return GatewayError(
        ErrorType.orderNotCancelable,
        f"The order cannot be cancelled: {why}; its status is '{snapshot.status.value}'.",
        error_data={"orderStatus": snapshot.status.value, "orderId": snapshot.order_id},
    )


def _find(data: Any, order_id: str) -> dict[str, Any] | None:
    if not isinstance(data, list):
        raise GatewayError(ErrorType.institutionUnavailable, "CEX.IO's orders answer has no list of orders")
    return next((e for e in data if isinstance(e, dict) and str(e.get("orderId")) == order_id), None)


def _pair(symbol_pair: str | None) -> str | None:
    if not symbol_pair:
        return None
    pair = symbol_pair.strip().upper().replace("/", "-").replace("_", "-")
    if len(pair) > 24 or not re.fullmatch(r"[A-Z0-9]+-[A-Z0-9]+", pair):
        raise GatewayError(
            ErrorType.invalidField,
            "symbolPair must name a CEX.IO pair such as BTC-USD (BTC/USD is accepted)",
            error_data={"fields": {"symbolPair": "a CEX.IO pair such as BTC-USD"}},
        )
    return pair


def _has(text: str, needles: tuple[str, ...]) -> bool:
    lowered = text.lower()
    return any(n in lowered for n in needles)


def _failure(op: _Op, status: int, headers: Any, error: Any, creds: Credentials) -> GatewayError:
    # An error may be a string or an object ({"code", "reason"}); either way only its text is read.
    text = error if isinstance(error, str) else (json.dumps(error) if error is not None else "")
    shown = _scrub(text, creds)
    summary = f"{VENUE} answered HTTP {status}" + (f": {shown}" if shown else " without a CEX.IO answer")
    if status == 429 or _has(text, RATE_LIMIT_TEXTS):
        header = str(headers.get("Retry-After", "")).strip()
        retry = int(header) if header.isdigit() else RATE_LIMIT_WINDOW_S
        return GatewayError(ErrorType.rateLimited, summary, retry_after=max(1, retry), upstream_status=status)
    if status >= 500 or _has(text, MAINTENANCE_TEXTS) or not text:
        # An edge page or an outage says nothing about the order; the cancel service looks it up.
        return GatewayError(ErrorType.institutionUnavailable, summary, upstream_status=status)
    if status == 401 or _has(text, AUTH_TEXTS):
        return GatewayError(ErrorType.institutionAuthFailed, summary, upstream_status=status)
    if status == 403 or _has(text, PERMISSION_TEXTS):
        return GatewayError(ErrorType.institutionPermissionDenied, summary, upstream_status=status)
    if status == 422 or op in (_Op.verify, _Op.list):
        return GatewayError(ErrorType.institutionRejected, summary, upstream_status=status)
    # Any other refusal of a cancel or lookup: definite only after a lookup, which the cancel service makes.
    return GatewayError(ErrorType.institutionUnavailable, summary, upstream_status=status)


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    amount, filled = _number(entry.get("requestedAmountCcy1")), _number(entry.get("executedAmountCcy1"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in OPEN_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    base, quote = entry.get("currency1"), entry.get("currency2")
    base = str(base) if isinstance(base, str) and base else None
    quote = str(quote) if isinstance(quote, str) and quote else None
    side = str(entry.get("side") or "").lower()
    fee, average = _number(entry.get("feeAmount")), _number(entry.get("averagePrice"))
    created, updated = _number(entry.get("serverCreateTimestamp")), _number(entry.get("lastUpdateTimestamp"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=f"{base}-{quote}" if base and quote else None,
        price=_number(entry.get("price")) or average,
        fee=abs(fee) if fee is not None else None,
        value=_number(entry.get("executedAmountCcy2")),
        order_type=ORDER_TYPE_MAP.get(str(entry.get("orderType") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("timeInForce") or "")),
        created_at=int(created // 1000) if created else None,
        updated_at=int((updated or created) // 1000) if (updated or created) else None,
    )
