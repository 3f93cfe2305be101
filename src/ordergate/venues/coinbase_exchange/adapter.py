"""Coinbase Exchange REST: cancel one order, look one order up, verify a key.

Every private call is signed over the exact request target that is sent (path plus `?product_id=` when the client
names the pair) and an empty body. Coinbase answers 4xx with `{"message": …}`; the message decides, and the HTTP
status only when the message is one we do not know.

Purged orders. Coinbase deletes the record of an order that is cancelled without any fill: afterwards both
`DELETE` and `GET /orders/{id}` answer 404 `NotFound`, exactly as for an id that never existed. A `NotFound` lookup
therefore proves only that the order is not open there, never that it did not exist, so `get_order` does not answer
"no such order" (None) for it but raises 404 `orderNotFound` with that explanation:
- a cancel answered `NotFound` (a repeated cancel, or an id never placed) ends in that 404: true as stated;
- after a lost or failed cancel answer the service cannot rule "ok" in or out and answers 504 `cancelOutcomeUnknown`
  instead of a 404 (which would deny an order our own cancel may just have removed) or a 502 ("did not take effect").
Only `Invalid order id` (an id that cannot name any order) is a definite "no such order". Orders with fills keep
their record, so they get the usual 409 / 200 answers.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderPage, OrderQuery
from ordergate.venues.coinbase_exchange import auth
from ordergate.venues.coinbase_exchange.constants import (
    BROAD_ERRORS,
    DONE_FILTER,
    DONE_REASONS,
    ERROR_MAP,
    LIVE_STATUSES,
    OPEN_FILTER,
    ORDER_TYPE_MAP,
    ORDERS_PATH,
    RATE_LIMIT_RETRY_AFTER_S,
    STATUS_FALLBACK,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub

# The id goes into the URL path: only characters that cannot change which resource is addressed. Coinbase ids are
# UUIDs; anything else of this shape gets Coinbase's own "Invalid order id" / "NotFound" answer.
_ORDER_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_PAIR = re.compile(r"^([A-Za-z0-9]{1,16})[-/_]([A-Za-z0-9]{1,16})$")
VENUE = "Coinbase Exchange"


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"


def product_id(symbol_pair: str) -> str:
    """`BTC-USD`, `btc/usd`, `BTC_USD` → `BTC-USD` (Coinbase's product id); anything else is refused."""
    match = _PAIR.match(symbol_pair.strip())
    if match is None:
        raise GatewayError(
            ErrorType.invalidField,
            "symbolPair for Coinbase Exchange is a product id such as BTC-USD",
            error_data={"fields": {"symbolPair": "a Coinbase product id such as BTC-USD"}},
        )
    return f"{match.group(1).upper()}-{match.group(2).upper()}"


def cancel_target(order: OrderRef) -> str:
    """The request target of the cancel, exactly as sent and signed."""
    target = f"{ORDERS_PATH}/{_order_id(order.id)}"
    return f"{target}?product_id={product_id(order.symbol_pair)}" if order.symbol_pair else target


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("coinbase-exchange", api_key)


class CoinbaseExchangeAdapter(Adapter):
    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Coinbase Exchange keys have no one-time codes; an mfaCode sent anyway has nothing to do here.
        if not creds.passphrase:
            raise GatewayError(
                ErrorType.missingField,
                "Coinbase Exchange API keys have a passphrase: send it as authToken.",
                error_data={"fields": {"authToken": "the API key's passphrase"}},
            )
        _, accounts = await self._call(creds, "GET", VERIFY_PATH, _Op.verify)
        entries = accounts if isinstance(accounts, list) else []
        profile = next((a["profile_id"] for a in entries if isinstance(a, dict) and a.get("profile_id")), None)
        account_id = str(profile) if profile else account_fingerprint(creds.api_key)
        return AccountInfo(account_id=account_id, account_name=VENUE)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        status, answer = await self._call(creds, "DELETE", cancel_target(order), _Op.cancel)
        # Success is the cancelled order's id as a JSON string ("A successfully cancelled order response
        # includes the order ID"); anything else in a 200 is not a confirmation.
        if not isinstance(answer, str) or answer != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Coinbase Exchange's cancel answer does not name the order",
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.cancelled, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        try:
            status, entry = await self._call(creds, "GET", f"{ORDERS_PATH}/{_order_id(order.id)}", _Op.lookup)
        except UnknownOrderAtVenue as exc:
            if exc.venue_message == "Invalid order id":
                return None  # a malformed id names no order at all
            raise _not_shown(order.id, exc.upstream_status) from None
        if not isinstance(entry, dict) or entry.get("id") != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Coinbase Exchange's order answer is not this order",
                upstream_status=status,
            )
        return _snapshot(entry)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """`GET /orders`, newest first, one Coinbase page per call (the next one is `after=<CB-AFTER>`). Orders
        cancelled without any fill are purged by Coinbase Exchange and so are never listed, cancelled or not."""
        params: list[tuple[str, str]] = [("limit", str(query.count))]
        params += [("status", status) for status in _status_filter(query)]
        if query.since is not None:
            params.append(("start_date", datetime.fromtimestamp(query.since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
        if query.cursor and query.cursor.get("after"):
            params.append(("after", str(query.cursor["after"])))
        # ':' stays unescaped: the HTTP client would unescape it anyway, and the signature covers the target as sent.
        target = ORDERS_PATH + "?" + urlencode(params, safe=":")
        status, entries, headers = await self._call_with_headers(creds, "GET", target, _Op.lookup)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise GatewayError(
                ErrorType.institutionUnavailable, f"{VENUE}'s order list is not a list", upstream_status=status
            )
        kept = tuple(o for o in (_snapshot(e) for e in entries) if _wanted(o, query))
        after = {str(k).lower(): str(v) for k, v in headers.items()}.get("cb-after", "")
        # No has-more flag: a full page may have a successor, a short one is the last.
        more = len(entries) >= query.count and after != ""
        return OrderPage(kept, {"after": after} if more else None)

    async def _call(self, creds: Credentials, method: str, target: str, op: _Op) -> tuple[int, Any]:
        status, payload, _ = await self._call_with_headers(creds, method, target, op)
        return status, payload

    async def _call_with_headers(self, creds: Credentials, method: str, target: str, op: _Op) -> tuple[int, Any, Any]:
        if not creds.passphrase:
            raise GatewayError(
                ErrorType.invalidAuthToken,
                "This authToken carries no Coinbase Exchange passphrase; reconnect the account with authToken set.",
            )
        timestamp = str(int(time.time()))
        try:
            signature = auth.sign(timestamp, method, target, b"", creds.secret)
        except ValueError:
            raise GatewayError(
                ErrorType.institutionAuthFailed, "The Coinbase Exchange API secret is not valid base64"
            ) from None
        headers = auth.headers(creds.api_key, creds.passphrase, timestamp, signature)
        resp = await self.transport.send(method, self.base_url + target, headers=headers)
        try:
            payload: Any = json.loads(resp.body)
        except ValueError:
            payload = _UNREADABLE
        if 200 <= resp.status < 300 and payload is not _UNREADABLE:
            return resp.status, payload, resp.headers
        raise _failure(op, resp.status, resp.headers, payload, creds)


_UNREADABLE = object()


def _status_filter(query: OrderQuery) -> tuple[str, ...]:
    if query.statuses is None:
        return ("all",)
    if query.open_only:
        return OPEN_FILTER
    if query.statuses.isdisjoint(OPEN_STATUSES):
        return DONE_FILTER
    return ("all",)


def _wanted(snapshot: OrderSnapshot, query: OrderQuery) -> bool:
    if query.statuses is not None and snapshot.status not in query.statuses:
        return False
    return query.since is None or (snapshot.created_at is not None and snapshot.created_at >= query.since)


def _not_shown(order_id: str, status: int | None) -> GatewayError:
    return GatewayError(
        ErrorType.orderNotFound,
        "Coinbase Exchange has no record of this order for this account, so it is not open there: either it was "
        "never placed with this API key's profile, or it was cancelled without any fill (Coinbase Exchange deletes "
        "the records of those).",
        error_data={"orderId": order_id},
        upstream_status=status,
    )


def _order_id(order_id: str) -> str:
    if not _ORDER_ID.match(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            "A Coinbase Exchange order id is a UUID such as d0c5340b-6d6c-49d9-b567-48c4bfca13d2",
            error_data={"fields": {"id": "a Coinbase Exchange order id (letters, digits and '-')"}},
        )
    return order_id


def _classify(status: int, message: str | None) -> ErrorType | Ambiguous | None:
    if message is not None:
        if message in ERROR_MAP:
            return ERROR_MAP[message]
        lowered = message.lower()
        broad = next((kind for text, kind in BROAD_ERRORS.items() if text in lowered), None)
        if broad is not None:
            return broad
    return STATUS_FALLBACK.get(status)


def _failure(op: _Op, status: int, headers: Any, payload: Any, creds: Credentials) -> Exception:
    message = payload.get("message") if isinstance(payload, dict) else None
    message = message if isinstance(message, str) else None
    # An HTML page or an unreadable 2xx says nothing about the venue's state: only a JSON message is trusted
    # for meanings that need a lookup or blame the key.
    kind = _classify(status, message) if message is not None or status == 429 else None
    text = _scrub(message, creds) if message is not None else ("an unreadable body" if status < 300 else "no message")
    summary = f"{VENUE} answered HTTP {status}: {text}"
    if kind is None or (status >= 500 and kind is not ErrorType.rateLimited):
        return GatewayError(ErrorType.institutionUnavailable, summary, upstream_status=status)
    if kind is Ambiguous.unknownOrder:
        if op is _Op.verify:
            return GatewayError(ErrorType.institutionRejected, summary, upstream_status=status)
        return UnknownOrderAtVenue(status, text)
    assert isinstance(kind, ErrorType)
    retry_after = None
    if kind is ErrorType.rateLimited:
        header = str(headers.get("Retry-After", ""))
        retry_after = int(header) if header.isdigit() else RATE_LIMIT_RETRY_AFTER_S
    return GatewayError(kind, summary, retry_after=retry_after, upstream_status=status)


def _epoch(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(value)).timestamp())
    except ValueError:
        return None


def _status(entry: dict[str, Any], filled: float | None, amount: float | None) -> OrderStatus:
    venue_status = str(entry.get("status", ""))
    if venue_status in LIVE_STATUSES:
        return OrderStatus.partiallyFilled if filled else OrderStatus.inProgress
    if venue_status == "done":
        reason = DONE_REASONS.get(str(entry.get("done_reason", "")))
        if reason is not None:
            return reason
        # A done order with a reason we do not know: fully filled is a success, otherwise it left the book.
        return OrderStatus.success if filled and amount and filled >= amount else OrderStatus.cancelled
    return STATUS_MAP.get(venue_status, OrderStatus.unknown)


def _snapshot(entry: dict[str, Any]) -> OrderSnapshot:
    amount, filled = _number(entry.get("size")), _number(entry.get("filled_size"))
    value = _number(entry.get("executed_value"))
    pair = str(entry.get("product_id") or "")
    base, _, quote = pair.partition("-")
    side = str(entry.get("side") or "")
    order_type = ORDER_TYPE_MAP.get(str(entry.get("type") or ""))
    if order_type == "limit" and entry.get("stop_price"):
        order_type = "stopLimit"
    average = value / filled if value and filled else None
    done_at = _epoch(entry["done_at"]) if entry.get("done_at") else None
    created = _epoch(entry.get("created_at")) if entry.get("created_at") else None
    return OrderSnapshot(
        str(entry.get("id")),
        _status(entry, filled, amount),
        str(entry.get("status", "")) + (f"/{entry['done_reason']}" if entry.get("done_reason") else ""),
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=pair or None,
        price=_number(entry.get("price")) or average,
        fee=_number(entry.get("fill_fees")),
        value=value,
        order_type=order_type,
        time_in_force="postOnly" if entry.get("post_only") else TIME_IN_FORCE_MAP.get(str(entry.get("time_in_force"))),
        created_at=created,
        updated_at=done_at or created,
    )
