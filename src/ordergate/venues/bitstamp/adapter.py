"""Bitstamp HTTP API v2: cancel one order, look one order up, list open orders (listing.py), verify a key.

Every private call is a signed POST with a form body (`id=<order id>`); the verify call has an empty body and so no
Content-Type at all (Bitstamp refuses one on an empty body, API0020). Errors are `{"status": "error", …}` or
`{"error": …}` whatever the HTTP status, so a body with either is never read as success. Bitstamp signs its answers
(X-Server-Auth-Signature over nonce + timestamp + Content-Type + body): an answer whose signature does not match is
not a confirmation. Answers without the header are accepted, as the documented check is an example, not a rule.

"Order not found" on a cancel also covers filled and cancelled orders ("Please check order status"), so the cancel
service looks the order up with order_status. That lookup shows closed orders for 30 days only: an order closed
earlier is "not found" there too, which is the venue's own answer.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import urlencode, urlsplit

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.bitstamp import listing
from ordergate.venues.bitstamp.auth import answer_signature, new_nonce, now_ms, signed_headers
from ordergate.venues.bitstamp.constants import (
    AUTH_CODES,
    CANCEL_PATH,
    HEADER_SERVER_SIGNATURE,
    LIVE_STATUSES,
    ORDER_ID_SHAPE,
    ORDER_STATUS_PATH,
    RATE_LIMIT_RETRY_AFTER_S,
    REASONS,
    RESPONSE_CLASSES,
    RESPONSE_CODES,
    SIDES,
    STATUS_MAP,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import OutcomeUnknown, Transport, UpstreamResponse

_ORDER_ID = re.compile(ORDER_ID_SHAPE[0])
_HTTP_FALLBACK: dict[int, ErrorType] = {
    400: ErrorType.institutionRejected,
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    404: ErrorType.institutionRejected,
    429: ErrorType.rateLimited,
}
VENUE = "Bitstamp"


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


def order_body(order_id: str) -> bytes:
    """The form both cancel_order and order_status take: `id=<digits>` (nothing in it needs escaping)."""
    return urlencode({"id": _order_id(order_id)}).encode()


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("bitstamp", api_key)


class BitstampAdapter(Adapter):
    def __init__(
        self,
        spec: VenueSpec,
        base_url: str,
        transport: Transport,
        *,
        clock: Callable[[], str] = now_ms,
        nonces: Callable[[], str] = new_nonce,
    ) -> None:
        super().__init__(spec, base_url, transport)
        # Bitstamp signs the host the request is addressed to, and only the API path (a mount prefix in front of a
        # compatible server is not part of what Bitstamp would see).
        self._host = urlsplit(self.base_url).netloc
        self._clock = clock
        self._nonces = nonces

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Bitstamp keys have no one-time codes. Bitstamp keys carry no account id a read could return cheaply, so
        # the account is named by a fingerprint of the key.
        await self._call(creds, VERIFY_PATH, b"", _Op.verify)
        return AccountInfo(account_id=account_fingerprint(creds.api_key), account_name=VENUE)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        status, answer = await self._call(creds, CANCEL_PATH, order_body(order.id), _Op.cancel)
        # Success is the cancelled order ({id, amount, price, type, market}); anything else is no confirmation.
        if not isinstance(answer, dict) or str(answer.get("id")) != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Bitstamp's cancel answer does not name the order",
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.cancelled, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        try:
            status, entry = await self._call(creds, ORDER_STATUS_PATH, order_body(order.id), _Op.lookup)
        except UnknownOrderAtVenue:
            return None  # "Order with that id was not found in our system" (closed orders: last 30 days)
        if not isinstance(entry, dict) or str(entry.get("id")) != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable, "Bitstamp's order status is not this order", upstream_status=status
            )
        return _snapshot(order.id, entry)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        async def call(path: str) -> Any:
            return (await self._call(creds, path, b"", _Op.listing))[1]

        return await listing.list_orders(call, query)

    async def _call(self, creds: Credentials, path: str, body: bytes, op: _Op) -> tuple[int, Any]:
        nonce, stamp = self._nonces(), self._clock()
        headers = signed_headers(creds.api_key, creds.secret, "POST", self._host, path, body, nonce=nonce, stamp=stamp)
        resp = await self.transport.send("POST", self.base_url + path, headers=headers, body=body or None)
        payload = _json(resp.body)
        if _is_error(payload):
            if op is _Op.verify and payload.get("code") == "API0003":
                # Authenticated, only this endpoint is not among the key's permissions: key and secret are right.
                return resp.status, None
            raise _failure(op, resp, payload, creds)
        if resp.status >= 400 or payload is _UNREADABLE:
            raise _http_failure(resp)
        signature = _header(resp.headers, HEADER_SERVER_SIGNATURE)
        if signature is not None:
            content_type = _header(resp.headers, "Content-Type") or ""
            expected = answer_signature(creds.secret, nonce, stamp, content_type, resp.body)
            if not hmac.compare_digest(expected, signature.lower()):
                raise GatewayError(
                    ErrorType.institutionUnavailable,
                    "Bitstamp's answer is not signed for this request (X-Server-Auth-Signature does not match)",
                    upstream_status=resp.status,
                )
        return resp.status, payload


_UNREADABLE: Any = object()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return _UNREADABLE


def _is_error(payload: Any) -> bool:
    return isinstance(payload, dict) and (payload.get("status") == "error" or bool(payload.get("error")))


def _texts(payload: dict[str, Any]) -> list[str]:
    """Every message in `reason` / `error`: a string, `{"__all__": [...]}` or per-field lists."""
    found: list[str] = []
    for value in (payload.get("reason"), payload.get("error")):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                found.extend(str(x) for x in (item if isinstance(item, list) else [item]))
    return found


def _classify(status: int, payload: dict[str, Any], texts: list[str]) -> ErrorType | Ambiguous:
    code, response_code = str(payload.get("code") or ""), str(payload.get("response_code") or "")
    if code in AUTH_CODES:
        return AUTH_CODES[code]
    if response_code in RESPONSE_CODES:
        return RESPONSE_CODES[response_code]
    known = next((REASONS[t] for t in texts if t in REASONS), None)
    if known is not None:
        return known
    by_class = RESPONSE_CLASSES.get(response_code.partition(".")[0])
    if by_class is not None:
        return by_class
    return _HTTP_FALLBACK.get(status, ErrorType.institutionUnavailable)


def _failure(op: _Op, resp: UpstreamResponse, payload: dict[str, Any], creds: Credentials) -> Exception:
    texts = _texts(payload)
    code = payload.get("code") or payload.get("response_code")
    text = _scrub(f"{code}: {'; '.join(texts)}" if code else "; ".join(texts) or "an error", creds)
    message = f"Bitstamp answered {text}"
    kind = _classify(resp.status, payload, texts)
    if kind is Ambiguous.unknownOrder:
        if op in (_Op.verify, _Op.listing):
            return GatewayError(ErrorType.institutionRejected, message, upstream_status=resp.status)
        return UnknownOrderAtVenue(resp.status, text)
    if kind is Ambiguous.outcomeUnknown:
        if op is _Op.cancel:
            return OutcomeUnknown(text)
        return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
    if payload.get("code") == "API0017":
        message += " (the gateway's clock is off by more than 150 s)"
    retry = _retry_after(resp.headers) if kind is ErrorType.rateLimited else None
    return GatewayError(kind, message, retry_after=retry, upstream_status=resp.status)


def _http_failure(resp: UpstreamResponse) -> GatewayError:
    if resp.status == 429:
        return GatewayError(
            ErrorType.rateLimited,
            "Bitstamp answered HTTP 429",
            retry_after=_retry_after(resp.headers),
            upstream_status=429,
        )
    # An error page (or an unreadable 2xx) says nothing about what the engine did; the cancel service looks the
    # order up after institutionUnavailable.
    detail = "" if resp.status < 400 else f" HTTP {resp.status}"
    return GatewayError(
        ErrorType.institutionUnavailable,
        f"Bitstamp answered{detail} with an unreadable body",
        upstream_status=resp.status,
    )


def _retry_after(headers: Mapping[str, str]) -> int:
    header = _header(headers, "Retry-After")
    return int(header) if header and header.isdigit() and int(header) > 0 else RATE_LIMIT_RETRY_AFTER_S


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((str(v).strip() for k, v in headers.items() if k.lower() == wanted), None)


def _order_id(order_id: str) -> str:
    if not _ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A Bitstamp order id is a positive integer such as {ORDER_ID_SHAPE[1]}",
            error_data={"fields": {"id": "a Bitstamp order id (digits, at most 19)"}},
        )
    return order_id


def _epoch(value: Any) -> int | None:
    """Bitstamp's `datetime` ("2022-01-31 14:43:15" or with fractions / ISO 8601), in UTC."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    pair = str(entry.get("market") or entry.get("currency_pair") or "")
    base, _, quote = pair.partition("/")
    trades = [t for t in entry.get("transactions") or [] if isinstance(t, dict)]
    filled = sum(_number(t.get(base.lower())) or 0.0 for t in trades) if base else None
    value = sum(_number(t.get(quote.lower())) or 0.0 for t in trades) if quote else None
    fee = sum(_number(t.get("fee")) or 0.0 for t in trades) if trades else None
    remaining = _number(entry.get("amount_remaining"))
    amount = _number(entry.get("amount"))
    if amount is None and remaining is not None:
        amount = remaining + (filled or 0.0)
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    side = SIDES.get(str(entry.get("type")))
    created = _epoch(entry.get("datetime")) if entry.get("datetime") else None
    average = value / filled if value and filled else None
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=pair or None,
        price=_number(entry.get("price")) or average,
        fee=fee,
        value=value,
        order_type="limit" if entry.get("price") else None,
        created_at=created,
        updated_at=created,
    )
