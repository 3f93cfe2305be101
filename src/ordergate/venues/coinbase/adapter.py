"""Coinbase Advanced Trade: cancel one order, look one order up, verify a key or an OAuth token.

Credentials come in two shapes. A CDP API key: `api_key` = key name, `secret` = its private key (EC PEM or base64
Ed25519); every request carries a JWT signed for that very request. An OAuth access token: `api_key` = `oauth`
(authenticate's `username`), `secret` = the token, sent as it is. Per-order cancel failures arrive inside HTTP 200,
so the body decides; the HTTP status only speaks when there is no readable result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote, urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.killswitch import NativeResult, Touched, looked_up
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderPage, OrderQuery
from ordergate.venues.coinbase.auth import KeyFormatError, SigningKey, build_jwt, load_signing_key, request_uri
from ordergate.venues.coinbase.constants import (
    CANCEL_BATCH_MAX,
    CANCEL_FAILURES,
    CANCEL_PATH,
    CLOSED_FILTER,
    DEFAULT_FAILURE_REASON,
    DEFAULT_RETRY_AFTER_S,
    JSON_CONTENT_TYPE,
    KEY_PERMISSIONS_PATH,
    KILL_CANCEL_MAX,
    KILL_LIST_PAGE,
    KILL_MAX_ORDERS,
    LIST_PATH,
    LIVE_STATUSES,
    MISSING_SCOPES,
    NOT_FOUND_CODES,
    OAUTH_USERNAME,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    RATE_LIMIT_RESET_HEADER,
    REQUEST_ERRORS,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    USER_PATH,
    Ambiguous,
)
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import TransportError, UpstreamResponse

_MAX_ORDER_ID = 128


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"


def is_oauth(creds: Credentials) -> bool:
    return creds.extras.get("kind") == "oauth" or creds.api_key.lower() == OAUTH_USERNAME


class CoinbaseAdapter(Adapter):
    max_batch = CANCEL_BATCH_MAX

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Coinbase has no per-request one-time codes for API keys or tokens: an mfaCode has nowhere to go.
        if is_oauth(creds):
            payload = await self._call(creds, "GET", USER_PATH, None, _Op.verify)
            user = payload.get("data") if isinstance(payload.get("data"), dict) else {}
            if not user.get("id"):
                raise GatewayError(ErrorType.institutionUnavailable, "Coinbase's user answer names no user")
            return AccountInfo(f"coinbase-user-{user['id']}", "Coinbase", extras={"kind": "oauth"})
        kind = _signing_key(creds).alg
        permissions = await self._call(creds, "GET", KEY_PERMISSIONS_PATH, None, _Op.verify)
        if permissions.get("can_trade") is not True:
            raise GatewayError(
                ErrorType.institutionPermissionDenied,
                "This Coinbase API key has no trade permission, which cancelling orders needs.",
            )
        portfolio = str(permissions.get("portfolio_uuid") or "")
        extras = {"kind": "es256" if kind == "ES256" else "ed25519"}
        return AccountInfo(f"coinbase-portfolio-{portfolio}", "Coinbase", extras=extras)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        (outcome,) = await self.cancel_batch(creds, [order])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async def cancel_batch(self, creds: Credentials, orders: Sequence[OrderRef]) -> list[CancelAck | Exception]:
        """batch_cancel, whose `results[]` answer each id on its own; a single cancel is a batch of one."""
        for order in orders:
            _require_order_id(order.id)
        body = json.dumps({"order_ids": [order.id for order in orders]}, separators=(",", ":")).encode()
        resp = await self._send(creds, "POST", CANCEL_PATH, body)
        payload = _json_object(resp.body)
        results = payload.get("results") if payload is not None else None
        if resp.status != 200 or not isinstance(results, list):
            raise _request_failure(resp, payload, _Op.cancel, creds)
        entries = [r for r in results if isinstance(r, dict)]
        by_id = {str(r["order_id"]): r for r in entries if r.get("order_id")}
        outcomes: list[CancelAck | Exception] = []
        for order in orders:
            result = by_id.get(order.id)
            if result is None and len(orders) == 1 and len(entries) == 1 and not entries[0].get("order_id"):
                result = entries[0]  # the one answer to the one id, without an echo; an answer about another id is none
            try:
                outcomes.append(_cancel_result(order, result, resp.status, creds))
            except (GatewayError, UnknownOrderAtVenue) as exc:
                outcomes.append(exc)
        return outcomes

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        _require_order_id(order.id)
        resp = await self._send(creds, "GET", ORDER_PATH.format(order_id=quote(order.id, safe="")), None)
        payload = _json_object(resp.body)
        entry = payload.get("order") if payload is not None else None
        if resp.status == 200 and isinstance(entry, dict):
            return _snapshot(order, entry)
        if _no_such_order(resp.status, payload):
            return None
        raise _request_failure(resp, payload, _Op.lookup, creds)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """`orders/historical/batch`, newest first, one Coinbase page per call: the page token is Coinbase's own
        `cursor`, so a filter applied here thins a page rather than reading ahead (which the token cannot resume)."""
        params: list[tuple[str, str]] = [("limit", str(query.count))]
        params += [("order_status", status) for status in _status_filter(query)]
        if query.since is not None:
            params.append(("start_date", datetime.fromtimestamp(query.since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
        if query.cursor and query.cursor.get("cursor"):
            params.append(("cursor", str(query.cursor["cursor"])))
        payload = await self._call(creds, "GET", LIST_PATH + "?" + urlencode(params), None, _Op.lookup)
        entries = payload.get("orders")
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise GatewayError(ErrorType.institutionUnavailable, "Coinbase's order list has no orders")
        orders = [_snapshot(OrderRef(id=str(e.get("order_id") or ""), is_cryptocurrency=True), e) for e in entries]
        kept = tuple(o for o in orders if _wanted(o, query))
        token = payload.get("cursor")
        more = payload.get("has_next") is True and isinstance(token, str) and token != ""
        return OrderPage(kept, {"cursor": token} if more else None)

    # Kill switch. Coinbase has no cancel-all: the open orders are listed and cancelled through batch_cancel, many
    # ids a request. No filter is applied here, so a filtered kill switch takes the generic listing path.
    cancel_all_filters: frozenset[str] = frozenset()

    async def cancel_all(self, creds: Credentials, symbol_pair: str | None, side: OrderSide | None) -> NativeResult:
        listed: list[OrderSnapshot] = []
        cursor: dict[str, Any] | None = None
        while True:
            query = OrderQuery(count=KILL_LIST_PAGE, statuses=OPEN_STATUSES, cursor=cursor)
            page = await self.list_orders(creds, query)
            listed += [o for o in page.orders if o.order_id]
            cursor = page.cursor
            if cursor is None or len(listed) >= KILL_MAX_ORDERS:
                break
        touched: list[Touched] = []
        for start in range(0, len(listed), KILL_CANCEL_MAX):
            touched += await self._cancel_many(creds, listed[start : start + KILL_CANCEL_MAX])
        return NativeResult(
            touched,
            how=f"Coinbase has no cancel-all: open orders listed, then batch_cancel with up to {KILL_CANCEL_MAX} ids a "
            "request; orders it did not cancel are looked up",
        )

    async def _cancel_many(self, creds: Credentials, orders: list[OrderSnapshot]) -> list[Touched]:
        """One batch_cancel for the kill switch (kept apart from the batch extension's cancel path); an order
        without a definite answer (unknown to Coinbase, no result, request failed) is looked up."""
        refs = {o.order_id: OrderRef(o.order_id, True, o.side, o.symbol_pair) for o in orders}
        body = json.dumps({"order_ids": list(refs)}, separators=(",", ":")).encode()
        results: dict[str, dict[str, Any]] = {}
        status: int | None = None
        try:
            resp = await self._send(creds, "POST", CANCEL_PATH, body)
            status, payload = resp.status, _json_object(resp.body)
            refused = _request_failure(resp, payload, _Op.cancel, creds) if 400 <= resp.status < 500 else None
            if isinstance(refused, GatewayError):  # refused as a whole (rate limit, key, scope): nothing cancelled
                return [Touched(order_id, refused) for order_id in refs]
            entries = payload.get("results") if payload is not None and resp.status == 200 else None
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("success"), bool) and entry.get("order_id"):
                    results[str(entry["order_id"])] = entry
        except TransportError:
            pass  # sent or not, each order's state is read below
        touched = []
        for order_id, ref in refs.items():
            result = results.get(order_id)
            try:
                if result is None:
                    raise UnknownOrderAtVenue(status or 0, "no result")
                if result["success"]:
                    outcome: CancelAck | GatewayError = CancelAck(order_id, OrderStatus.inProgress, status)
                else:
                    reason = str(result.get("failure_reason") or DEFAULT_FAILURE_REASON)
                    outcome = _cancel_refused(ref, reason, status or 200, creds)
            except UnknownOrderAtVenue:
                try:
                    snapshot = await self.get_order(creds, ref)
                except (GatewayError, TransportError):
                    snapshot = None
                outcome = looked_up(order_id, snapshot, status, "Coinbase")
            except GatewayError as exc:
                outcome = exc
            touched.append(Touched(order_id, outcome))
        return touched

    async def _call(self, creds: Credentials, method: str, path: str, body: bytes | None, op: _Op) -> dict[str, Any]:
        resp = await self._send(creds, method, path, body)
        payload = _json_object(resp.body)
        if resp.status != 200 or payload is None or _error_code(payload) is not None:
            raise _request_failure(resp, payload, op, creds)
        return payload

    async def _send(self, creds: Credentials, method: str, path: str, body: bytes | None) -> UpstreamResponse:
        url = self.base_url + path
        if is_oauth(creds):
            bearer = creds.secret
        else:
            bearer = build_jwt(creds.api_key, _signing_key(creds), request_uri(method, url))
        headers = {"Authorization": f"Bearer {bearer}", "Accept": JSON_CONTENT_TYPE}
        if body is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        return await self.transport.send(method, url, headers=headers, body=body)


def _status_filter(query: OrderQuery) -> list[str]:
    """Coinbase's `order_status` values for the query; none (every order) when open and finished ones are mixed."""
    if query.statuses is None:
        return []
    if query.open_only:
        return ["OPEN"]  # alone: see constants (OPEN is not combined with other statuses)
    if query.statuses.isdisjoint(OPEN_STATUSES):
        return sorted({v for s in query.statuses for v in CLOSED_FILTER.get(s, ())}) or ["UNKNOWN_ORDER_STATUS"]
    return []


def _wanted(snapshot: OrderSnapshot, query: OrderQuery) -> bool:
    if query.statuses is not None and snapshot.status not in query.statuses:
        return False
    return query.since is None or (snapshot.created_at is not None and snapshot.created_at >= query.since)


def _signing_key(creds: Credentials) -> SigningKey:
    try:
        return load_signing_key(creds.secret)
    except KeyFormatError as exc:
        raise GatewayError(ErrorType.institutionAuthFailed, f"The Coinbase private key is not usable: {exc}") from None


def _require_order_id(order_id: str) -> None:
    if not order_id.strip() or len(order_id) > _MAX_ORDER_ID:
        raise GatewayError(
            ErrorType.invalidField,
            "A Coinbase order id is the order_id Coinbase returned when the order was created (a UUID)",
            error_data={"fields": {"id": "one Coinbase order_id"}},
        )


def _cancel_result(order: OrderRef, result: dict[str, Any] | None, status: int, creds: Credentials) -> CancelAck:
    if result is None or not isinstance(result.get("success"), bool):
        raise GatewayError(
            ErrorType.institutionUnavailable, "Coinbase's cancel answer has no result", upstream_status=status
        )
    if result["success"]:
        # "the cancel request was submitted successfully" — accepted, not yet confirmed; the lookup tells when.
        return CancelAck(order.id, OrderStatus.inProgress, status)
    return _cancel_refused(order, str(result.get("failure_reason") or DEFAULT_FAILURE_REASON), status, creds)


def _cancel_refused(order: OrderRef, reason: str, status: int, creds: Credentials) -> CancelAck:
    kind = CANCEL_FAILURES.get(reason, ErrorType.institutionUnavailable)
    text = _scrub(reason, creds)
    if kind is Ambiguous.unknownOrder:
        raise UnknownOrderAtVenue(status, text)
    if kind is Ambiguous.acceptedEarlier:
        return CancelAck(order.id, OrderStatus.inProgress, status)
    if kind is ErrorType.orderNotCancelable:  # ORDER_IS_FULLY_FILLED is final and says how: no lookup needed
        raise GatewayError(
            ErrorType.orderNotCancelable,
            "The order cannot be cancelled: its status is 'success'.",
            error_data={"orderStatus": OrderStatus.success.value, "orderId": order.id},
            upstream_status=status,
        )
    assert isinstance(kind, ErrorType)
    raise GatewayError(kind, f"Coinbase refused the cancel: {text}", upstream_status=status)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error_code(payload: dict[str, Any]) -> str | None:
    """`{"error": "CODE", ...}` (v3) or `{"errors": [{"id": "code", ...}]}` (v2); None when it is no error."""
    if isinstance(payload.get("error"), str) and payload["error"]:
        return str(payload["error"])
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("id") or "unknown")
    return None


def _error_text(payload: dict[str, Any] | None) -> str:
    if payload is None:
        return ""
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or "")
    return str(payload.get("error_details") or payload.get("message") or "")


def _no_such_order(status: int, payload: dict[str, Any] | None) -> bool:
    if payload is None:
        return False  # an unreadable 404 is a wrong URL or an edge page, not Coinbase saying "no such order"
    code = _error_code(payload)
    if status == 404 and (code in NOT_FOUND_CODES or "not found" in _error_text(payload).lower()):
        return True
    # A malformed id is refused as INVALID_ARGUMENT; it is the lookup's only argument, so it names no order.
    return status == 400 and code == "INVALID_ARGUMENT"


def _request_failure(resp: UpstreamResponse, payload: dict[str, Any] | None, op: _Op, creds: Credentials) -> Exception:
    status = resp.status
    code = _error_code(payload) if payload is not None else None
    detail = _scrub(" ".join(p for p in (code or "", _error_text(payload)) if p), creds)
    message = f"Coinbase answered HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429 or REQUEST_ERRORS.get(code or "") is ErrorType.rateLimited:
        return GatewayError(
            ErrorType.rateLimited, message, retry_after=_retry_after(resp.headers), upstream_status=status
        )
    if status == 401:
        return GatewayError(ErrorType.institutionAuthFailed, message, upstream_status=status)
    if MISSING_SCOPES in _error_text(payload) or (status == 403 and payload is not None):
        return GatewayError(ErrorType.institutionPermissionDenied, message, upstream_status=status)
    kind = REQUEST_ERRORS.get(code or "")
    if kind is ErrorType.institutionRejected and op is _Op.verify:
        kind = ErrorType.institutionAuthFailed  # verify sends no arguments: a refusal there is about the credentials
    if kind is not None and status < 500:
        return GatewayError(kind, message, upstream_status=status)
    # 5xx, edge pages, unreadable or unexpected answers: the cancel service looks the order up after these.
    detail = "" if payload is not None else " with an unreadable body"
    return GatewayError(ErrorType.institutionUnavailable, message + detail, upstream_status=status)


def _retry_after(headers: Any) -> int:
    for name in ("Retry-After", RATE_LIMIT_RESET_HEADER):
        value = str(headers.get(name) or headers.get(name.lower()) or "").strip()
        try:
            number = float(value)
        except ValueError:
            continue
        # A reset far beyond any sane wait is a Unix time; anything else counts seconds.
        seconds = number - time.time() if number > 1_000_000_000 else number
        return max(1, int(seconds) + (0 if seconds == int(seconds) else 1))
    return DEFAULT_RETRY_AFTER_S


def _unix(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _configuration(entry: dict[str, Any]) -> dict[str, Any]:
    """The one `order_configuration` variant an order has, e.g. `limit_limit_gtc` → {base_size, limit_price}."""
    config = entry.get("order_configuration")
    if isinstance(config, dict):
        for value in config.values():
            if isinstance(value, dict):
                return value
    return {}


def _snapshot(order: OrderRef, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    filled = _number(entry.get("filled_size"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    config = _configuration(entry)
    product = str(entry.get("product_id") or "")
    base, _, quote_asset = product.partition("-")
    side = str(entry.get("side") or "").lower()
    created = _unix(entry.get("created_time"))
    return OrderSnapshot(
        str(entry.get("order_id") or order.id),
        status,
        venue_status,
        _number(config.get("base_size")),
        filled,
        # Coinbase names the side itself; the side Mesh asked the client for is the fallback.
        side=OrderSide(side) if side in ("buy", "sell") else order.side,
        symbol=base or None,
        payment_symbol=quote_asset or None,
        symbol_pair=product or None,
        price=_number(config.get("limit_price")) or _number(entry.get("average_filled_price")) or None,
        fee=_number(entry.get("total_fees")),
        value=_number(entry.get("filled_value")),
        order_type=ORDER_TYPE_MAP.get(str(entry.get("order_type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("time_in_force") or "")),
        created_at=created,
        updated_at=_unix(entry.get("last_fill_time")) or created,
    )
