"""Bybit v5: cancel one spot order, look one order up, verify a key.

Bybit answers HTTP 200 with `{"retCode": n, ...}` for business errors, so retCode decides and only 0 is success;
the HTTP status matters only when there is no readable retCode. Its cancel needs the symbol: with `symbolPair`
the cancel is one request; without it the order is first found by id (`/v5/order/realtime`), so two.
The cancel acknowledgement is asynchronous at Bybit ("the request is successfully accepted"), and a fill can
still race it, so an accepted cancel is reported `inProgress`; lookups show `cancelled` once it has settled.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from json.encoder import encode_basestring_ascii
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.killswitch import NativeResult, Touched
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.jsonfast import loads_bytes
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.bybit import listing
from ordergate.venues.bybit.auth import now_ms, signed_headers, signing_mac
from ordergate.venues.bybit.constants import (
    CANCEL_ALL_PATH,
    CANCEL_BATCH_MAX,
    CANCEL_BATCH_PATH,
    CANCEL_PATH,
    CATEGORY,
    ERROR_MAP,
    HEADER_LIMIT_RESET,
    HISTORY_PATH,
    IP_BLOCK_S,
    LIST_LIMIT_MAX,
    LIST_REQUESTS_PER_PHASE,
    ORDER_TYPE_MAP,
    REALTIME_PATH,
    RECV_WINDOW_MS,
    RETRY_AFTER_S,
    STATUS_MAP,
    STOP_ORDER_TYPE_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
    Ambiguous,
    normalize_symbol,
    split_symbol,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import OutcomeUnknown, Transport, UpstreamResponse

# Bybit order ids are digits (spot) or UUIDs (derivatives). Anything else cannot name an order, and keeping to
# this alphabet means the query string is sent (and signed) exactly as built: nothing in it needs escaping.
_ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LIVE = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"
    cancel_all = "cancel_all"


class _CancelPending(Exception):
    """retCode 170212: Bybit is already processing a cancel of this order."""

    def __init__(self, upstream_status: int) -> None:
        super().__init__("cancel order request processing")
        self.upstream_status = upstream_status


def cancel_body(symbol: str, order_id: str) -> bytes:
    """The exact JSON that is signed and sent: compact, in the documented field order. Byte for byte what
    json.dumps of {"category", "symbol", "orderId"} with separators (",", ":") gives, from a template."""
    return (
        _CANCEL_HEAD + encode_basestring_ascii(symbol) + ',"orderId":' + encode_basestring_ascii(order_id) + "}"
    ).encode()


_CANCEL_HEAD = '{"category":' + encode_basestring_ascii(CATEGORY) + ',"symbol":'


def cancel_batch_body(orders: Sequence[tuple[str, str]]) -> bytes:
    request = [{"symbol": symbol, "orderId": order_id} for symbol, order_id in orders]
    return json.dumps({"category": CATEGORY, "request": request}, separators=(",", ":")).encode()


def lookup_query(order_id: str) -> bytes:
    return urlencode([("category", CATEGORY), ("orderId", order_id)]).encode()


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("bybit", api_key)


class BybitAdapter(Adapter):
    max_batch = CANCEL_BATCH_MAX

    def __init__(
        self,
        spec: VenueSpec,
        base_url: str,
        transport: Transport,
        *,
        clock: Callable[[], int] = now_ms,
        recv_window_ms: int = RECV_WINDOW_MS,
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._clock = clock
        self._recv_window = recv_window_ms

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Bybit keys have no per-request second factor, so an mfaCode has nothing to be checked against.
        _, result = await self._request(creds, "GET", VERIFY_PATH, b"", _Op.verify)
        if result.get("readOnly") == 1:
            # Connecting it would hand out a token whose every cancel fails with 403; say so now.
            raise GatewayError(
                ErrorType.institutionPermissionDenied,
                "This Bybit API key is read-only: it cannot cancel orders. Use a key with Spot trade permission.",
            )
        uid = result.get("userID")
        has_uid = isinstance(uid, int | str) and not isinstance(uid, bool) and str(uid).isdigit()
        return AccountInfo(
            account_id=f"bybit-{uid}" if has_uid else account_fingerprint(creds.api_key),
            account_name="Bybit",
        )

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        _require_order_id(order.id)
        if order.symbol_pair:
            symbol = _symbol_from(order.symbol_pair)
        else:
            symbol = await self._open_order_symbol(creds, order.id)
        try:
            status, result = await self._request(creds, "POST", CANCEL_PATH, cancel_body(symbol, order.id), _Op.cancel)
        except _CancelPending as pending:
            return CancelAck(order.id, OrderStatus.inProgress, pending.upstream_status)
        if result.get("orderId") != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Bybit's cancel acknowledgement does not name the order",
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.inProgress, status)

    cancel_all_filters: frozenset[str] = frozenset({"symbolPair"})

    async def cancel_all(self, creds: Credentials, symbol_pair: str | None, side: OrderSide | None) -> NativeResult:
        """One `POST /v5/order/cancel-all`; each order it names is acknowledged (`inProgress`), as a single cancel."""
        fields: dict[str, str] = {"category": CATEGORY}
        if symbol_pair:
            fields["symbol"] = _symbol_from(symbol_pair)
        body = json.dumps(fields, separators=(",", ":")).encode()
        status, result = await self._request(creds, "POST", CANCEL_ALL_PATH, body, _Op.cancel_all)
        listed = result.get("list")
        if not isinstance(listed, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "Bybit's cancel-all answer has no list", upstream_status=status
            )
        ids = [str(e.get("orderId")) for e in listed if isinstance(e, dict) and e.get("orderId")]
        touched = [Touched(i, CancelAck(i, OrderStatus.inProgress, status)) for i in ids]
        return NativeResult(touched, how="Bybit cancel-all lists each order it accepted to cancel")

    async def cancel_batch(self, creds: Credentials, orders: Sequence[OrderRef]) -> list[CancelAck | Exception]:
        """One cancel-batch; `retExtInfo.list[i]` is read as the single cancel reads its retCode. An order without
        symbolPair is first found by id, as for a single cancel; one that cannot be is answered without sending."""
        outcomes: list[CancelAck | Exception | None] = [None] * len(orders)
        sent: list[tuple[int, str]] = []  # (position, symbol)
        for position, order in enumerate(orders):
            _require_order_id(order.id)
            try:
                symbol = _symbol_from(order.symbol_pair) if order.symbol_pair else None
                sent.append((position, symbol or await self._open_order_symbol(creds, order.id)))
            except (GatewayError, UnknownOrderAtVenue) as exc:
                outcomes[position] = exc
        if sent:
            body = cancel_batch_body([(symbol, orders[position].id) for position, symbol in sent])
            resp, data = await self._send(creds, "POST", CANCEL_BATCH_PATH, body, _Op.cancel)
            results = _listed(data.get("result"))
            infos = _listed(data.get("retExtInfo"))
            if len(results) != len(sent) or len(infos) != len(sent):
                raise GatewayError(
                    ErrorType.institutionUnavailable,
                    "Bybit's batch cancel answer has no result per order",
                    upstream_status=resp.status,
                )
            for (position, _), result, info in zip(sent, results, infos, strict=True):
                outcomes[position] = self._batch_item(resp, orders[position], result, info, creds)
        return [outcome for outcome in outcomes if outcome is not None]

    def _batch_item(
        self, resp: UpstreamResponse, order: OrderRef, result: dict[str, Any], info: dict[str, Any], creds: Credentials
    ) -> CancelAck | Exception:
        code = _number(info.get("code"))
        if code is None:
            return GatewayError(ErrorType.institutionUnavailable, "Bybit's batch answer has no code for an order")
        if code != 0:
            failure = self._venue_failure(_Op.cancel, resp, int(code), str(info.get("msg", "")), creds)
            if isinstance(failure, _CancelPending):
                return CancelAck(order.id, OrderStatus.inProgress, resp.status)
            return failure
        if result.get("orderId") != order.id:
            return GatewayError(
                ErrorType.institutionUnavailable,
                "Bybit's batch acknowledgement does not name the order",
                upstream_status=resp.status,
            )
        return CancelAck(order.id, OrderStatus.inProgress, resp.status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        _require_order_id(order.id)
        wanted = _symbol_from(order.symbol_pair) if order.symbol_pair else None
        _, entry = await self._find(creds, REALTIME_PATH, order.id)
        if entry is None:
            # realtime keeps only the latest 500 closed orders and forgets them when Bybit restarts.
            _, entry = await self._find(creds, HISTORY_PATH, order.id)
        if entry is None:
            return None
        snapshot = _snapshot(order.id, entry)
        if wanted and snapshot.symbol_pair != wanted:
            # Bybit cancels by (symbol, orderId): with the wrong symbol it answers "does not exist" for an order
            # that does. Naming the real symbol is the definite answer.
            raise GatewayError(
                ErrorType.invalidField,
                f"symbolPair {wanted} does not match the order's symbol {snapshot.symbol_pair}",
                error_data={"fields": {"symbolPair": f"the order is on {snapshot.symbol_pair}"}},
            )
        return snapshot

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """Open orders from /realtime, then final ones from /history, each paged by Bybit's nextPageCursor. A page
        that ends one phase with room left goes on into the next. /history also returns orders still open, which
        /realtime listed already; a page with room left after dropping them asks for the next /history page, at most
        LIST_REQUESTS_PER_PHASE times, so a page is full unless the walk ends (not a page of 0 with a cursor)."""
        symbol = _symbol_from(query.symbol_pair) if query.symbol_pair else None
        cursor = query.cursor or {}
        orders: list[OrderSnapshot] = []
        for phase in listing.phases(query):
            room = query.count - len(orders)
            if room <= 0:
                return OrderPage(tuple(orders), {**cursor, "phase": phase} if phase != cursor.get("phase") else cursor)
            if phase != cursor.get("phase"):
                cursor = {"phase": phase}
            if phase == listing.HISTORY_PHASE and "window" not in cursor:
                now = self._clock()
                if query.since is not None and query.since * 1000 > now:
                    break  # nothing has closed after a time still to come; Bybit refuses such a window (10001)
                cursor = {**cursor, "window": listing.history_window(query.since, now)}
            for _ in range(LIST_REQUESTS_PER_PHASE):
                limit = min(query.count - len(orders), LIST_LIMIT_MAX)
                entries, token = await self._list_phase(creds, query, phase, cursor, symbol, limit)
                orders += [
                    _snapshot(str(e.get("orderId")), e) for e in entries if listing.keeps(query.statuses, phase, e)
                ]
                if not token:
                    break
                cursor = {**cursor, "token": token}
                if len(orders) >= query.count:
                    return OrderPage(tuple(orders), cursor)
            else:
                return OrderPage(tuple(orders), cursor)
            cursor = {}
        return OrderPage(tuple(orders), None)

    async def _list_phase(
        self,
        creds: Credentials,
        query: OrderQuery,
        phase: str,
        cursor: dict[str, Any],
        symbol: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str]:
        params = [("category", CATEGORY)] + ([("symbol", symbol)] if symbol else [])
        if phase == listing.OPEN_PHASE:
            path = REALTIME_PATH
            params.append(("openOnly", "0"))
        else:
            path = HISTORY_PATH
            final = listing.history_statuses(query.statuses)
            if len(final) == 1:
                params.append(("orderStatus", next(iter(final))))
            window = cursor.get("window")
            if isinstance(window, list | tuple) and len(window) == 2:
                params += [("startTime", str(window[0])), ("endTime", str(window[1]))]
        params.append(("limit", str(limit)))
        if isinstance(cursor.get("token"), str):
            params.append(("cursor", cursor["token"]))
        status, result = await self._request(creds, "GET", path, urlencode(params).encode(), _Op.listing)
        entries, token = result.get("list"), result.get("nextPageCursor")
        if not isinstance(entries, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "Bybit's order list is missing", upstream_status=status
            )
        kept = [e for e in entries if isinstance(e, dict)]
        if query.since is not None:
            kept = [e for e in kept if (_number(e.get("createdTime")) or 0) >= query.since * 1000]
        # An empty page with a token would be walked forever; Bybit's last page has no rows or no token.
        return kept, token if isinstance(token, str) and token and entries else ""

    async def _open_order_symbol(self, creds: Credentials, order_id: str) -> str:
        """Without symbolPair: find the order first. A final or unknown order is left to the cancel service."""
        status, entry = await self._find(creds, REALTIME_PATH, order_id)
        mapped = STATUS_MAP.get(str(entry.get("orderStatus"))) if entry is not None else None
        if entry is None or (mapped is not None and mapped not in _LIVE):  # an unmapped status is tried
            raise UnknownOrderAtVenue(status, "no open Bybit order with this id")
        symbol = normalize_symbol(str(entry.get("symbol") or ""))
        if symbol is None:
            raise GatewayError(ErrorType.institutionUnavailable, "Bybit's order has no symbol", upstream_status=status)
        return symbol

    async def _find(self, creds: Credentials, path: str, order_id: str) -> tuple[int | None, dict[str, Any] | None]:
        try:
            status, result = await self._request(creds, "GET", path, lookup_query(order_id), _Op.lookup)
        except UnknownOrderAtVenue as exc:
            return exc.upstream_status, None
        listed = result.get("list")
        if not isinstance(listed, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "Bybit's order list is missing", upstream_status=status
            )
        # Filtered again here: the list must be about this id, whatever Bybit's query priority does.
        return status, next((e for e in listed if isinstance(e, dict) and e.get("orderId") == order_id), None)

    async def _request(
        self, creds: Credentials, method: str, path: str, payload: bytes, op: _Op
    ) -> tuple[int, dict[str, Any]]:
        resp, data = await self._send(creds, method, path, payload, op)
        return resp.status, data["result"]

    async def _send(
        self, creds: Credentials, method: str, path: str, payload: bytes, op: _Op
    ) -> tuple[UpstreamResponse, dict[str, Any]]:
        """The whole answer of a request whose retCode is 0 and which has a result; anything else raises."""
        keyed = creds.memo.get("bybit_mac")
        if keyed is None:
            keyed = creds.memo["bybit_mac"] = signing_mac(creds.secret)
        headers = signed_headers(creds.api_key, keyed, self._clock(), self._recv_window, payload)  # type: ignore[arg-type]
        if method == "GET":
            url, body = self.base_url + path + ("?" + payload.decode() if payload else ""), None
        else:
            url, body = self.base_url + path, payload
            headers["Content-Type"] = "application/json"
        resp = await self.transport.send(method, url, headers=headers, body=body)

        data = _json_object(resp.body)
        code = data.get("retCode") if data is not None else None
        if type(code) is int and code != 0:
            raise self._venue_failure(op, resp, code, str(data.get("retMsg", "")) if data else "", creds)
        if resp.status >= 400 or data is None:
            raise self._http_failure(resp)
        result = data.get("result")
        if code != 0 or not isinstance(result, dict):
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Bybit's answer has no retCode 0 and result",
                upstream_status=resp.status,
            )
        return resp, data

    def _venue_failure(self, op: _Op, resp: UpstreamResponse, code: int, msg: str, creds: Credentials) -> Exception:
        text = _scrub(f"retCode {code}: {msg}", creds)
        message = f"Bybit answered {text}"
        kind = ERROR_MAP.get(code)
        if kind is None:
            return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
        if kind is Ambiguous.unknownOrder:
            if op in (_Op.verify, _Op.listing, _Op.cancel_all):
                return GatewayError(ErrorType.institutionRejected, message, upstream_status=resp.status)
            return UnknownOrderAtVenue(resp.status, text)
        if kind is Ambiguous.outcomeUnknown and op in (_Op.cancel, _Op.cancel_all):
            return OutcomeUnknown(text)
        if kind is Ambiguous.cancelPending and op is _Op.cancel:
            return _CancelPending(resp.status)
        if isinstance(kind, Ambiguous):  # a timeout or a pending cancel while only reading
            return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
        if code == 10002:
            message += " (the gateway's clock or the network delay is off by more than the receive window)"
        retry = None
        if kind in (ErrorType.rateLimited, ErrorType.institutionLocked):
            retry = self._reset_after(resp.headers) or RETRY_AFTER_S.get(code)
        return GatewayError(kind, message, retry_after=retry, upstream_status=resp.status)

    def _http_failure(self, resp: UpstreamResponse) -> GatewayError:
        status = resp.status
        if status == 403:
            # Bybit's own 403 is its IP rate limit ("access too frequent", blocked >= 10 min); its CloudFront edge
            # answers 403 too for blocked countries (US IPs), which is a legal block, not a rate limit.
            if b"block access from your country" in resp.body:
                return GatewayError(
                    ErrorType.institutionRestricted, "Bybit refuses this region (HTTP 403)", upstream_status=status
                )
            return GatewayError(
                ErrorType.rateLimited,
                "Bybit blocked the gateway's IP for exceeding its IP rate limit (HTTP 403)",
                retry_after=IP_BLOCK_S,
                upstream_status=status,
            )
        if status == 401:
            return GatewayError(
                ErrorType.institutionAuthFailed,
                "Bybit answered HTTP 401: the key is not valid on this host (mainnet, testnet and demo keys differ)",
                upstream_status=status,
            )
        if status == 429:
            header = _header(resp.headers, "Retry-After")
            retry = int(header) if header and header.isdigit() else self._reset_after(resp.headers) or 1
            return GatewayError(
                ErrorType.rateLimited, "Bybit answered HTTP 429", retry_after=retry, upstream_status=429
            )
        # An error page in front of Bybit does not prove the engine ignored the request; the cancel service looks
        # the order up after institutionUnavailable, which covers that.
        detail = "" if _json_object(resp.body) is not None else " with an unreadable body"
        return GatewayError(
            ErrorType.institutionUnavailable, f"Bybit answered HTTP {status}{detail}", upstream_status=status
        )

    def _reset_after(self, headers: Mapping[str, str]) -> int | None:
        """Seconds until X-Bapi-Limit-Reset-Timestamp (ms), when it lies in the future."""
        stamp = _header(headers, HEADER_LIMIT_RESET)
        if not stamp or not stamp.isdigit():
            return None
        wait_ms = int(stamp) - self._clock()
        return math.ceil(wait_ms / 1000) if wait_ms > 0 else None


def _listed(value: Any) -> list[dict[str, Any]]:
    listed = value.get("list") if isinstance(value, dict) else None
    return [item if isinstance(item, dict) else {} for item in listed] if isinstance(listed, list) else []


def _require_order_id(order_id: str) -> None:
    if not _ORDER_ID.match(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            "A Bybit order id is its orderId: digits for spot orders, a UUID for derivatives",
            error_data={"fields": {"id": "a Bybit orderId (letters, digits, '-' or '_', at most 64)"}},
        )


def _symbol_from(pair: str) -> str:
    symbol = normalize_symbol(pair)
    if symbol is None:
        raise GatewayError(
            ErrorType.invalidField,
            "symbolPair must name a Bybit symbol such as BTCUSDT, BTC/USDT or BTC-USDT",
            error_data={"fields": {"symbolPair": "a Bybit symbol such as BTCUSDT"}},
        )
    return symbol


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((str(v).strip() for k, v in headers.items() if k.lower() == wanted), None)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = loads_bytes(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _fee(entry: dict[str, Any]) -> float | None:
    # Spot reports fees per coin in cumFeeDetail (cumExecFee is deprecated there); one number only makes sense
    # when there is one coin.
    detail = entry.get("cumFeeDetail")
    if isinstance(detail, dict) and len(detail) == 1:
        return _number(next(iter(detail.values())))
    return _number(entry.get("cumExecFee")) if entry.get("cumExecFee") not in (None, "") else None


def _order_type(entry: dict[str, Any]) -> str | None:
    stop = STOP_ORDER_TYPE_MAP.get(str(entry.get("stopOrderType") or ""))
    kind = ORDER_TYPE_MAP.get(str(entry.get("orderType") or ""))
    return "stopLimit" if stop == "stopLoss" and kind == "limit" else stop or kind


def _seconds(ms: Any) -> int | None:
    value = _number(ms)
    return int(value // 1000) if value else None


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("orderStatus") or "")
    symbol = str(entry.get("symbol") or "")
    base, quote = split_symbol(symbol)
    side = {"Buy": OrderSide.buy, "Sell": OrderSide.sell}.get(str(entry.get("side")))
    created = _seconds(entry.get("createdTime"))
    return OrderSnapshot(
        order_id,
        STATUS_MAP.get(venue_status, OrderStatus.unknown),
        venue_status,
        _number(entry.get("qty")),
        _number(entry.get("cumExecQty")),
        side=side,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=symbol or None,
        # Market orders carry price "0"; the average fill price is the better number then.
        price=_number(entry.get("price")) or _number(entry.get("avgPrice")) or None,
        fee=_fee(entry),
        value=_number(entry.get("cumExecValue")),
        order_type=_order_type(entry),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("timeInForce") or "")),
        created_at=created,
        updated_at=_seconds(entry.get("updatedTime")) or created,
    )
