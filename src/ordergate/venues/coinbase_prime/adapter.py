"""Coinbase Prime REST: cancel one order, look one order up, verify a key (and learn its portfolio).

Every call names a portfolio in its path, so connecting an account (`verify_credentials`) lists the portfolios the
key can read and seals the one it finds into the token (`extras["portfolio_id"]`). Keys made in the Prime UI are
scoped to one portfolio, which is the case ordergate supports. An entity-level key reaches several portfolios and a
Mesh authenticate request has no field to pick one, so such a key is refused with a 400 naming `username`, rather
than guessing a portfolio and cancelling in the wrong one.

Prime publishes no catalogue of error messages, so the HTTP status decides. Its cancel answer is an
acknowledgement (`inProgress`); the lookup reports the order once it is cancelled.
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
from ordergate.venues.coinbase_prime import auth
from ordergate.venues.coinbase_prime.constants import (
    ERROR_BY_STATUS,
    LIST_START_FLOOR,
    LIVE_STATUSES,
    ORDER_TYPE_MAP,
    PORTFOLIOS_PATH,
    RATE_LIMIT_RETRY_AFTER_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    Ambiguous,
    cancel_path,
    open_orders_path,
    order_path,
    orders_path,
)
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub

# Ids go into the URL path: only characters that cannot change which resource is addressed (Prime ids are UUIDs).
_PATH_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
VENUE = "Coinbase Prime"


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"


class CoinbasePrimeAdapter(Adapter):
    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Prime API keys have no one-time codes; an mfaCode sent anyway has nothing to do here.
        if not creds.passphrase:
            raise GatewayError(
                ErrorType.missingField,
                "Coinbase Prime API keys have a passphrase: send it as authToken.",
                error_data={"fields": {"authToken": "the API key's passphrase"}},
            )
        status, answer = await self._call(creds, "GET", PORTFOLIOS_PATH, _Op.verify)
        listed = answer.get("portfolios") if isinstance(answer, dict) else None
        if not isinstance(listed, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, f"{VENUE} listed no portfolios", upstream_status=status
            )
        portfolios = [p for p in listed if isinstance(p, dict) and isinstance(p.get("id"), str) and p["id"]]
        if not portfolios:
            raise GatewayError(
                ErrorType.institutionPermissionDenied,
                f"This {VENUE} API key can read no portfolio, so it cannot cancel orders in one.",
                upstream_status=status,
            )
        if len(portfolios) > 1:
            raise GatewayError(
                ErrorType.invalidField,
                f"This {VENUE} API key reaches {len(portfolios)} portfolios; connect a key created for the one "
                "portfolio whose orders should be cancelled (Prime UI keys are scoped to one portfolio).",
                error_data={"fields": {"username": "a Coinbase Prime API key scoped to one portfolio"}},
            )
        portfolio = portfolios[0]
        _path_id(portfolio["id"], "portfolio")
        return AccountInfo(
            account_id=portfolio["id"],
            account_name=str(portfolio.get("name") or VENUE),
            extras={"portfolio_id": portfolio["id"]},
        )

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        path = cancel_path(_portfolio(creds), _path_id(order.id, "order"))
        status, answer = await self._call(creds, "POST", path, _Op.cancel)
        if not isinstance(answer, dict) or answer.get("id") != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                f"{VENUE}'s cancel answer does not name the order",
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        path = order_path(_portfolio(creds), _path_id(order.id, "order"))
        try:
            status, answer = await self._call(creds, "GET", path, _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        entry = answer.get("order") if isinstance(answer, dict) else None
        if not isinstance(entry, dict) or entry.get("id") != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable, f"{VENUE}'s order answer is not this order", upstream_status=status
            )
        return _snapshot(entry)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """Open orders first (`open_orders`), then finished ones (`orders` filtered to finished statuses, so no order
        shows twice), newest first within each, each phase paged by Prime's cursor. A page that ends the open orders
        with room left goes on into the finished ones (a second request), so pages are full until the last."""
        state = query.cursor or {}
        phase = state.get("phase") or _first_phase(query)
        token = state.get("cursor")
        orders: list[OrderSnapshot] = []
        while True:
            kept, token = await self._list_phase(creds, query, phase, token, query.count - len(orders))
            orders += kept
            if token:
                return OrderPage(tuple(orders), {"phase": phase, "cursor": token})
            if phase != "open" or query.open_only:
                return OrderPage(tuple(orders))
            phase = "history"
            if len(orders) >= query.count:
                return OrderPage(tuple(orders), {"phase": phase})

    async def _list_phase(
        self, creds: Credentials, query: OrderQuery, phase: str, token: Any, limit: int
    ) -> tuple[list[OrderSnapshot], str | None]:
        params: list[tuple[str, str]] = [("limit", str(limit)), ("sort_direction", "DESC")]
        if phase == "history":
            params += [("order_statuses", status) for status in _history_statuses(query)]
        # `orders` requires a start date (prime-sdk-go ListOrdersRequest); the floor predates Prime.
        start = datetime.fromtimestamp(query.since, UTC) if query.since is not None else None
        params.append(("start_date", start.strftime("%Y-%m-%dT%H:%M:%SZ") if start else LIST_START_FLOOR))
        if token:
            params.append(("cursor", str(token)))
        path = (open_orders_path if phase == "open" else orders_path)(_portfolio(creds))
        try:
            status, answer = await self._call(creds, "GET", path, _Op.lookup, urlencode(params, safe=":"))
        except UnknownOrderAtVenue as exc:  # a 400/404 on a listing names no order
            raise GatewayError(
                ErrorType.institutionRejected, f"{VENUE} refused the listing: {exc.venue_message}"
            ) from None
        entries = answer.get("orders") if isinstance(answer, dict) else None
        paging = answer.get("pagination") if isinstance(answer, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("id") for e in entries):
            raise GatewayError(
                ErrorType.institutionUnavailable, f"{VENUE}'s order list is unreadable", upstream_status=status
            )
        kept = [o for o in map(_snapshot, entries) if _wanted(o, query)]
        following = paging.get("next_cursor") if isinstance(paging, dict) else None
        more = isinstance(paging, dict) and paging.get("has_next") is True and isinstance(following, str)
        return kept, (following if more and following else None)

    async def _call(self, creds: Credentials, method: str, path: str, op: _Op, query: str = "") -> tuple[int, Any]:
        if not creds.passphrase:
            raise GatewayError(
                ErrorType.invalidAuthToken,
                f"This authToken carries no {VENUE} passphrase; reconnect the account with authToken set.",
            )
        timestamp = str(int(time.time()))
        signature = auth.sign(timestamp, method, path, b"", creds.secret)
        headers = auth.headers(creds.api_key, creds.passphrase, timestamp, signature)
        # Prime signs the path alone, never the query string (authentication docs).
        resp = await self.transport.send(method, self.base_url + path + (f"?{query}" if query else ""), headers=headers)
        try:
            payload: Any = json.loads(resp.body)
        except ValueError:
            payload = None
        if 200 <= resp.status < 300 and payload is not None:
            return resp.status, payload
        raise _failure(op, resp.status, resp.headers, payload, creds)


def _first_phase(query: OrderQuery) -> str:
    if query.statuses is not None and query.statuses.isdisjoint(OPEN_STATUSES):
        return "history"
    return "open"


def _history_statuses(query: OrderQuery) -> list[str]:
    """Prime's finished statuses the query asks for: open ones come from `open_orders` only."""
    wanted = [name for name, mesh in STATUS_MAP.items() if name not in LIVE_STATUSES]
    if query.statuses is None:
        return wanted
    return [name for name in wanted if STATUS_MAP[name] in query.statuses] or ["UNKNOWN_ORDER_STATUS"]


def _wanted(snapshot: OrderSnapshot, query: OrderQuery) -> bool:
    if query.statuses is not None and snapshot.status not in query.statuses:
        return False
    return query.since is None or (snapshot.created_at is not None and snapshot.created_at >= query.since)


def _portfolio(creds: Credentials) -> str:
    portfolio = creds.extras.get("portfolio_id")
    if not isinstance(portfolio, str) or not _PATH_ID.match(portfolio):
        raise GatewayError(
            ErrorType.invalidAuthToken,
            f"This authToken names no {VENUE} portfolio; reconnect the account through /api/v1/authenticate.",
        )
    return portfolio


def _path_id(value: str, what: str) -> str:
    if not _PATH_ID.match(value):
        raise GatewayError(
            ErrorType.invalidField,
            f"A {VENUE} {what} id is a UUID such as 82c879c1-84e1-44ed-a8c2-1ac239cf09ad",
            error_data={"fields": {"id": f"a {VENUE} {what} id (letters, digits and '-')"}},
        )
    return value


def _failure(op: _Op, status: int, headers: Any, payload: Any, creds: Credentials) -> Exception:
    message = payload.get("message") if isinstance(payload, dict) else None
    text = _scrub(message, creds) if isinstance(message, str) else "no readable message"
    summary = f"{VENUE} answered HTTP {status}: {text}"
    # Only a JSON answer is Prime's own; an HTML page from a proxy says nothing about keys or orders. A 429 is a
    # rate limit whoever wrote the body.
    kind = ERROR_BY_STATUS.get(status) if isinstance(payload, dict) or status == 429 else None
    if kind is None:
        return GatewayError(ErrorType.institutionUnavailable, summary, upstream_status=status)
    if kind is Ambiguous.orderAnswer:
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


def _snapshot(entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status", ""))
    amount, filled = _number(entry.get("base_quantity")), _number(entry.get("filled_quantity"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    pair = str(entry.get("product_id") or "")
    base, _, quote = pair.partition("-")
    side = str(entry.get("side") or "").lower()
    created = _epoch(entry["created_at"]) if entry.get("created_at") else None
    tif = TIME_IN_FORCE_MAP.get(str(entry.get("time_in_force")))
    return OrderSnapshot(
        str(entry["id"]),
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=pair or None,
        price=_number(entry.get("limit_price")) or _number(entry.get("average_filled_price")),
        fee=_number(entry.get("commission")),
        value=_number(entry.get("filled_value")),
        order_type=ORDER_TYPE_MAP.get(str(entry.get("type"))),
        time_in_force="postOnly" if entry.get("post_only") else tif,
        created_at=created,
        updated_at=created,
    )
