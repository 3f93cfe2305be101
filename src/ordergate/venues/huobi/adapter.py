"""HTX (Huobi) spot: cancel one order, look one order up, list orders (listing.py), verify a key.

HTX answers HTTP 200 with `{"status": "error", "err-code": ...}` for business errors, so only `status: ok` with
data is success; the HTTP status matters only when the body is not one of HTX's. `submitcancel` only submits the
cancel ("the actual result ... needs to be checked by order status"), so an accepted cancel is `inProgress`.

`order-orderstate-error` names the order's state. Final states (filled, cancelled, partly cancelled) go through
the cancel service's lookup, which also knows whether our own earlier cancel in this request did it. `-1` means
"closed long ago"; HTX keeps filled orders queryable but forgets orders cancelled more than 2 hours ago, so when
the lookup no longer finds one it was cancelled, not never placed: that is answered here as 409, never as 404.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.huobi import auth, listing
from ordergate.venues.huobi.constants import (
    CANCEL_PATH,
    ERROR_MAP,
    HEADER_EXPIRE,
    LIVE_STATES,
    ORDER_ID_SHAPE,
    ORDER_PATH,
    ORDER_STATE_CANCELLING,
    ORDER_STATE_CLOSED_LONG_AGO,
    ORDER_TYPE_MAP,
    PERMISSION_MARKERS,
    RATE_LIMIT_MESSAGES,
    RATE_LIMIT_WINDOW_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.transport import OutcomeUnknown, Transport, UpstreamResponse

VENUE = "HTX"
_ORDER_ID = re.compile(ORDER_ID_SHAPE[0])
_QUOTES = ("usdt", "usdc", "usdd", "husd", "btc", "eth", "ht", "trx", "eur", "try", "brl")


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


class _OrderState(Exception):
    def __init__(self, state: int | None, upstream_status: int, text: str) -> None:
        super().__init__(text)
        self.state, self.upstream_status, self.text = state, upstream_status, text


class HuobiAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(spec, base_url, transport)
        parts = urlsplit(self.base_url)
        # Signed as called: the host with a non-default port, and the full path under any prefix of the base URL.
        self._host = auth.signed_host(parts)
        self._prefix = parts.path.rstrip("/")
        self._clock = clock

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # HTX keys have no per-request second factor.
        _, data = await self._call(creds, "GET", VERIFY_PATH, _Op.verify)
        accounts = [a for a in data if isinstance(a, dict)] if isinstance(data, list) else []
        spot = next((a for a in accounts if a.get("type") == "spot"), accounts[0] if accounts else None)
        account_id = spot.get("id") if spot else None
        if not isinstance(account_id, int | str) or isinstance(account_id, bool) or not str(account_id).isdigit():
            raise GatewayError(ErrorType.institutionUnavailable, "HTX listed no account for this key")
        # The spot account id is what openOrders asks for: kept so that listing needs no extra request.
        return AccountInfo(account_id=f"huobi-{account_id}", account_name="HTX", extras={"accountId": str(account_id)})

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        order_id = _order_id(order.id)
        try:
            status, data = await self._call(creds, "POST", CANCEL_PATH.format(order_id=order_id), _Op.cancel)
        except _OrderState as refused:
            return await self._after_order_state(creds, order, refused)
        if str(data) != order_id:
            raise GatewayError(
                ErrorType.institutionUnavailable, "HTX's cancel answer does not name the order", upstream_status=status
            )
        return CancelAck(order_id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        order_id = _order_id(order.id)
        try:
            status, data = await self._call(creds, "GET", ORDER_PATH.format(order_id=order_id), _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        if not isinstance(data, dict) or str(data.get("id")) != order_id:
            raise GatewayError(
                ErrorType.institutionUnavailable, "HTX's order answer is not this order", upstream_status=status
            )
        return _snapshot(order_id, data)

    async def _after_order_state(self, creds: Credentials, order: OrderRef, refused: _OrderState) -> CancelAck:
        if refused.state == ORDER_STATE_CANCELLING:
            # A cancel of this order is already being processed: ours is redundant, the order is on its way out.
            return CancelAck(order.id, OrderStatus.inProgress, refused.upstream_status)
        if refused.state != ORDER_STATE_CLOSED_LONG_AGO:
            raise UnknownOrderAtVenue(refused.upstream_status, refused.text)
        snapshot = await self.get_order(creds, order)
        if snapshot is not None and snapshot.status in (OrderStatus.inProgress, OrderStatus.partiallyFilled):
            raise UnknownOrderAtVenue(refused.upstream_status, refused.text)  # let the service retry once
        final = snapshot.status if snapshot is not None else OrderStatus.cancelled
        why = "" if snapshot is not None else " (HTX forgets orders cancelled more than 2 hours ago)"
        raise GatewayError(
            ErrorType.orderNotCancelable,
            f"The order cannot be cancelled: HTX closed it long ago; its status is '{final.value}'{why}.",
            error_data={"orderStatus": final.value, "orderId": order.id},
            upstream_status=refused.upstream_status,
        )

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        async def call(path: str, params: dict[str, Any]) -> dict[str, Any]:
            return await self._call_full(creds, "GET", path, _Op.listing, [(k, str(v)) for k, v in params.items()])

        async def account_id() -> str:
            known = creds.extras.get("accountId")
            if isinstance(known, str) and known.isdigit():
                return known
            # Tokens sealed before the account id was kept: one more request to learn it.
            return (await self.verify_credentials(creds, None)).extras["accountId"]  # type: ignore[return-value]

        return await listing.list_orders(call, account_id, _snapshot, query, self._clock)

    async def _call(self, creds: Credentials, method: str, path: str, op: _Op) -> tuple[int, Any]:
        payload = await self._call_full(creds, method, path, op)
        return payload["status_code"], payload["data"]

    async def _call_full(
        self, creds: Credentials, method: str, path: str, op: _Op, params: list[tuple[str, str]] | None = None
    ) -> dict[str, Any]:
        full_path = self._prefix + path
        stamp = auth.timestamp(self._clock())
        query = auth.signed_query(creds.api_key, creds.secret, method, self._host, full_path, stamp, params or ())
        headers = {"Accept": "application/json"}
        body = None
        if method == "POST":
            headers["Content-Type"] = "application/json"  # FAQ Q8: POST bodies must be JSON
            body = b"{}"
        resp = await self.transport.send(method, f"{self.base_url}{path}?{query}", headers=headers, body=body)
        payload = _json_object(resp.body)
        if payload is not None and payload.get("status") == "error":
            raise self._venue_failure(op, resp, payload, creds)
        if resp.status >= 400 or payload is None:
            raise _http_failure(resp, self._clock)
        if payload.get("status") != "ok" or "data" not in payload:
            raise GatewayError(
                ErrorType.institutionUnavailable, "HTX's answer has no status ok and data", upstream_status=resp.status
            )
        return {**payload, "status_code": resp.status}

    def _venue_failure(self, op: _Op, resp: UpstreamResponse, payload: dict[str, Any], creds: Credentials) -> Exception:
        code = str(payload.get("err-code") or payload.get("err_code") or "")
        msg = str(payload.get("err-msg") or payload.get("err_msg") or "")
        text = _scrub(f"{code}: {msg}", creds)
        message = f"{VENUE} answered {text}"
        kind = ERROR_MAP.get(code)
        if msg.strip().lower() in RATE_LIMIT_MESSAGES:
            kind = ErrorType.rateLimited
        if kind is ErrorType.institutionAuthFailed and any(m in msg.lower() for m in PERMISSION_MARKERS):
            kind = ErrorType.institutionPermissionDenied
        if kind is None:
            return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
        if kind is Ambiguous.orderState:
            if op is _Op.cancel:
                state = payload.get("order-state")
                return _OrderState(state if type(state) is int else None, resp.status, text)
            kind = Ambiguous.unknownOrder
        if kind is Ambiguous.unknownOrder:
            if op in (_Op.verify, _Op.listing):
                return GatewayError(ErrorType.institutionRejected, message, upstream_status=resp.status)
            return UnknownOrderAtVenue(resp.status, text)
        if kind is Ambiguous.outcomeUnknown:
            if op is _Op.cancel:
                return OutcomeUnknown(text)
            return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
        if kind is ErrorType.institutionAuthFailed and "time" in msg.lower():
            message += " (the gateway's clock is off by more than HTX accepts)"
        retry = _retry_after(resp.headers, self._clock) if kind is ErrorType.rateLimited else None
        return GatewayError(kind, message, retry_after=retry, upstream_status=resp.status)


def _http_failure(resp: UpstreamResponse, clock: Callable[[], float]) -> GatewayError:
    if resp.status == 429:
        return GatewayError(
            ErrorType.rateLimited, f"{VENUE} answered HTTP 429", retry_after=_retry_after(resp.headers, clock),
            upstream_status=429,
        )  # fmt: skip
    # An error page in front of HTX does not prove the engine ignored the request; the cancel service looks the
    # order up after institutionUnavailable.
    detail = "" if _json_object(resp.body) is not None else " with an unreadable body"
    return GatewayError(
        ErrorType.institutionUnavailable, f"{VENUE} answered HTTP {resp.status}{detail}", upstream_status=resp.status
    )


def _retry_after(headers: Mapping[str, str], clock: Callable[[], float]) -> int:
    retry = _header(headers, "Retry-After")
    if retry and retry.isdigit():
        return max(1, int(retry))
    expire = _header(headers, HEADER_EXPIRE)
    if expire and expire.isdigit():
        value = int(expire)
        # Documented only as "the expire time for current rate limit time window": an epoch-ms stamp, or (as some
        # clients read it) milliseconds left.
        wait_ms = value - clock() * 1000 if value > 10**12 else value
        if wait_ms > 0:
            return max(1, math.ceil(wait_ms / 1000))
    return RATE_LIMIT_WINDOW_S


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((str(v).strip() for k, v in headers.items() if k.lower() == wanted), None)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _order_id(order_id: str) -> str:
    if not _ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"An HTX order id is a decimal number such as {ORDER_ID_SHAPE[1]}",
            error_data={"fields": {"id": "an HTX order id (digits, at most 19)"}},
        )
    return order_id


def _split_symbol(symbol: str) -> tuple[str | None, str | None]:
    quote = next((q for q in _QUOTES if symbol.endswith(q) and len(symbol) > len(q)), None)
    if quote is None:
        return None, None
    return symbol[: -len(quote)].upper(), quote.upper()


def _seconds(ms: Any) -> int | None:
    value = _number(ms)
    return int(value // 1000) if value else None


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    state = str(entry.get("state") or "")
    amount = _number(entry.get("amount"))
    filled = _number(entry.get("filled-amount", entry.get("field-amount")))
    value = _number(entry.get("filled-cash-amount", entry.get("field-cash-amount")))
    fee = _number(entry.get("filled-fees", entry.get("field-fees")))
    status = STATUS_MAP.get(state, OrderStatus.unknown)
    if state in LIVE_STATES and state != "canceling" and filled:
        status = OrderStatus.partiallyFilled
    side, _, kind = str(entry.get("type") or "").partition("-")
    symbol = str(entry.get("symbol") or "")
    base, quote = _split_symbol(symbol)
    average = value / filled if value and filled else None
    created = _seconds(entry.get("created-at"))
    finished = _seconds(entry.get("finished-at")) or _seconds(entry.get("canceled-at"))
    return OrderSnapshot(
        order_id,
        status,
        state,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=symbol or None,
        price=_number(entry.get("price")) or average,
        fee=fee,
        value=value,
        order_type=ORDER_TYPE_MAP.get(kind),
        time_in_force=TIME_IN_FORCE_MAP.get(kind),
        created_at=created,
        updated_at=finished or created,
    )
