"""CoinList Pro REST: cancel one order, look one order up, verify a key.

The cancel is one signed `DELETE /v1/orders/{id}` with no query and no body. CoinList only receives it ("Cancel
order request received."): the cancel takes effect in the next batch auction and a fill can still win, so an accepted
cancel is `inProgress`. Errors are `{"status", "message", "message_code"}`; the message code decides, then the HTTP
status. ORDER_REJECT_NOT_FOUND and ORDER_REJECT_BAD_STATUS do not tell "never existed" from "already final", so the
cancel service looks the order up; a lookup of an order CoinList does not have answers 404 (often with an empty body).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.coinlist.auth import now_s, signed_headers
from ordergate.venues.coinlist.constants import (
    BROAD_ERRORS,
    ERROR_MAP,
    LIVE_STATUSES,
    ORDER_ID_SHAPE,
    ORDER_TYPE_MAP,
    ORDERS_PATH,
    RATE_LIMIT_RETRY_AFTER_S,
    STATUS_FALLBACK,
    STATUS_MAP,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.coinlist.listing import build_page, page_target
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import Transport, UpstreamResponse

VENUE = "CoinList"
_UNREADABLE = object()


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    list = "list"


def order_target(order_id: str) -> str:
    """The request target for one order, exactly as sent and signed; only a UUID gets into the path."""
    if not ORDER_ID_SHAPE.admits(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A CoinList order id is a UUID such as {ORDER_ID_SHAPE.example}",
            error_data={"fields": {"id": "a CoinList order id (a UUID)"}},
        )
    return f"{ORDERS_PATH}/{order_id}"


class CoinlistAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, clock: Callable[[], int] = now_s
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._clock = clock

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # CoinList keys have no one-time codes; an mfaCode sent anyway has nothing to be checked against.
        status, answer = await self._call(creds, "GET", VERIFY_PATH, _Op.verify)
        accounts = answer.get("accounts") if isinstance(answer, dict) else None
        trader = next((a for a in accounts or () if isinstance(a, dict) and a.get("trader_id")), None)
        if trader is None:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "CoinList listed no trading account for this key",
                upstream_status=status,
            )
        return AccountInfo(account_id=str(trader["trader_id"]), account_name=str(trader.get("name") or VENUE))

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        status, answer = await self._call(creds, "DELETE", order_target(order.id), _Op.cancel)
        if not isinstance(answer, dict) or answer.get("order_id") != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "CoinList's cancel answer does not name the order",
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        try:
            status, entry = await self._call(creds, "GET", order_target(order.id), _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        if not isinstance(entry, dict) or entry.get("order_id") != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable, "CoinList's order answer is not this order", upstream_status=status
            )
        return _snapshot(entry)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        target, asked = page_target(ORDERS_PATH, query, _symbol(query.symbol_pair))
        status, payload = await self._call(creds, "GET", target, _Op.list)
        rows = payload.get("orders") if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "CoinList's order list is missing", upstream_status=status
            )
        return build_page([r for r in rows if isinstance(r, dict)], query, asked, _snapshot)

    async def _call(self, creds: Credentials, method: str, target: str, op: _Op) -> tuple[int, Any]:
        try:
            headers = signed_headers(creds.api_key, creds.secret, str(self._clock()), method, target)
        except ValueError:
            raise GatewayError(ErrorType.institutionAuthFailed, "The CoinList API secret is not valid base64") from None
        resp = await self.transport.send(method, self.base_url + target, headers=headers)
        payload = _json(resp.body)
        has_code = isinstance(payload, dict) and payload.get("message_code") is not None
        if 200 <= resp.status < 300 and payload is not _UNREADABLE and not has_code:
            return resp.status, payload
        raise _failure(op, resp, payload, creds)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return _UNREADABLE


def _classify(status: int, code: str | None, message: str | None) -> ErrorType | Ambiguous | None:
    if code in ERROR_MAP:
        return ERROR_MAP[code]
    lowered = (message or "").lower()
    broad = next((kind for text, kind in BROAD_ERRORS.items() if text in lowered), None)
    return broad if broad is not None else STATUS_FALLBACK.get(status)


def _failure(op: _Op, resp: UpstreamResponse, payload: Any, creds: Credentials) -> Exception:
    status = resp.status
    fields = payload if isinstance(payload, dict) else {}
    code = fields.get("message_code") if isinstance(fields.get("message_code"), str) else None
    message = fields.get("message") if isinstance(fields.get("message"), str) else None
    # A lookup's 404 with an empty body is CoinList's "no such order" (ccxt handle_errors); any other unreadable
    # body (an HTML error page) says nothing about the venue's state, and neither does a 5xx.
    empty_404 = status == 404 and op is _Op.lookup and not resp.body.strip()
    readable = payload is not _UNREADABLE and isinstance(payload, dict)
    kind = _classify(status, code, message) if (readable and status < 500) or status == 429 or empty_404 else None
    text = _scrub(" ".join(t for t in (code, message) if t) or ("an empty body" if empty_404 else "no message"), creds)
    summary = f"{VENUE} answered HTTP {status}: {text}"
    if kind is None:
        return GatewayError(ErrorType.institutionUnavailable, summary, upstream_status=status)
    if kind is Ambiguous.unknownOrder:
        if op in (_Op.verify, _Op.list):
            return GatewayError(ErrorType.institutionRejected, summary, upstream_status=status)
        return UnknownOrderAtVenue(status, text)
    retry_after = None
    if kind is ErrorType.rateLimited:
        header = _header(resp.headers, "Retry-After") or ""
        retry_after = int(header) if header.isdigit() else RATE_LIMIT_RETRY_AFTER_S
    return GatewayError(kind, summary, retry_after=retry_after, upstream_status=status)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((str(v).strip() for k, v in headers.items() if k.lower() == wanted), None)


def _symbol(pair: str | None) -> str | None:
    if not pair:
        return None
    symbol = pair.strip().upper().replace("/", "-").replace("_", "-")
    if len(symbol) > 32 or not re.fullmatch(r"[A-Z0-9]+-[A-Z0-9]+", symbol):
        raise GatewayError(
            ErrorType.invalidField,
            "symbolPair must name a CoinList symbol such as BTC-USDT (BTC/USDT is accepted)",
            error_data={"fields": {"symbolPair": "a CoinList symbol such as BTC-USDT"}},
        )
    return symbol


def _epoch(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _snapshot(entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    amount, filled = _number(entry.get("size")), _number(entry.get("size_filled"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    pair = str(entry.get("symbol") or "")
    base, _, quote = pair.partition("-")
    side = str(entry.get("side") or "")
    average = _number(entry.get("average_fill_price"))
    created = _epoch(entry.get("created_at") or entry.get("epoch_timestamp") or "")
    return OrderSnapshot(
        str(entry.get("order_id")),
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=pair or None,
        price=_number(entry.get("price")) or average,
        fee=_number(entry.get("fill_fees")),
        value=average * filled if average and filled else None,
        order_type=ORDER_TYPE_MAP.get(str(entry.get("type") or "")),
        time_in_force="postOnly" if entry.get("post_only") is True else "goodTillCanceled",
        created_at=created,
        updated_at=_epoch(entry.get("epoch_timestamp") or "") or created,
    )
