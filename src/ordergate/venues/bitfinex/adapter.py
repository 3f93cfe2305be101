"""Bitfinex REST v2: cancel one order, look one order up, list orders (listing.py), verify a key.

Every private call is a signed JSON POST under the key's nonce sequencing (see auth.py). Bitfinex answers business
errors as HTTP 500 with `["error", code, text]`, so a readable error list decides whatever the status; only a 5xx
without one (an HTML page from the edge) is an outage. A cancel is only "submitted for cancellation" (an `oc-req`
notification), so success is `inProgress`. "Order not found." covers executed and cancelled orders too, so the
cancel service looks the order up: active orders first, then the two-week history.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.bitfinex import listing
from ordergate.venues.bitfinex.auth import signed_headers
from ordergate.venues.bitfinex.constants import (
    CANCEL_PATH,
    ERROR_MAP,
    HISTORY_PATH,
    NOT_FOUND_TEXT,
    OBJECT_ERRORS,
    ORDER_ID,
    ORDER_TYPE_MAP,
    ORDERS_PATH,
    PERMISSION_TEXT,
    RATE_LIMIT_S,
    VERIFY_PATH,
    split_symbol,
    status_of,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.nonces import NonceGate
from ordergate.venues.transport import Transport, UpstreamResponse


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


def compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("bitfinex", api_key)


class BitfinexAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, nonces: NonceGate | None = None
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._nonces = nonces if nonces is not None else NonceGate(venue="bitfinex")

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Bitfinex keys carry no per-request second factor; an mfaCode has nothing to be checked against.
        _, answer = await self._post(creds, VERIFY_PATH, b"{}", _Op.verify)
        scopes = (
            {row[0]: row for row in answer if isinstance(row, list) and len(row) >= 3}
            if isinstance(answer, list)
            else {}
        )
        if "orders" not in scopes:
            raise GatewayError(ErrorType.institutionUnavailable, "Bitfinex's permission list has no orders scope")
        if scopes["orders"][2] != 1:
            # Connecting it would hand out a token whose every cancel fails with 403; say so now.
            raise GatewayError(
                ErrorType.institutionPermissionDenied,
                "This Bitfinex API key cannot write orders: enable the Orders write permission.",
            )
        return AccountInfo(account_id=account_fingerprint(creds.api_key), account_name="Bitfinex")

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        order_id = _require_order_id(order.id)
        status, answer = await self._post(creds, CANCEL_PATH, compact({"id": order_id}), _Op.cancel)
        if not _is_notification(answer):
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Bitfinex's cancel answer is not a notification",
                upstream_status=status,
            )
        text = _scrub(str(answer[7]), creds)
        if answer[1] != "oc-req" or answer[6] != "SUCCESS":
            # A notification that is not a success is never one, whatever the HTTP status said.
            if NOT_FOUND_TEXT in text.lower():
                raise UnknownOrderAtVenue(status, text)
            raise GatewayError(
                ErrorType.institutionUnavailable,
                f"Bitfinex answered {answer[1]} {answer[6]}: {text}",
                upstream_status=status,
            )
        data = answer[4]
        if isinstance(data, list) and len(data) == 1 and isinstance(data[0], list):
            data = data[0]
        if not isinstance(data, list) or not data or data[0] != order_id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Bitfinex's cancel notification does not name the order",
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        order_id = _require_order_id(order.id)
        for path in (ORDERS_PATH, HISTORY_PATH):
            status, answer = await self._post(creds, path, compact({"id": [order_id]}), _Op.lookup)
            if not isinstance(answer, list):
                raise GatewayError(
                    ErrorType.institutionUnavailable, "Bitfinex's order list is not a list", upstream_status=status
                )
            # Filtered again here: the list must be about this id, whatever Bitfinex's filter did.
            entry = next((e for e in answer if isinstance(e, list) and len(e) > 17 and e[0] == order_id), None)
            if entry is not None:
                return _snapshot(order.id, entry)
        # The history reaches two weeks back: an order closed before that is gone from Bitfinex's REST API.
        return None

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        async def call(path: str, body: dict[str, Any]) -> Any:
            return (await self._post(creds, path, compact(body), _Op.listing))[1]

        return await listing.list_orders(call, _snapshot, query)

    async def _post(self, creds: Credentials, path: str, body: bytes, op: _Op) -> tuple[int, Any]:
        shared = getattr(self.coordination, "key_sequencer", None)
        gate = shared if shared is not None else self._nonces  # across workers when Redis is configured
        async with gate.hold(creds.api_key) as next_nonce:
            headers = signed_headers(creds.api_key, creds.secret, path, next_nonce(), body)
            resp = await self.transport.send("POST", self.base_url + path, headers=headers, body=body)
        try:
            answer = json.loads(resp.body)
        except ValueError:
            answer = _UNREADABLE
        if isinstance(answer, list) and answer[:1] == ["error"]:
            raise _venue_failure(op, resp.status, answer, creds)
        if isinstance(answer, dict) or resp.status >= 400 or answer is _UNREADABLE:
            raise _http_failure(resp, answer, creds)
        return resp.status, answer


_UNREADABLE = object()


def _require_order_id(order_id: str) -> int:
    if not ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            "A Bitfinex order id is its numeric order ID, such as 139658969116",
            error_data={"fields": {"id": "a Bitfinex order ID (digits, at most 18)"}},
        )
    return int(order_id)


def _is_notification(answer: Any) -> bool:
    return isinstance(answer, list) and len(answer) >= 8 and all(isinstance(answer[i], str) for i in (1, 6))


def _venue_failure(op: _Op, status: int, answer: list[Any], creds: Credentials) -> Exception:
    code = answer[1] if len(answer) > 1 and type(answer[1]) is int else None
    text = _scrub(str(answer[2]) if len(answer) > 2 else "", creds)
    message = f"Bitfinex answered {code}: {text}"
    lowered = text.lower()
    if code == 10001 and NOT_FOUND_TEXT in lowered:
        if op is _Op.cancel:
            return UnknownOrderAtVenue(status, text)
        return GatewayError(ErrorType.institutionRejected, message, upstream_status=status)
    kind = ERROR_MAP.get(code, ErrorType.institutionUnavailable) if code is not None else None
    if kind is None:
        kind = ErrorType.institutionUnavailable
    if code in (10001, 10100) and PERMISSION_TEXT in lowered:
        kind = ErrorType.institutionPermissionDenied
    if code == 10114:
        message += " (this key has been used elsewhere with larger nonces; give ordergate a key of its own)"
    retry = RATE_LIMIT_S if kind is ErrorType.rateLimited else None
    return GatewayError(kind, message, retry_after=retry, upstream_status=status)


def _http_failure(resp: UpstreamResponse, answer: Any, creds: Credentials) -> GatewayError:
    status = resp.status
    if isinstance(answer, dict):
        label = str(answer.get("error") or answer.get("message") or "")
        kind = OBJECT_ERRORS.get(label)
        if kind is not None or status < 400:
            kind = kind or ErrorType.institutionUnavailable
            retry = RATE_LIMIT_S if kind is ErrorType.rateLimited else None
            text = _scrub(label, creds)
            return GatewayError(kind, f"Bitfinex answered {text}", retry_after=retry, upstream_status=status)
    if status == 429:
        return GatewayError(
            ErrorType.rateLimited, "Bitfinex answered HTTP 429", retry_after=RATE_LIMIT_S, upstream_status=status
        )
    # An error page in front of Bitfinex does not prove the engine ignored the request; the cancel service looks
    # the order up after institutionUnavailable, which covers that.
    detail = "" if answer is not _UNREADABLE else " with an unreadable body"
    return GatewayError(
        ErrorType.institutionUnavailable, f"Bitfinex answered HTTP {status}{detail}", upstream_status=status
    )


def _snapshot(order_id: str, entry: list[Any]) -> OrderSnapshot:
    venue_status = str(entry[13] or "")
    remaining, original = _number(entry[6]), _number(entry[7])
    amount = abs(original) if original is not None else None
    filled = max(amount - abs(remaining), 0.0) if amount is not None and remaining is not None else None
    symbol = str(entry[3] or "")
    base, quote = split_symbol(symbol)
    kind = str(entry[8] or "").upper().removeprefix("EXCHANGE ").strip()
    order_type, tif = ORDER_TYPE_MAP.get(kind, (None, None))
    average = _number(entry[17]) or None
    created, updated = _number(entry[4]), _number(entry[5])
    return OrderSnapshot(
        order_id,
        status_of(venue_status),
        venue_status,
        amount,
        filled,
        side=(OrderSide.buy if original > 0 else OrderSide.sell) if original else None,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=symbol or None,
        price=_number(entry[16]) or average,
        value=filled * average if filled and average else (0.0 if filled == 0 else None),
        order_type=order_type,
        time_in_force=tif,
        created_at=int(created // 1000) if created else None,
        updated_at=int(updated // 1000) if updated else None,
    )
