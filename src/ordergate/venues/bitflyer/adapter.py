"""bitFlyer Lightning: cancel one child order, look one up, verify a key.

bitFlyer's cancel answers 200 with an empty body whatever happened to the order (it only takes the request), so its
answer tells nothing about the order. Three requests make the answer true:
1. `getchildorders` by the order's id: only an ACTIVE order is cancelled. Anything else goes to the cancel service
   as "unknown at the venue", whose own lookup answers 409 or 404 (and which knows whether an earlier attempt of the
   same request was ours). Without this read a cancel made long ago would be reported as "cancelled now".
2. `cancelchildorder`.
3. `getchildorders` again: CANCELED → `cancelled`, still ACTIVE → `inProgress` (bitFlyer has taken the cancel and
   not yet applied it), filled in the meantime → the service's lookup answers 409 `success`. Without this read a
   fill that beat the cancel would be reported as an accepted cancel.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.bitflyer.auth import now_s, signed_headers
from ordergate.venues.bitflyer.constants import (
    ACCEPTANCE_PREFIX,
    ACTIVE,
    CANCEL_PATH,
    ERROR_BY_STATUS,
    ERROR_MAP,
    HEADER_RATE_PERIOD,
    ORDER_ID_SHAPE,
    ORDER_TYPE_MAP,
    ORDERING_LIMITED_S,
    ORDERS_PATH,
    RATE_WINDOW_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
    Ambiguous,
    normalize_product,
    split_product,
)
from ordergate.venues.bitflyer.listing import build_page, page_query
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import Transport, TransportError, UpstreamResponse

_ORDER_ID = re.compile(ORDER_ID_SHAPE[0])
_HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,256}")


def id_field(order_id: str) -> str:
    """Which request field names this id: acceptance ids start with JRF, child order ids with JOR."""
    return "child_order_acceptance_id" if order_id.startswith(ACCEPTANCE_PREFIX) else "child_order_id"


def cancel_body(product_code: str, order_id: str) -> bytes:
    """The exact JSON that is signed and sent: compact, product_code first (as the docs list it)."""
    return json.dumps({"product_code": product_code, id_field(order_id): order_id}, separators=(",", ":")).encode()


def lookup_query(product_code: str, order_id: str) -> str:
    # Both values are from fixed alphabets (checked before this is built), so nothing is escaped: the query is
    # signed exactly as it appears in the URL.
    return urlencode([("product_code", product_code), (id_field(order_id), order_id)])


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("bitflyer", api_key)


class BitflyerAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, clock: Callable[[], str] = now_s
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._clock = clock

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # bitFlyer keys have no per-request second factor; an mfaCode has nothing to be checked against.
        status, permitted = await self._request(creds, "GET", VERIFY_PATH, "", b"")
        if not isinstance(permitted, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "bitFlyer's permission list is missing", upstream_status=status
            )
        if CANCEL_PATH not in permitted:
            # Connecting it would hand out a token whose every cancel fails; say so now.
            raise GatewayError(
                ErrorType.institutionPermissionDenied,
                "This bitFlyer API key may not cancel orders: enable 'Cancel Order' for it on the developer page.",
            )
        return AccountInfo(account_id=account_fingerprint(creds.api_key), account_name="bitFlyer")

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        product = _product(order)
        status, entry = await self._find(creds, product, order.id)
        if entry is None or entry.get("child_order_state") != ACTIVE:
            state = "no such order" if entry is None else f"child_order_state {entry.get('child_order_state')}"
            raise UnknownOrderAtVenue(status, f"{state} on {product}")
        status, _ = await self._request(creds, "POST", CANCEL_PATH, "", cancel_body(product, order.id))
        return await self._confirm(creds, product, order.id, status)

    async def _confirm(self, creds: Credentials, product: str, order_id: str, accepted: int) -> CancelAck:
        try:
            status, entry = await self._find(creds, product, order_id)
        except (GatewayError, TransportError):
            # bitFlyer did take the cancel; only its effect is unconfirmed.
            return CancelAck(order_id, OrderStatus.inProgress, accepted)
        state = None if entry is None else entry.get("child_order_state")
        if state == "CANCELED":
            return CancelAck(order_id, OrderStatus.cancelled, accepted)
        if state in (ACTIVE, None):  # not applied yet (or a listing that lags): accepted, not done
            return CancelAck(order_id, OrderStatus.inProgress, accepted)
        raise UnknownOrderAtVenue(status, f"child_order_state {state} after the cancel")

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        product = _product(order)
        _, entry = await self._find(creds, product, order.id)
        return None if entry is None else _snapshot(order.id, entry)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        # bitFlyer lists one product at a time and has no "every product" listing.
        if not query.symbol_pair:
            raise GatewayError(
                ErrorType.missingField,
                f"symbolPair must be provided to list orders at {self.spec.name}.",
                error_data={"fields": {"symbolPair": f"required for {self.spec.type.value}"}},
            )
        product = _normalized(query.symbol_pair)
        status, rows = await self._request(creds, "GET", ORDERS_PATH, page_query(product, query), b"")
        if not isinstance(rows, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "bitFlyer's order list is missing", upstream_status=status
            )
        return build_page(rows, query, _snapshot)

    async def _find(self, creds: Credentials, product: str, order_id: str) -> tuple[int, dict[str, Any] | None]:
        status, listed = await self._request(creds, "GET", ORDERS_PATH, lookup_query(product, order_id), b"")
        if not isinstance(listed, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "bitFlyer's order list is missing", upstream_status=status
            )
        field = id_field(order_id)
        # Filtered again here: the answer must be about this id, whatever bitFlyer's filter did.
        return status, next((e for e in listed if isinstance(e, dict) and e.get(field) == order_id), None)

    async def _request(self, creds: Credentials, method: str, path: str, query: str, body: bytes) -> tuple[int, Any]:
        if not (_HEADER_SAFE.fullmatch(creds.api_key) and _HEADER_SAFE.fullmatch(creds.secret)):
            raise GatewayError(
                ErrorType.institutionAuthFailed, "The bitFlyer credentials contain characters no bitFlyer key has"
            )
        target = path + ("?" + query if query else "")
        headers = signed_headers(creds.api_key, creds.secret, self._clock(), method, target, body)
        if body:
            headers["Content-Type"] = "application/json"
        resp = await self.transport.send(method, self.base_url + target, headers=headers, body=body or None)

        payload = _json(resp.body)
        code = payload.get("status") if isinstance(payload, dict) else None
        if type(code) is int and code < 0:  # bitFlyer's error body, whatever the HTTP status (200 included)
            raise self._venue_failure(resp, code, str(payload.get("error_message", "")), creds)
        if resp.status >= 400:
            raise self._http_failure(resp)
        if method == "POST" and resp.status == 200 and not resp.body.strip():
            return resp.status, None  # the documented cancel answer: 200 and nothing else
        if payload is _UNREADABLE:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                f"bitFlyer answered HTTP {resp.status} with an unreadable body",
                upstream_status=resp.status,
            )
        return resp.status, payload

    def _venue_failure(self, resp: UpstreamResponse, code: int, message: str, creds: Credentials) -> GatewayError:
        text = f"bitFlyer answered HTTP {resp.status}, status {code}: " + _scrub(message, creds)
        kind = ERROR_MAP.get(code) or ERROR_BY_STATUS.get(resp.status)
        if kind == Ambiguous.auth:
            kind = ErrorType.institutionPermissionDenied if resp.status == 403 else ErrorType.institutionAuthFailed
        if not isinstance(kind, ErrorType):
            kind = ErrorType.institutionRejected if 400 <= resp.status < 500 else ErrorType.institutionUnavailable
        retry = None
        if kind is ErrorType.rateLimited:
            retry = _retry_after(resp.headers)
        elif kind is ErrorType.institutionLocked:
            retry = ORDERING_LIMITED_S
        return GatewayError(kind, text, retry_after=retry, upstream_status=resp.status)

    def _http_failure(self, resp: UpstreamResponse) -> GatewayError:
        status = resp.status
        if status == 429:
            return GatewayError(
                ErrorType.rateLimited, "bitFlyer answered HTTP 429", retry_after=_retry_after(resp.headers),
                upstream_status=status,
            )  # fmt: skip
        kind = ERROR_BY_STATUS.get(status) if _json(resp.body) is not _UNREADABLE else None
        # An error page (HTML from the edge, a 5xx) says nothing about the order; the cancel service looks it up.
        kind = kind or ErrorType.institutionUnavailable
        return GatewayError(kind, f"bitFlyer answered HTTP {status}", upstream_status=status)


_UNREADABLE = object()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return _UNREADABLE


def _product(order: OrderRef) -> str:
    if not _ORDER_ID.fullmatch(order.id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A bitFlyer order id is a child order id (JOR…) or acceptance id (JRF…), such as {ORDER_ID_SHAPE[1]}",
            error_data={"fields": {"id": "a bitFlyer child_order_id (JOR…) or child_order_acceptance_id (JRF…)"}},
        )
    return _normalized(order.symbol_pair or "")


def _normalized(pair: str) -> str:
    product = normalize_product(pair)
    if product is None:
        raise GatewayError(
            ErrorType.invalidField,
            "symbolPair must name a bitFlyer product_code such as BTC_JPY (BTC/JPY and btc-jpy are accepted)",
            error_data={"fields": {"symbolPair": "a bitFlyer product_code such as BTC_JPY"}},
        )
    return product


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((str(v).strip() for k, v in headers.items() if k.lower() == wanted), None)


def _retry_after(headers: Mapping[str, str]) -> int:
    """Retry-After when present (never seen from bitFlyer), else the seconds left in bitFlyer's window."""
    for name in ("Retry-After", HEADER_RATE_PERIOD):
        value = _header(headers, name)
        if value and value.isdigit() and int(value) > 0:
            return min(int(value), RATE_WINDOW_S)
    return RATE_WINDOW_S


def _unix(value: Any) -> int | None:
    """bitFlyer's "2015-07-07T08:45:53" (UTC, no zone, sometimes with fractions) → Unix seconds."""
    text = str(value or "")[:19]
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("child_order_state") or "")
    amount, filled = _number(entry.get("size")), _number(entry.get("executed_size"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if status is OrderStatus.inProgress and filled:
        status = OrderStatus.partiallyFilled
    elif status is OrderStatus.success and not filled:
        status = OrderStatus.cancelled
    product = str(entry.get("product_code") or "")
    base, quote = split_product(product)
    average = _number(entry.get("average_price"))
    created = _unix(entry.get("child_order_date"))
    value = filled * average if filled is not None and average else None
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        amount,
        filled,
        side={"BUY": OrderSide.buy, "SELL": OrderSide.sell}.get(str(entry.get("side"))),
        symbol=base,
        payment_symbol=quote,
        symbol_pair=product or None,
        # Market orders carry price 0; the average fill price is the better number then.
        price=_number(entry.get("price")) or average or None,
        fee=_number(entry.get("total_commission")),
        value=None if value is None or math.isnan(value) else value,
        order_type=ORDER_TYPE_MAP.get(str(entry.get("child_order_type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("time_in_force") or "")),
        created_at=created,
        updated_at=created,
    )
