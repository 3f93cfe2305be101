"""Alpaca Trading API v2: cancel one order, look one order up, verify a key pair or an OAuth token.

Alpaca answers with HTTP statuses and a JSON `{"code", "message"}` body, so the status decides and the body only
proves the answer came from Alpaca (an HTML page from the edge says nothing about the account).
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.killswitch import NativeResult, Touched
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.alpaca.auth import Environments, auth_headers, is_oauth
from ordergate.venues.alpaca.constants import (
    ALREADY_CANCELLING,
    ASSET_TYPES,
    CANCEL_ALL_PATH,
    CANCEL_ANSWER,
    CLOSED_MESH_STATUSES,
    ENVIRONMENT_HINTS,
    ERROR_BY_STATUS,
    LIST_MAX_LIMIT,
    LIST_PATH,
    LIVE_STATUSES,
    LIVE_URL,
    ORDER_ID,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    PAPER_URL,
    RATE_WINDOW_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
)
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderPage, OrderQuery
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import NotDelivered, OutcomeUnknown, TransportError, UpstreamResponse

_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?$")
_PRECISE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")
_CRYPTO_QUOTES = ("USDT", "USDC", "USD", "BTC")


class AlpacaAdapter(Adapter):
    def environments(self) -> Environments:
        live = (self.spec.production_url or LIVE_URL).rstrip("/")
        paper = (self.spec.testnet_url or PAPER_URL).rstrip("/")
        # The registry hands over the paper URL in testnet deployments and the live one by default; any other
        # URL is an operator override (a proxy, the simulator) that every request goes to.
        override = None if self.base_url in (live, paper) else self.base_url
        return Environments(live, paper, override, testnet=self.testnet or self.base_url == paper)

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Alpaca keys have no second factor, so `mfa_code` has nothing to do here.
        hint = _paper_hint(creds.passphrase)
        headers = auth_headers(creds)
        rejected: GatewayError | None = None
        for url, paper in self.environments().to_try(hint):
            try:
                resp = await self.transport.send("GET", url + VERIFY_PATH, headers=headers)
            except TransportError as exc:
                # Nothing changes at Alpaca when an account read fails, so "unavailable" is the whole story.
                raise GatewayError(ErrorType.institutionUnavailable, f"Alpaca could not be reached ({exc})") from None
            payload = _json_object(resp.body)
            if resp.status == 200 and payload is not None:
                extras: dict[str, object] = {"auth": "oauth" if is_oauth(creds) else "key"}
                if paper is not None:
                    extras["paper"] = paper
                number = payload.get("account_number") or payload.get("id")
                if not number:
                    raise GatewayError(ErrorType.institutionUnavailable, "Alpaca's account answer has no account id")
                name = "Alpaca" if paper is None else f"Alpaca ({'paper' if paper else 'live'})"
                return AccountInfo(account_id=str(number), account_name=name, extras=extras)
            rejected = _failure(resp, creds)
            if resp.status != 401:
                raise rejected
            # 401 here means "not an account of this environment": paper credentials do not exist on live.
        assert rejected is not None
        raise rejected

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        resp = await self._order_request("DELETE", creds, order)
        if 200 <= resp.status < 300:
            return await self._confirm(creds, order, resp.status)
        payload = _json_object(resp.body)
        if payload is not None and resp.status in (404, 422):
            message = _scrub(str(payload.get("message", "")), creds)
            if resp.status == 422 and ALREADY_CANCELLING.search(message):
                return CancelAck(order.id, OrderStatus.inProgress, resp.status)
            # 404: never existed for this account. 422: exists but is final (or mid-replace). Only a lookup tells.
            raise UnknownOrderAtVenue(resp.status, message)
        raise _failure(resp, creds)

    # DELETE /v2/orders has no filter: a kill switch for one symbol or side lists and cancels one by one instead.
    cancel_all_filters: frozenset[str] = frozenset()

    async def cancel_all(self, creds: Credentials, symbol_pair: str | None, side: OrderSide | None) -> NativeResult:
        """One `DELETE /v2/orders`; its 207 names each order with that order's own status. 200 is "accepted" as a
        single cancel's 204 is, so each answers `inProgress` unless the body already reads canceled."""
        headers = {**auth_headers(creds), "Accept": "application/json"}
        resp = await self.transport.send(
            "DELETE", self.environments().for_token(creds) + CANCEL_ALL_PATH, headers=headers
        )
        entries = _json_list(resp.body)
        if resp.status not in (200, 207) or entries is None:
            raise _failure(resp, creds)
        touched = []
        for entry in entries:
            order_id, status = str(entry.get("id") or ""), entry.get("status")
            body = entry.get("body") if isinstance(entry.get("body"), dict) else {}
            if not order_id:
                continue
            if status == 200:
                done = str(body.get("status") or "") == "canceled"
                touched.append(
                    Touched(order_id, CancelAck(order_id, OrderStatus.cancelled if done else CANCEL_ANSWER, 200))
                )
                continue
            message = _scrub(str(body.get("message") or f"status {status}"), creds)
            touched.append(
                Touched(
                    order_id,
                    GatewayError(
                        ErrorType.institutionRejected,
                        f"Alpaca did not cancel this order: {message}",
                        upstream_status=status if isinstance(status, int) else None,
                        error_data={"orderId": order_id},
                    ),
                )
            )
        return NativeResult(touched, how="Alpaca DELETE /v2/orders names each order with its own status")

    async def _confirm(self, creds: Credentials, order: OrderRef, accepted_status: int) -> CancelAck:
        """After the 204: one lookup tells `cancelled` from still `pending_cancel`."""
        try:
            snapshot = await self.get_order(creds, order)
        except (GatewayError, NotDelivered, OutcomeUnknown):
            return CancelAck(order.id, CANCEL_ANSWER, accepted_status)
        if snapshot is not None and snapshot.status is OrderStatus.cancelled:
            return CancelAck(order.id, OrderStatus.cancelled, accepted_status)
        return CancelAck(order.id, CANCEL_ANSWER, accepted_status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        resp = await self._order_request("GET", creds, order)
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None:
            return _snapshot(order.id, payload)
        if resp.status == 404 and payload is not None:
            return None
        raise _failure(resp, creds)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """`GET /v2/orders`, newest first. Alpaca has no page token: the next page is the same request with `until`
        at the oldest order consumed. `until` is exclusive, so it is set one microsecond past that order and the ids
        already given at that instant (`seen`) are skipped, which keeps orders sharing a timestamp from being lost."""
        state = query.cursor or {}
        seen = {str(i) for i in state.get("seen") or ()}
        venue_status, exact = _list_status(query)
        limit = min(LIST_MAX_LIMIT, query.count + len(seen)) if exact else LIST_MAX_LIMIT
        params: dict[str, str] = {"status": venue_status, "limit": str(limit), "direction": "desc"}
        if state.get("until"):
            params["until"] = str(state["until"])
        if query.since is not None:
            # `after` is exclusive and Alpaca's times carry fractions: one second earlier, then filtered exactly.
            params["after"] = _rfc3339(datetime.fromtimestamp(query.since - 1, UTC))
        headers = {**auth_headers(creds), "Accept": "application/json"}
        url = self.environments().for_token(creds) + LIST_PATH + "?" + urlencode(params)
        resp = await self.transport.send("GET", url, headers=headers)
        entries = _json_list(resp.body)
        if resp.status != 200 or entries is None:
            raise _failure(resp, creds)
        orders: list[OrderSnapshot] = []
        boundary: datetime | None = None
        at_boundary: set[str] = set()
        consumed = 0
        for entry in entries:
            if len(orders) == query.count:
                break
            consumed += 1
            order_id = str(entry.get("id") or "")
            submitted = _micros(entry.get("submitted_at") or entry.get("created_at"))
            if submitted is None or not order_id:
                raise GatewayError(ErrorType.institutionUnavailable, "Alpaca listed an order without id or time")
            if boundary != submitted:
                boundary, at_boundary = submitted, set()
            at_boundary.add(order_id)
            if order_id in seen:
                continue
            snapshot = _snapshot(order_id, entry)
            if _wanted(snapshot, query):
                orders.append(snapshot)
        if boundary is None or (consumed == len(entries) and len(entries) < limit):
            return OrderPage(tuple(orders))
        until = boundary + timedelta(microseconds=1)
        return OrderPage(tuple(orders), {"until": _rfc3339(until), "seen": sorted(at_boundary)})

    async def _order_request(self, method: str, creds: Credentials, order: OrderRef) -> UpstreamResponse:
        if not ORDER_ID.fullmatch(order.id):
            raise GatewayError(
                ErrorType.invalidField,
                "An Alpaca order id is a UUID such as 61e69015-8549-4bfd-b9c3-01e75843f47d",
                error_data={"fields": {"id": "an Alpaca order id: letters, digits and hyphens"}},
            )
        headers = {**auth_headers(creds), "Accept": "application/json"}
        url = self.environments().for_token(creds) + ORDER_PATH.format(order_id=order.id)
        return await self.transport.send(method, url, headers=headers)


def _list_status(query: OrderQuery) -> tuple[str, bool]:
    """Alpaca's `status` for the query, and whether its answer needs no filtering by status here."""
    if query.statuses is None:
        return "all", True
    if query.open_only:
        return "open", query.statuses == OPEN_STATUSES
    if query.statuses.isdisjoint(OPEN_STATUSES):
        return "closed", query.statuses >= CLOSED_MESH_STATUSES
    return "all", False


def _wanted(snapshot: OrderSnapshot, query: OrderQuery) -> bool:
    if query.statuses is not None and snapshot.status not in query.statuses:
        return False
    return query.since is None or (snapshot.created_at is not None and snapshot.created_at >= query.since)


def _micros(value: Any) -> datetime | None:
    """An Alpaca time cut to whole microseconds (it sends up to nine fractional digits)."""
    match = _PRECISE.match(str(value or ""))
    if match is None:
        return None
    zone = match[3] if match[3] and match[3] != "Z" else "+00:00"
    micros = int((match[2] or "").ljust(6, "0")[:6])
    return datetime.fromisoformat(match[1] + zone).astimezone(UTC).replace(microsecond=micros)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_list(body: bytes) -> list[dict[str, Any]] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        return None
    return value


def _paper_hint(passphrase: str | None) -> bool | None:
    hint = (passphrase or "").strip().lower()
    if not hint:
        return None
    if hint not in ENVIRONMENT_HINTS:
        raise GatewayError(
            ErrorType.invalidField,
            "For Alpaca, authToken is optional and names the environment: 'paper' or 'live'.",
            error_data={"fields": {"authToken": "'paper', 'live' or absent"}},
        )
    return ENVIRONMENT_HINTS[hint]


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _failure(resp: UpstreamResponse, creds: Credentials) -> GatewayError:
    payload = _json_object(resp.body)
    if resp.status == 429:
        # Rate limiters in front of Alpaca answer 429 too; whoever said it, waiting is the answer.
        return GatewayError(
            ErrorType.rateLimited,
            "Alpaca answered HTTP 429",
            retry_after=_retry_after(resp.headers),
            upstream_status=resp.status,
        )
    if payload is None or resp.status >= 500:
        detail = " with an unreadable body" if payload is None else ""
        return GatewayError(
            ErrorType.institutionUnavailable,
            f"Alpaca answered HTTP {resp.status}{detail}",
            upstream_status=resp.status,
        )
    kind = ERROR_BY_STATUS.get(resp.status)
    if kind is None:
        kind = ErrorType.institutionRejected if 400 <= resp.status < 500 else ErrorType.institutionUnavailable
    message = _scrub(str(payload.get("message", "")), creds)
    return GatewayError(kind, f"Alpaca answered HTTP {resp.status}: {message}", upstream_status=resp.status)


def _retry_after(raw_headers: Any) -> int:
    headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}  # Alpaca spells it X-Ratelimit-Reset
    retry = headers.get("retry-after", "").strip()
    if retry.isdigit():
        return max(1, int(retry))
    reset = headers.get("x-ratelimit-reset", "").strip()
    if not reset.isdigit():
        return RATE_WINDOW_S
    # Reset is a unix time on Alpaca's clock; measuring it against Alpaca's own Date keeps our clock out of it.
    try:
        now = parsedate_to_datetime(headers.get("date", "")).timestamp()
    except (TypeError, ValueError):
        now = time.time()
    return min(max(1, round(int(reset) - now)), RATE_WINDOW_S)


def _unix(value: Any) -> int | None:
    # Alpaca sends RFC 3339 with up to nine fractional digits, which datetime.fromisoformat rejects.
    match = _TIMESTAMP.match(str(value or ""))
    if match is None:
        return None
    zone = match[2] if match[2] and match[2] != "Z" else "+00:00"
    return int(datetime.fromisoformat(match[1] + zone).timestamp())


def _split_symbol(symbol: str, asset_class: str) -> tuple[str | None, str | None]:
    """`BTC/USD` → (BTC, USD); legacy crypto `BTCUSD` → (BTC, USD); equities and options trade in USD."""
    if not symbol:
        return None, None
    if "/" in symbol:
        base, _, quote = symbol.partition("/")
        return base or None, quote or None
    if asset_class == "crypto":
        quote = next((q for q in _CRYPTO_QUOTES if symbol.endswith(q) and len(symbol) > len(q)), None)
        return (symbol[: -len(quote)], quote) if quote else (symbol, None)
    return symbol, "USD"


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    amount, filled = _number(entry.get("qty")), _number(entry.get("filled_qty"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    symbol = str(entry.get("symbol") or "")
    base, quote = _split_symbol(symbol, str(entry.get("asset_class") or ""))
    side = str(entry.get("side") or "")
    average = _number(entry.get("filled_avg_price"))
    created = _unix(entry.get("created_at"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=symbol or None,
        price=_number(entry.get("limit_price")) or average,
        value=filled * average if filled is not None and average is not None else None,
        order_type=ORDER_TYPE_MAP.get(str(entry.get("type") or entry.get("order_type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("time_in_force") or "")),
        created_at=created,
        updated_at=_unix(entry.get("updated_at")) or created,
        # Alpaca trades stocks and crypto on one account; each order says which (`asset_class`).
        asset_type=ASSET_TYPES.get(str(entry.get("asset_class") or "")),
    )
