"""Binance Spot REST: cancel one order, look one order up, verify a key (binance.com, testnet, Binance.US).

Every private call is one signed request with all parameters in the query string. Binance reports failures with
4xx/5xx and `{"code": -n, "msg": …}`; the message refines the code for matching-engine errors, and the HTTP
status decides only where no Binance code is readable (WAF 403, ban 418, rate limit 429, region 451, 5xx pages).

Two answers cost an extra request, and only on that error path:
- -1021 (timestamp outside recvWindow): the request was refused before processing, so the adapter reads
  `GET /api/v3/time`, adopts the offset and signs once more. If that fails too: institutionUnavailable, naming
  the gateway host's clock.
- -2015 on a cancel ("Invalid API-key, IP, or permissions for action"): the adapter signs a read of the same
  order. If the read is accepted, key and IP are fine and the key lacks the trade permission (403); otherwise
  the key or IP is what Binance refuses (401).
"""

from __future__ import annotations

import json
import math
import re
import time
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.killswitch import NativeResult, Touched, looked_up
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.binance import listing
from ordergate.venues.binance.auth import ServerClock, signed_query
from ordergate.venues.binance.constants import (
    ACCOUNT_NAMES,
    ACCOUNT_PATH,
    ALL_ORDERS_MAX_LIMIT,
    ALL_ORDERS_PATH,
    API_KEY_HEADER,
    BANNED_UNTIL,
    CANCEL_OPEN_ORDERS_PATH,
    CODE_MAP,
    DEFAULT_RETRY_AFTER_S,
    HTTP_STATUS_MAP,
    MESSAGE_MAP,
    OMIT_ZERO_BALANCES,
    OPEN_ORDERS_PATH,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    RECV_WINDOW_MS,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    TIME_PATH,
    Ambiguous,
    normalize_symbol,
    split_symbol,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import NotDelivered, OutcomeUnknown, Transport, TransportError, UpstreamResponse

# Binance's orderId is a Java long; it answers -1100 "Illegal characters found in parameter 'orderId'" for
# anything else. Such an id cannot name an order, so it is refused as the client's invalid field, unsent.
_ORDER_ID = re.compile(r"[0-9]{1,19}")
_MESSAGES = {text.rstrip("."): kind for text, kind in MESSAGE_MAP.items()}


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"
    probe = "probe"  # the read that tells a missing trade permission from a bad key after -2015
    cancel_all = "cancel_all"


class _NoSuchOrder(Exception):
    pass


class _NothingOpen(Exception):
    """-2011 on DELETE /api/v3/openOrders: the symbol has no open order."""


class _Archived(Exception):
    """-2026: cancelled or expired with nothing executed, more than 90 days ago."""


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("binance", api_key)


class BinanceAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, clock: ServerClock | None = None
    ) -> None:
        super().__init__(spec, base_url, transport)
        self.clock = clock if clock is not None else ServerClock()

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Binance API keys have no one-time code; an mfaCode is ignored, as Binance would have no use for it.
        params = [("omitZeroBalances", "true")] if self.spec.type in OMIT_ZERO_BALANCES else []
        await self._signed(creds, "GET", ACCOUNT_PATH, params, _Op.verify)
        return AccountInfo(account_fingerprint(creds.api_key), ACCOUNT_NAMES.get(self.spec.type, "Binance"), {})

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        params = self._order_params(order)
        status, body = await self._signed(creds, "DELETE", ORDER_PATH, params, _Op.cancel, order)
        venue_status = body.get("status")
        if not isinstance(venue_status, str):
            raise GatewayError(
                ErrorType.institutionUnavailable, "Binance's cancel answer has no status", upstream_status=status
            )
        confirmed = STATUS_MAP.get(venue_status) is OrderStatus.cancelled
        return CancelAck(order.id, OrderStatus.cancelled if confirmed else OrderStatus.inProgress, status)

    # DELETE /api/v3/openOrders works per symbol and cannot filter by side.
    cancel_all_filters: frozenset[str] = frozenset({"symbolPair"})

    async def cancel_all(self, creds: Credentials, symbol_pair: str | None, side: OrderSide | None) -> NativeResult:
        """One DELETE /api/v3/openOrders per symbol. Without symbolPair the open orders of every symbol are listed
        first (one request) to learn the symbols; a listed order the DELETE's answer does not name (filled or
        cancelled meanwhile) is looked up, so each is reported with its final state."""
        listed: dict[str, list[str]] = {}
        if symbol_pair:
            symbol = self._listing_symbol(OrderQuery(count=1, symbol_pair=symbol_pair))
            assert symbol is not None
            listed[symbol[0]] = []
        else:
            status, payload = await self._signed_any(creds, "GET", OPEN_ORDERS_PATH, [], _Op.listing)
            for row in _rows(status, payload):
                listed.setdefault(str(row.get("symbol") or ""), []).append(str(row.get("orderId")))
            listed.pop("", None)
        touched: list[Touched] = []
        for symbol, order_ids in listed.items():
            try:
                status, payload = await self._signed_any(
                    creds, "DELETE", CANCEL_OPEN_ORDERS_PATH, [("symbol", symbol)], _Op.cancel_all
                )
            except _NothingOpen:
                status, payload = 400, []
            except (GatewayError, NotDelivered, OutcomeUnknown):
                if len(listed) == 1 and not order_ids:
                    raise  # nothing named yet: the kill switch's own error answers it
                status, payload = None, []  # each listed order of this symbol is looked up below
            named = {str(entry.get("orderId")): entry for entry in _cancelled_entries(payload)}
            for order_id, entry in named.items():
                venue_status = STATUS_MAP.get(str(entry.get("status")))
                done = OrderStatus.cancelled if venue_status is OrderStatus.cancelled else OrderStatus.inProgress
                touched.append(Touched(order_id, CancelAck(order_id, done, status)))
            for order_id in (i for i in order_ids if i not in named):
                ref = OrderRef(order_id, True, None, symbol)
                try:
                    snapshot = await self.get_order(creds, ref)
                except (GatewayError, TransportError):
                    snapshot = None
                touched.append(Touched(order_id, looked_up(order_id, snapshot, status, "Binance")))
        return NativeResult(
            touched,
            how="Binance DELETE /api/v3/openOrders per symbol (open orders listed first when no symbolPair) names "
            "each order it cancelled; listed orders it did not name are looked up",
        )

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        params = self._order_params(order)
        try:
            _, body = await self._signed(creds, "GET", ORDER_PATH, params, _Op.lookup, order)
        except _NoSuchOrder:
            return None
        except _Archived:
            # Binance only says "canceled or expired"; either way final with nothing filled.
            return OrderSnapshot(order.id, OrderStatus.cancelled, "ARCHIVED", filled=0.0, symbol_pair=params[0][1])
        return _snapshot(order.id, body, normalize_symbol(order.symbol_pair or ""))

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        # Open orders of every symbol are one request (weight 80; 6 with a symbol). History exists per symbol only.
        if query.open_only:
            return await self._list_open(creds, query)
        if not query.symbol_pair:
            raise GatewayError(
                ErrorType.missingField,
                f"symbolPair must be provided to list orders other than open ones at {self.spec.name}: Binance keeps "
                "order history per symbol.",
                error_data={"fields": {"symbolPair": "required unless listing open orders"}},
            )
        return await self._list_all(creds, query)

    async def _list_open(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        symbol = self._listing_symbol(query)
        params = [("symbol", symbol[0])] if symbol else []
        status, payload = await self._signed_any(creds, "GET", OPEN_ORDERS_PATH, params, _Op.listing)
        rows = _rows(status, payload)
        keep = _keeper(query)
        since_ms = query.since * 1000 if query.since is not None else None
        matching = [r for r in rows if keep(r) and (since_ms is None or listing.key(r)[0] >= since_ms)]
        remaining = listing.older_than(matching, query.cursor)
        page = remaining[: query.count]
        cursor = None
        if len(remaining) > len(page):
            time_ms, order_id = listing.key(page[-1])
            cursor = {"phase": "open", "time": time_ms, "orderId": order_id}
        return OrderPage(tuple(_snapshot(str(r.get("orderId")), r, symbol) for r in page), cursor, len(matching))

    async def _list_all(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        symbol = self._listing_symbol(query)
        assert symbol is not None
        cursor = query.cursor if (query.cursor or {}).get("phase") == "all" else None
        tied = cursor.get("tied", 0) if cursor and isinstance(cursor.get("tied"), int) else 0
        limit = min(ALL_ORDERS_MAX_LIMIT, query.count + tied + 1)
        params = [("symbol", symbol[0])]
        if cursor and isinstance(cursor.get("time"), int):
            params.append(("endTime", str(cursor["time"])))
        params.append(("limit", str(limit)))
        status, payload = await self._signed_any(creds, "GET", ALL_ORDERS_PATH, params, _Op.listing)
        batch = _rows(status, payload)
        rows = listing.older_than(batch, cursor)
        since_ms = query.since * 1000 if query.since is not None else None
        taken = listing.take(rows, query.count, _keeper(query), since_ms)
        more = not taken.reached_since and (len(taken.consumed) < len(rows) or len(batch) >= limit)
        following = listing.next_cursor("all", cursor, taken) if more else None
        return OrderPage(tuple(_snapshot(str(r.get("orderId")), r, symbol) for r in taken.rows), following)

    def _listing_symbol(self, query: OrderQuery) -> tuple[str, tuple[str, str] | None] | None:
        if not query.symbol_pair:
            return None
        normalized = normalize_symbol(query.symbol_pair)
        if normalized is None:
            raise GatewayError(
                ErrorType.invalidField,
                "symbolPair is not a Binance symbol (e.g. BTCUSDT or BTC/USDT)",
                error_data={"fields": {"symbolPair": "a base and quote asset, e.g. BTCUSDT, BTC/USDT or BTC-USDT"}},
            )
        return normalized

    def _order_params(self, order: OrderRef) -> list[tuple[str, str]]:
        if not order.symbol_pair:
            # The cancel service checks this first; the details endpoint reaches here without that check.
            raise GatewayError(
                ErrorType.missingField,
                f"symbolPair must be provided for orders at {self.spec.name}.",
                error_data={"fields": {"symbolPair": f"required for {self.spec.type.value}"}},
            )
        normalized = normalize_symbol(order.symbol_pair)
        if normalized is None:
            raise GatewayError(
                ErrorType.invalidField,
                "symbolPair is not a Binance symbol (e.g. BTCUSDT or BTC/USDT)",
                error_data={"fields": {"symbolPair": "a base and quote asset, e.g. BTCUSDT, BTC/USDT or BTC-USDT"}},
            )
        if not _ORDER_ID.fullmatch(order.id) or int(order.id) >= 2**63:
            raise GatewayError(
                ErrorType.invalidField,
                "A Binance order id is a number such as 28457; this one cannot name a Binance order",
                error_data={"fields": {"id": "a Binance orderId: digits only"}},
            )
        return [("symbol", normalized[0]), ("orderId", order.id)]

    def _refuse_production_in_testnet(self) -> None:
        # Binance.US has no test environment; a testnet deployment must not reach a live exchange by default.
        live = (self.spec.production_url or "").rstrip("/")
        if self.testnet and self.spec.testnet_url is None and self.base_url == live:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                f"{self.spec.name} has no test environment; in testnet mode ordergate does not call {live}",
            )

    async def _signed(
        self,
        creds: Credentials,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        op: _Op,
        order: OrderRef | None = None,
    ) -> tuple[int, dict[str, Any]]:
        status, payload = await self._signed_any(creds, method, path, params, op, order)
        if not isinstance(payload, dict):
            raise GatewayError(
                ErrorType.institutionUnavailable, "Binance's answer is not an object", upstream_status=status
            )
        return status, payload

    async def _signed_any(
        self,
        creds: Credentials,
        method: str,
        path: str,
        params: list[tuple[str, str]],
        op: _Op,
        order: OrderRef | None = None,
    ) -> tuple[int, Any]:
        """One signed request; the answer is an object for single orders and an array for listings."""
        self._refuse_production_in_testnet()
        for attempt in range(2):
            query = signed_query(params, self.clock.now_ms(), RECV_WINDOW_MS, creds.secret)
            headers = {API_KEY_HEADER: creds.api_key}
            resp = await self.transport.send(method, f"{self.base_url}{path}?{query}", headers=headers)
            payload = _json(resp.body)
            error = _binance_error(payload if isinstance(payload, dict) else None)
            if resp.status < 400 and payload is not None and error is None:
                return resp.status, payload
            kind = _classify(resp.status, error)
            if kind is Ambiguous.clockSkew and attempt == 0 and await self._resync():
                continue
            raise await self._failure(op, resp, error, kind, creds, order)
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _resync(self) -> bool:
        sent = self.clock.local_ms()
        try:
            resp = await self.transport.send("GET", self.base_url + TIME_PATH)
        except TransportError:
            return False
        received = self.clock.local_ms()
        server = (_json_object(resp.body) or {}).get("serverTime")
        if resp.status != 200 or not isinstance(server, int):
            return False
        self.clock.learn(server, sent, received)
        return True

    async def _failure(
        self,
        op: _Op,
        resp: UpstreamResponse,
        error: tuple[int, str] | None,
        kind: ErrorType | Ambiguous,
        creds: Credentials,
        order: OrderRef | None,
    ) -> Exception:
        status = resp.status
        text = _scrub(f"{error[0]} {error[1]}" if error else f"HTTP {status}", creds)
        message = f"Binance answered {text}" if error else f"Binance answered HTTP {status} without a Binance error"

        if kind in (Ambiguous.unknownOrder, Ambiguous.noSuchOrder, Ambiguous.archived):
            if op is _Op.cancel_all:
                return _NothingOpen()
            if op is _Op.cancel:
                return UnknownOrderAtVenue(status, text)
            if op in (_Op.lookup, _Op.probe):
                return _Archived() if kind is Ambiguous.archived else _NoSuchOrder()
            kind = ErrorType.institutionRejected
        elif kind is Ambiguous.outcomeUnknown:
            if op in (_Op.cancel, _Op.cancel_all):
                return OutcomeUnknown(text)
            kind = ErrorType.institutionUnavailable
        elif kind is Ambiguous.clockSkew:
            return GatewayError(
                ErrorType.institutionUnavailable,
                f"{message}: the request timestamp is outside Binance's {RECV_WINDOW_MS} ms window and "
                "re-synchronising with Binance's server time did not help; check the gateway host's clock (NTP) "
                "and its latency to Binance",
                upstream_status=status,
            )
        elif kind is Ambiguous.keyOrPermission:
            if op is _Op.cancel and order is not None and await self._key_can_read(creds, order):
                return GatewayError(
                    ErrorType.institutionPermissionDenied,
                    f"{message}: the key can read this order but may not cancel it; enable Spot trading for it",
                    upstream_status=status,
                )
            kind = ErrorType.institutionAuthFailed
            message += ": Binance refuses this API key, the calling IP, or the key's permissions"
        elif kind is Ambiguous.badSymbol:
            return GatewayError(
                ErrorType.institutionRejected,
                message,
                error_data={"fields": {"symbolPair": "not a symbol this Binance venue lists"}},
                upstream_status=status,
            )
        elif kind is Ambiguous.requestWeight:
            banned = status == 418 or (error is not None and BANNED_UNTIL.search(error[1]) is not None)
            kind = ErrorType.institutionLocked if banned else ErrorType.rateLimited
        assert isinstance(kind, ErrorType)
        retry = _retry_after(kind, resp, error) if kind in DEFAULT_RETRY_AFTER_S else None
        return GatewayError(kind, message, retry_after=retry, upstream_status=status)

    async def _key_can_read(self, creds: Credentials, order: OrderRef) -> bool:
        try:
            await self._signed(creds, "GET", ORDER_PATH, self._order_params(order), _Op.probe, order)
        except (_NoSuchOrder, _Archived):
            return True  # Binance checked key, IP and signature before looking for the order
        except (GatewayError, TransportError, UnknownOrderAtVenue):
            return False
        return True


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    value = _json(body)
    return value if isinstance(value, dict) else None


def _rows(status: int, payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, list):
        raise GatewayError(
            ErrorType.institutionUnavailable, "Binance's order list is not an array", upstream_status=status
        )
    return listing.newest_first(payload)


def _keeper(query: OrderQuery) -> Any:
    statuses = query.statuses
    return lambda row: statuses is None or STATUS_MAP.get(str(row.get("status")), OrderStatus.unknown) in statuses


def _cancelled_entries(payload: Any) -> list[dict[str, Any]]:
    """The orders in DELETE /api/v3/openOrders's answer; an order list's own orders are in its `orderReports`."""
    entries: list[dict[str, Any]] = []
    for entry in payload if isinstance(payload, list) else []:
        if not isinstance(entry, dict):
            continue
        reports = entry.get("orderReports")
        if isinstance(reports, list):
            entries += [r for r in reports if isinstance(r, dict) and r.get("orderId") is not None]
        elif entry.get("orderId") is not None:
            entries.append(entry)
    return entries


def _binance_error(payload: dict[str, Any] | None) -> tuple[int, str] | None:
    if payload is None:
        return None
    code, msg = payload.get("code"), payload.get("msg")
    if isinstance(code, int) and not isinstance(code, bool) and isinstance(msg, str):
        return code, msg
    return None


def _classify(status: int, error: tuple[int, str] | None) -> ErrorType | Ambiguous:
    # A ban or a regional block is what the status says, whatever code accompanies it (451 carries code 0).
    if status in (418, 451):
        return HTTP_STATUS_MAP[status]
    if error is not None:
        kind = _MESSAGES.get(error[1].strip().rstrip(".")) or CODE_MAP.get(error[0])
        if kind is not None:
            return kind
    if status in HTTP_STATUS_MAP:
        return HTTP_STATUS_MAP[status]
    if error is not None and 400 <= status < 500:
        return ErrorType.institutionRejected  # "4XX: the issue is on the sender's side"
    return ErrorType.institutionUnavailable  # 5XX, an error page, or an answer that is not Binance's


def _retry_after(kind: ErrorType, resp: UpstreamResponse, error: tuple[int, str] | None) -> int:
    header = str(resp.headers.get("Retry-After", "")).strip()
    if header.isdigit():
        return max(1, int(header))
    until = BANNED_UNTIL.search(error[1]) if error else None
    if until is not None:
        return max(1, math.ceil((int(until.group(1)) - time.time() * 1000) / 1000))
    return DEFAULT_RETRY_AFTER_S[kind]


def _seconds(value: Any) -> int | None:
    return int(value) // 1000 if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _snapshot(
    order_id: str, body: dict[str, Any], requested: tuple[str, tuple[str, str] | None] | None
) -> OrderSnapshot:
    venue_status = str(body.get("status", ""))
    symbol = str(body.get("symbol") or "")
    split = requested[1] if requested and requested[1] and "".join(requested[1]) == symbol else None
    base, quote = split or split_symbol(symbol)
    amount, filled = _number(body.get("origQty")), _number(body.get("executedQty"))
    value = _number(body.get("cummulativeQuoteQty"))  # sic: Binance's spelling
    average = value / filled if value and filled else None
    order_type = str(body.get("type") or "")
    time_in_force = TIME_IN_FORCE_MAP.get(str(body.get("timeInForce")))
    side = str(body.get("side") or "").lower()
    created = _seconds(body.get("time")) or _seconds(body.get("transactTime"))
    return OrderSnapshot(
        order_id,
        STATUS_MAP.get(venue_status, OrderStatus.unknown),
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=symbol or None,
        price=_number(body.get("price")) or average,  # a MARKET order's price is "0.00000000"
        fee=None,  # Binance reports commissions per trade (myTrades), not on the order
        value=value,
        order_type=ORDER_TYPE_MAP.get(order_type),
        time_in_force="postOnly" if order_type == "LIMIT_MAKER" else time_in_force,
        created_at=created,
        updated_at=_seconds(body.get("updateTime")) or created,
    )
