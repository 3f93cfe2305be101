"""Gate API v4: cancel one spot order, look one order up, list orders (listing.py), verify a key.

The cancel is one signed `DELETE /api/v4/spot/orders/{id}?currency_pair=…`; Gate needs the pair, so `symbolPair` is
required. Gate cancels synchronously and answers the order itself (`status: cancelled`), so a 200 is `cancelled`.
Failures are 4xx/5xx with `{"label", "message"}`; the label decides, the HTTP status only where there is no label.
"Order not found / closed / cancelled" go through a lookup (`GET` of the same order) before any answer.

The base URL may or may not end in /api/v4 (the catalogue's does; a simulator's or a proxy's may not): the signed
path is always Gate's own /api/v4/..., whatever prefix sits in front of it.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.gate_io import listing
from ordergate.venues.gate_io.auth import now_s, signed_headers
from ordergate.venues.gate_io.constants import (
    ACCOUNTS_PATH,
    API_PREFIX,
    EXPIRED_FINISH,
    HEADER_OUT_TIME,
    HEADER_RESET,
    LABEL_MAP,
    ORDER_ID,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    RETRY_AFTER_CANCEL_S,
    RETRY_AFTER_OTHER_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    TIMESTAMP_WINDOW_S,
    Ambiguous,
    normalize_pair,
)
from ordergate.venues.transport import Transport, UpstreamResponse


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


class _NoSuchOrder(Exception):
    pass


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("gateio", api_key)


class GateIoAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, clock: Callable[[], str] = now_s
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._root = self.base_url.removesuffix(API_PREFIX)
        self._clock = clock

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Gate keys have no per-request second factor: an mfaCode has nothing to be checked against.
        status, body = await self._request(creds, "GET", ACCOUNTS_PATH, "", _Op.verify)
        if not isinstance(body, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "Gate's spot account list is missing", upstream_status=status
            )
        return AccountInfo(account_fingerprint(creds.api_key), "Gate.io")

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        path, query = self._order_target(order)
        status, body = await self._request(creds, "DELETE", path, query, _Op.cancel)
        if not isinstance(body, dict) or str(body.get("id")) != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable, "Gate's cancel answer does not name the order", upstream_status=status
            )
        snapshot = _snapshot(order.id, body)
        if snapshot.status in (OrderStatus.inProgress, OrderStatus.partiallyFilled):
            return CancelAck(order.id, OrderStatus.inProgress, status)
        if snapshot.status is not OrderStatus.cancelled:
            # A fill won the race: the answer is the order, already final for another reason.
            raise GatewayError(
                ErrorType.orderNotCancelable,
                f"The order cannot be cancelled: its status is '{snapshot.status.value}'.",
                error_data={"orderStatus": snapshot.status.value, "orderId": order.id},
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.cancelled, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        path, query = self._order_target(order)
        try:
            status, body = await self._request(creds, "GET", path, query, _Op.lookup)
        except _NoSuchOrder:
            return None
        if not isinstance(body, dict) or str(body.get("id")) != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable, "Gate's order answer does not name the order", upstream_status=status
            )
        return _snapshot(order.id, body)

    def _order_target(self, order: OrderRef) -> tuple[str, str]:
        if not order.symbol_pair:
            # The cancel service checks this first; the details endpoint reaches here without that check.
            raise GatewayError(
                ErrorType.missingField,
                f"symbolPair must be provided for orders at {self.spec.name}.",
                error_data={"fields": {"symbolPair": f"required for {self.spec.type.value}"}},
            )
        pair = normalize_pair(order.symbol_pair)
        if pair is None:
            raise GatewayError(
                ErrorType.invalidField,
                "symbolPair must name a Gate currency pair such as BTC_USDT, BTC/USDT or BTC-USDT",
                error_data={"fields": {"symbolPair": "a base and quote with a separator, e.g. BTC_USDT"}},
            )
        if not ORDER_ID.fullmatch(order.id) or int(order.id) >= 2**63:
            # Checked before a URL is built: nothing but digits ever reaches Gate's path.
            raise GatewayError(
                ErrorType.invalidField,
                "A Gate order id is a number such as 394120203701; this one cannot name a Gate order",
                error_data={"fields": {"id": "a Gate spot order id: digits only"}},
            )
        return ORDER_PATH.format(order_id=order.id), f"currency_pair={pair}"

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        pair = None
        if query.symbol_pair:
            pair = normalize_pair(query.symbol_pair)
            if pair is None:
                raise GatewayError(
                    ErrorType.invalidField,
                    "symbolPair must name a Gate currency pair such as BTC_USDT, BTC/USDT or BTC-USDT",
                    error_data={"fields": {"symbolPair": "a base and quote with a separator, e.g. BTC_USDT"}},
                )

        async def call(path: str, params: str) -> Any:
            return (await self._request(creds, "GET", path, params, _Op.listing))[1]

        return await listing.list_orders(call, _snapshot, query, pair)

    async def _request(self, creds: Credentials, method: str, path: str, query: str, op: _Op) -> tuple[int, Any]:
        signed_path = API_PREFIX + path
        headers = signed_headers(creds.api_key, creds.secret, method, signed_path, query, b"", self._clock())
        headers["Accept"] = "application/json"
        url = self._root + signed_path + (f"?{query}" if query else "")
        resp = await self.transport.send(method, url, headers=headers)
        payload = _json(resp.body)
        label = payload.get("label") if isinstance(payload, dict) else None
        if resp.status < 300 and payload is not None and label is None:
            return resp.status, payload
        message = payload.get("message") or payload.get("detail") if isinstance(payload, dict) else None
        raise self._failure(op, resp, label if isinstance(label, str) else None, message, creds)

    def _failure(
        self, op: _Op, resp: UpstreamResponse, label: str | None, message: Any, creds: Credentials
    ) -> Exception:
        status = resp.status
        text = _scrub(f"{label}: {message or ''}".rstrip(": ") if label else f"HTTP {status}", creds)
        described = f"Gate answered {text}" + ("" if label else " without a Gate error")
        kind = LABEL_MAP.get(label) if label else None
        if kind is None:
            kind = _by_status(status, has_label=label is not None)
        if kind is Ambiguous.unknownOrder:
            if op is _Op.cancel:
                return UnknownOrderAtVenue(status, text)
            if op is _Op.lookup and label in ("ORDER_NOT_FOUND", "CLIENT_ID_NOT_FOUND"):
                return _NoSuchOrder()
            kind = ErrorType.institutionRejected
        if kind is Ambiguous.clockSkew:
            return GatewayError(
                ErrorType.institutionAuthFailed,
                f"{described}: the request Timestamp is more than {TIMESTAMP_WINDOW_S} s from Gate's clock; check "
                "the gateway host's clock (NTP)",
                upstream_status=status,
            )
        if kind is Ambiguous.badPair:
            return GatewayError(
                ErrorType.institutionRejected,
                described,
                error_data={"fields": {"symbolPair": "not a currency pair Gate lists"}},
                upstream_status=status,
            )
        assert isinstance(kind, ErrorType)
        if label == "IP_FORBIDDEN":
            described += " (the key's IP whitelist does not include the gateway's address)"
        retry = self._retry_after(resp, op) if kind is ErrorType.rateLimited else None
        return GatewayError(kind, described, retry_after=retry, upstream_status=status)

    def _retry_after(self, resp: UpstreamResponse, op: _Op) -> int:
        reset = _stamp_s(_header(resp.headers, HEADER_RESET))
        # Measured against Gate's own clock when it sent one, so the gateway host's clock does not matter.
        now = _stamp_s(_header(resp.headers, HEADER_OUT_TIME)) or time.time()
        if reset is not None and reset > now:
            return max(1, math.ceil(reset - now))
        return RETRY_AFTER_CANCEL_S if op is _Op.cancel else RETRY_AFTER_OTHER_S


def _by_status(status: int, *, has_label: bool) -> ErrorType:
    if status == 401:
        return ErrorType.institutionAuthFailed
    if status == 429:
        return ErrorType.rateLimited
    if has_label and status == 403:
        return ErrorType.institutionPermissionDenied
    if has_label and 400 <= status < 500:
        return ErrorType.institutionRejected
    # 5xx, an error page in front of Gate, or an answer that is not Gate's. The cancel service looks the order up.
    return ErrorType.institutionUnavailable


def _stamp_s(value: str | None) -> float | None:
    """A Gate timestamp header in seconds: seconds, milliseconds or microseconds are told apart by size."""
    number = _number(value)
    if not number or number <= 0:
        return None
    while number > 1e11:  # past year 5000 in seconds: milliseconds or microseconds
        number /= 1000
    return number


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((str(v).strip() for k, v in headers.items() if k.lower() == wanted), None)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _seconds(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number and number > 0 else None


def _snapshot(order_id: str, body: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(body.get("status") or "")
    finish_as = str(body.get("finish_as") or "")
    amount, left = _number(body.get("amount")), _number(body.get("left"))
    filled = _number(body.get("filled_amount"))
    if filled is None and amount is not None and left is not None:
        filled = amount - left
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if status is OrderStatus.inProgress and filled:
        status = OrderStatus.partiallyFilled
    elif status is OrderStatus.cancelled and finish_as in EXPIRED_FINISH:
        status = OrderStatus.expired
    kind = str(body.get("type") or "")
    side = {"buy": OrderSide.buy, "sell": OrderSide.sell}.get(str(body.get("side")))
    if kind == "market" and side is OrderSide.buy:
        amount = None  # a market buy's `amount` is in the quote currency
    pair = str(body.get("currency_pair") or "")
    base, _, quote = pair.partition("_")
    created = _seconds(body.get("create_time"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status if not finish_as or venue_status == "open" else f"{venue_status}/{finish_as}",
        amount,
        filled,
        side=side,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=pair or None,
        # Market orders carry price "0"; the average fill price is the better number then.
        price=_number(body.get("price")) or _number(body.get("avg_deal_price")) or None,
        fee=_number(body.get("fee")),
        value=_number(body.get("filled_total")),
        order_type=ORDER_TYPE_MAP.get(kind),
        time_in_force=TIME_IN_FORCE_MAP.get(str(body.get("time_in_force") or "")),
        created_at=created,
        updated_at=_seconds(body.get("update_time")) or created,
    )
