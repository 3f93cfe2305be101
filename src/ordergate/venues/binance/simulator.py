"""A local api.binance.com (and api.binance.us: same API) for the Spot REST calls ordergate and common SDKs make.

Protocol as Binance speaks it: `X-MBX-APIKEY`, HMAC-SHA256 hex over totalParams (the raw query string
concatenated with the raw form body, `signature` left out, wherever it was sent), the timing rule
`timestamp < server + 1000 and server - timestamp <= recvWindow`, query parameters winning over body ones,
-1104 for parameters an endpoint does not read, and 4xx/5xx with `{"code": -n, "msg": …}` for failures.

    POST|DELETE|GET /api/v3/order   (place | cancel | query)      GET /api/v3/openOrders, /api/v3/account
    DELETE /api/v3/openOrders       (cancel every open order of one symbol; -2011 when it has none)
    GET /api/v3/allOrders           (every order of one symbol: orderId / startTime / endTime / limit)
    GET /api/v3/time, /api/v3/ping  (unsigned)

Answers follow Binance: cancelling an order that is unknown, foreign, filled or already cancelled gives -2011
"Unknown order sent."; querying one that is unknown or foreign gives -2013 "Order does not exist."; a key without
trade permission gets -2015 (HTTP 401) on place and cancel but can read; every response carries
`X-MBX-USED-WEIGHT-1M`.

Control surface: simkit's (`/_control/accounts`, `/orders`, `/orders/{id}`, `/orders/{id}/fill`, `/faults`,
`/stats`) plus `POST /_control/orders/{id}/expire {"status"?: "EXPIRED" | "EXPIRED_IN_MATCH"}`. Operation names
for faults and counts: place, cancel, query, openOrders, cancelOpenOrders (the DELETE), allOrders, account, time,
ping. `venue_error` takes simkit's symbolic names or a Binance code, optionally with its message: "-2011" or
"-2011:Order was canceled".
Binance has no acknowledged-only cancel (PENDING_CANCEL is "currently unused"), so the `pending` fault is ignored.
"""

from __future__ import annotations

import hmac
import re
import secrets
import string
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import count
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.binance.auth import sign
from ordergate.venues.binance.constants import API_KEY_HEADER, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, control_endpoint

SYMBOLS = frozenset({"BTCUSDT", "ETHUSDT", "BNBUSDT", "ETHBTC", "BTCUSD", "币安人生USDT"})
_LIVE = frozenset({"NEW", "PARTIALLY_FILLED"})
_ORDER_OPS = {"POST": "place", "DELETE": "cancel", "GET": "query"}
_TRADE_OPS = frozenset({"place", "cancel", "cancelOpenOrders"})
_WEIGHTS = {"place": 1, "cancel": 1, "cancelOpenOrders": 1, "query": 4, "openOrders": 6, "allOrders": 20,
            "account": 20, "time": 1, "ping": 1}  # fmt: skip
_ALL_SYMBOLS_OPEN_ORDERS_WEIGHT = 80
_DAY_MS = 24 * 3600 * 1000
_READS = {  # parameters each endpoint reads besides timestamp and recvWindow (-1104 for any other)
    "place": {"symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "newClientOrderId",
              "newOrderRespType", "selfTradePreventionMode", "stopPrice", "icebergQty", "strategyId", "strategyType"},
    "cancel": {"symbol", "orderId", "origClientOrderId", "newClientOrderId", "cancelRestrictions"},
    "query": {"symbol", "orderId", "origClientOrderId"},
    "openOrders": {"symbol"},
    "cancelOpenOrders": {"symbol"},
    "allOrders": {"symbol", "orderId", "startTime", "endTime", "limit"},
    "account": {"omitZeroBalances"},
}  # fmt: skip
_KEY_FORMAT = re.compile(r"[A-Za-z0-9]{1,100}")
_ALNUM = string.ascii_letters + string.digits
# code → (HTTP status, Binance's message) for the errors the simulator gives, from errors.md.
_ERRORS: dict[int, tuple[int, str]] = {
    -1000: (500, "An unknown error occurred while processing the request."),
    -1001: (503, "Internal error; unable to process your request. Please try again."),
    -1003: (429, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE. "
                 "Please use WebSocket Streams for live updates to avoid polling the API."),
    -1006: (503, "An unexpected response was received from the message bus. Execution status unknown."),
    -1007: (503, "Timeout waiting for response from backend server. Send status unknown; execution status unknown."),
    -1008: (503, "Server is currently overloaded with other requests. Please try again in a few minutes."),
    -1015: (429, "Too many new orders; current limit is 50 orders per 10 SECOND."),  # no Retry-After for these
    -1021: (400, "Timestamp for this request is outside of the recvWindow."),
    -1022: (400, "Signature for this request is not valid."),
    -1100: (400, "Illegal characters found in a parameter."),
    -1101: (400, "Duplicate values for a parameter detected."),
    -1102: (400, "A mandatory parameter was not sent, was empty/null, or malformed."),
    -1104: (400, "Not all sent parameters were read."),
    -1115: (400, "Invalid timeInForce."),
    -1116: (400, "Invalid orderType."),
    -1117: (400, "Invalid side."),
    -1121: (400, "Invalid symbol."),
    -1127: (400, "More than 24 hours between startTime and endTime."),
    -1131: (400, "recvWindow must be less than 60000"),
    -2010: (400, "NEW_ORDER_REJECTED"),
    -2011: (400, "Unknown order sent."),
    -2013: (400, "Order does not exist."),
    -2014: (401, "API-key format invalid."),
    -2015: (401, "Invalid API-key, IP, or permissions for action."),
    -2026: (400, "Order was canceled or expired with no executed qty over 90 days ago and has been archived."),
}  # fmt: skip
_RESTRICTED = (
    "Service unavailable from a restricted location according to 'b. Eligibility' in https://www.binance.com/en/"
    "terms. Please contact customer service if you believe you received this message in error."
)


class _Refusal(Exception):
    def __init__(self, code: int, msg: str | None = None) -> None:
        super().__init__(code)
        self.code, self.msg = code, msg or _ERRORS[code][1]


def _mandatory(name: str) -> _Refusal:
    return _Refusal(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def _error_response(code: int, msg: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    status, default = _ERRORS.get(code, (400, "Request rejected."))
    return JSONResponse({"code": code, "msg": msg or default}, status_code=status, headers=headers)


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    op: str
    params: dict[str, str]
    error: int | None


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool
    uid: int = field(default_factory=lambda: secrets.randbelow(10**9))


@dataclass(slots=True)
class _Order:
    order_id: int
    api_key: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    quantity: Decimal
    price: Decimal
    client_order_id: str
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote: Decimal = Decimal(0)
    time: int = field(default_factory=lambda: time.time_ns() // 1_000_000)
    update_time: int = 0

    def close(self, status: str) -> None:
        self.status, self.update_time = status, time.time_ns() // 1_000_000

    def common(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "orderId": self.order_id, "orderListId": -1, "clientOrderId": self.client_order_id,
            "price": f"{self.price:.8f}", "origQty": f"{self.quantity:.8f}", "executedQty": f"{self.executed:.8f}",
            "cummulativeQuoteQty": f"{self.quote:.8f}", "status": self.status, "timeInForce": self.time_in_force,
            "type": self.type, "side": self.side, "selfTradePreventionMode": "EXPIRE_MAKER",
        }  # fmt: skip

    def as_query(self) -> dict[str, Any]:
        return {
            **self.common(), "stopPrice": "0.00000000", "icebergQty": "0.00000000", "time": self.time,
            "updateTime": self.update_time or self.time, "isWorking": True, "workingTime": self.time,
            "origQuoteOrderQty": "0.00000000",
        }  # fmt: skip


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def _long(params: dict[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,19}", text):
        raise _Refusal(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.")
    return int(text)


def _split_signature(raw: bytes) -> tuple[bytes, list[str]]:
    """Remove `signature=…` from a raw parameter string: (what was signed, the signatures found)."""
    kept: list[bytes] = []
    found: list[str] = []
    for segment in raw.split(b"&") if raw else []:
        if segment.startswith(b"signature="):
            found.append(segment[len(b"signature=") :].decode("ascii", "replace"))
        else:
            kept.append(segment)
    return b"&".join(kept), found


def _parse(raw: bytes) -> dict[str, str]:
    pairs = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    if len({k for k, _ in pairs}) != len(pairs):
        raise _Refusal(-1101)
    return dict(pairs)


class BinanceSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0) -> None:
        super().__init__(jitter_s=jitter_s)
        self.clock_offset_ms = 0  # Binance's clock = ours + offset, so tests can make a client's clock drift
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        self._ids = count(4_000_000_001)
        self._weight = (0, 0)  # (minute, weight used in it)
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        self._handlers: dict[str, Callable[[_Account, dict[str, str]], Any]] = {
            "place": self._place, "cancel": self._cancel, "query": self._query,
            "openOrders": self._open_orders, "cancelOpenOrders": self._cancel_open_orders,
            "allOrders": self._all_orders, "account": self._account,
        }  # fmt: skip
        starlette = Starlette(
            routes=[
                Route("/api/v3/order", self._order_route, methods=list(_ORDER_OPS)),
                Route("/api/v3/openOrders", self._open_orders_route, methods=["GET", "DELETE"]),
                Route("/api/v3/allOrders", partial(self._private, op="allOrders"), methods=["GET"]),
                Route("/api/v3/account", partial(self._private, op="account"), methods=["GET"]),
                Route("/api/v3/time", partial(self._public, op="time"), methods=["GET"]),
                Route("/api/v3/ping", partial(self._public, op="ping"), methods=["GET"]),
                Route("/_control/orders/{order_id}/expire", control_endpoint(self._c_expire), methods=["POST"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Binance keys and secrets are 64 letters and digits; the secret is used as text, not decoded.
        api_key, secret = ("".join(secrets.choice(_ALNUM) for _ in range(64)) for _ in range(2))
        self.add_account(api_key, secret, can_trade=can_trade)
        return SimAccount(api_key, secret)

    def add_account(self, api_key: str, secret: str, *, can_trade: bool = True) -> None:
        if not _KEY_FORMAT.fullmatch(api_key):
            raise ValueError("a Binance API key is letters and digits")
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, can_trade)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        order_id = self.place_order(account.api_key, quantity=volume, price=price)
        return str(order_id), {"symbolPair": "BTCUSDT"}

    def place_order(
        self,
        api_key: str,
        *,
        symbol: str = "BTCUSDT",
        side: str = "BUY",
        quantity: str = "1",
        price: str = "100",
        time_ms: int | None = None,
    ) -> int:
        """A resting LIMIT order; `time_ms` backdates its creation (for listings over time)."""
        if api_key not in self._accounts or symbol not in SYMBOLS or side not in ("BUY", "SELL"):
            raise ValueError("unknown api key or symbol, or invalid side")
        params = {"symbol": symbol, "side": side, "type": "LIMIT", "timeInForce": "GTC", "quantity": quantity}
        with self._lock:
            try:
                order_id = int(self._place(self._accounts[api_key], {**params, "price": price})["orderId"])
            except _Refusal as refusal:
                raise ValueError(refusal.msg) from None
            if time_ms is not None:
                self._orders[order_id].time = time_ms
            return order_id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status not in _LIVE:
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def expire(self, order_id: str, status: str = "EXPIRED") -> None:
        if status not in ("EXPIRED", "EXPIRED_IN_MATCH"):
            raise ValueError("status must be EXPIRED or EXPIRED_IN_MATCH")
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status not in _LIVE:
                raise ValueError(f"order {order_id} is {order.status}")
            order.close(status)

    def status(self, order_id: str) -> OrderStatus:
        return STATUS_MAP[self.describe(order_id)["status"]]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[int(order_id)].as_query()

    def render_venue_error(self, error: str) -> Response:
        if error == "rate_limit":
            return _error_response(-1003, headers={"Retry-After": "30"})
        if error == "ban":
            until = self.now_ms() + 120_000
            msg = f"Way too much request weight used; IP banned until {until}. Please use WebSocket Streams for " \
                  "live updates to avoid bans."  # fmt: skip
            return JSONResponse({"code": -1003, "msg": msg}, status_code=418, headers={"Retry-After": "120"})
        if error == "restricted":
            return JSONResponse({"code": 0, "msg": _RESTRICTED}, status_code=451)
        symbolic = {"auth": (-2014, None), "permission": (-2010, "This action is disabled on this account."),
                    "unavailable": (-1008, None)}  # fmt: skip
        if error in symbolic:
            return _error_response(*symbolic[error])
        code, _, msg = error.partition(":")
        return _error_response(int(code), msg or None)

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.clock_offset_ms

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _order_route(self, request: Request) -> Response:
        return await self._private(request, _ORDER_OPS[request.method])

    async def _open_orders_route(self, request: Request) -> Response:
        return await self._private(request, "cancelOpenOrders" if request.method == "DELETE" else "openOrders")

    async def _public(self, request: Request, op: str) -> Response:
        def process(_fault: Fault | None) -> Response:
            body = {"serverTime": self.now_ms()} if op == "time" else {}
            return JSONResponse(body, headers=self._use_weight(op))

        return await self.serve_op(request, op, request.headers.get(API_KEY_HEADER, ""), process)

    async def _private(self, request: Request, op: str) -> Response:
        api_key = request.headers.get(API_KEY_HEADER, "")

        async def process(_fault: Fault | None) -> Response:
            body = await request.body()
            form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
            return self._process(op, api_key, request.scope.get("query_string", b""), body if form else b"")

        return await self.serve_op(request, op, api_key, process)

    def _process(self, op: str, api_key: str, query: bytes, body: bytes) -> Response:
        params: dict[str, str] = {}
        with self._lock:
            headers = self._use_weight(op)
            try:
                account, params = self._authenticate(op, api_key, query, body)
                result = self._handlers[op](account, params)
            except _Refusal as refusal:
                self.errors[str(refusal.code)] += 1
                self.seen.append(SeenRequest(api_key, op, params, refusal.code))
                return _error_response(refusal.code, refusal.msg, headers)
            self.seen.append(SeenRequest(api_key, op, params, None))
            headers = {"X-MBX-USED-WEIGHT-1M": str(self._weight[1])}  # an all-symbol openOrders weighs more
            return JSONResponse(result, headers=headers)

    def _authenticate(self, op: str, api_key: str, query: bytes, body: bytes) -> tuple[_Account, dict[str, str]]:
        if not _KEY_FORMAT.fullmatch(api_key):
            raise _Refusal(-2014)
        account = self._accounts.get(api_key)
        if account is None:
            raise _Refusal(-2015)
        signed_query, query_sigs = _split_signature(query)
        signed_body, body_sigs = _split_signature(body)
        params = {**_parse(signed_body), **_parse(signed_query)}  # "the query string parameter will be used"
        signatures = query_sigs + body_sigs
        if len(signatures) != 1:
            raise _mandatory("signature") if not signatures else _Refusal(-1101)
        # totalParams: the query string concatenated with the body, with no "&" between them.
        expected = sign(signed_query + signed_body, account.secret)
        if not hmac.compare_digest(expected, signatures[0].lower()):  # "the signature is not case sensitive"
            raise _Refusal(-1022)
        self._check_time(params)
        if op in _TRADE_OPS and not account.can_trade:
            raise _Refusal(-2015)
        unread = set(params) - _READS[op] - {"timestamp", "recvWindow"}
        if unread:
            read = len(params) - len(unread)
            raise _Refusal(-1104, f"Not all sent parameters were read; read '{read}' parameter(s) but was sent "
                                  f"'{len(params)}'.")  # fmt: skip
        return account, params

    def _check_time(self, params: dict[str, str]) -> None:
        stamp = params.get("timestamp", "")
        if not stamp.isdigit():
            raise _mandatory("timestamp")
        timestamp = int(stamp) // 1000 if len(stamp) >= 16 else int(stamp)  # microseconds are accepted too
        window = _decimal(params.get("recvWindow", "5000"))
        if window is None:
            raise _mandatory("recvWindow")
        if window > 60000:
            raise _Refusal(-1131)
        server = self.now_ms()
        if timestamp >= server + 1000:
            raise _Refusal(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        if server - timestamp > window:
            raise _Refusal(-1021)

    def _use_weight(self, op: str, weight: int | None = None) -> dict[str, str]:
        minute = int(time.time()) // 60
        used = (self._weight[1] if self._weight[0] == minute else 0) + (weight or _WEIGHTS.get(op, 1))
        self._weight = (minute, used)
        return {"X-MBX-USED-WEIGHT-1M": str(used)}

    # -- endpoints (called with the lock held) ---------------------------------------------------------
    def _symbol(self, params: dict[str, str]) -> str:
        symbol = params.get("symbol")
        if not symbol:
            raise _mandatory("symbol")
        if symbol not in SYMBOLS:
            raise _Refusal(-1121)
        return symbol

    def _place(self, account: _Account, params: dict[str, str]) -> dict[str, Any]:
        symbol, side, kind = self._symbol(params), params.get("side"), params.get("type")
        if side not in ("BUY", "SELL"):
            raise _mandatory("side") if not side else _Refusal(-1117)
        if kind not in ("LIMIT", "LIMIT_MAKER", "MARKET"):
            raise _mandatory("type") if not kind else _Refusal(-1116)
        quantity, price = _decimal(params.get("quantity")), _decimal(params.get("price"))
        if quantity is None:
            raise _mandatory("quantity")
        tif = params.get("timeInForce", "GTC" if kind != "LIMIT" else "")
        if kind != "MARKET" and price is None:
            raise _mandatory("price")
        if tif not in ("GTC", "IOC", "FOK"):
            raise _mandatory("timeInForce") if not tif else _Refusal(-1115)
        client_id = params.get("newClientOrderId") or "web_" + secrets.token_hex(12)
        if any(o.client_order_id == client_id and o.status in _LIVE for o in self._orders.values()):
            raise _Refusal(-2010, "Duplicate order sent.")
        order = _Order(next(self._ids), account.api_key, symbol, side, kind, tif, quantity, price or Decimal(100),
                       client_id)  # fmt: skip
        self._orders[order.order_id] = order
        if kind == "MARKET":
            self._fill_locked(order, None)
        elif tif in ("IOC", "FOK"):
            order.close("EXPIRED")  # the simulated book is empty: nothing to match now
        return {**order.common(), "transactTime": order.time, "workingTime": order.time, "fills": []}

    def _find(self, account: _Account, params: dict[str, str], missing: int) -> _Order:
        symbol, order_id, client_id = self._symbol(params), params.get("orderId"), params.get("origClientOrderId")
        if not order_id and not client_id:
            raise _Refusal(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if order_id and not re.fullmatch(r"[0-9]{1,20}", order_id):
            raise _Refusal(-1100, "Illegal characters found in parameter 'orderId'; legal range is '^[0-9]{1,20}$'.")
        mine = (o for o in self._orders.values() if o.api_key == account.api_key and o.symbol == symbol)
        # With both ids, orderId decides (Binance then also checks origClientOrderId; not simulated).
        match = (lambda o: o.order_id == int(order_id)) if order_id else (lambda o: o.client_order_id == client_id)
        found = next(filter(match, mine), None)
        if found is None:
            raise _Refusal(missing)
        return found

    def _cancel(self, account: _Account, params: dict[str, str]) -> dict[str, Any]:
        order = self._find(account, params, -2011)
        if order.status not in _LIVE:
            raise _Refusal(-2011)  # Binance says "Unknown order sent." for filled and cancelled orders too
        order.close("CANCELED")
        cancel_id = params.get("newClientOrderId") or secrets.token_urlsafe(16)
        body = {**order.common(), "origClientOrderId": order.client_order_id, "clientOrderId": cancel_id}
        return {**body, "transactTime": order.update_time}

    def _cancel_open_orders(self, account: _Account, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every open order of one symbol, each answered as a single cancel is; with none open Binance answers
        -2011 "Unknown order sent." (binance-connector-python#185, Binance.Net#359)."""
        symbol = self._symbol(params)
        live = [o for o in self._orders.values() if o.api_key == account.api_key and o.symbol == symbol]
        live = sorted((o for o in live if o.status in _LIVE), key=lambda o: o.order_id)
        if not live:
            raise _Refusal(-2011)
        answer = []
        for order in live:
            order.close("CANCELED")
            body = {**order.common(), "origClientOrderId": order.client_order_id}
            answer.append({**body, "clientOrderId": secrets.token_urlsafe(16), "transactTime": order.update_time})
        return answer

    def _query(self, account: _Account, params: dict[str, str]) -> dict[str, Any]:
        return self._find(account, params, -2013).as_query()

    def _open_orders(self, account: _Account, params: dict[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(params) if "symbol" in params else None
        if symbol is None:
            self._use_weight("openOrders", _ALL_SYMBOLS_OPEN_ORDERS_WEIGHT - _WEIGHTS["openOrders"])
        mine = (o for o in self._orders.values() if o.api_key == account.api_key and o.status in _LIVE)
        return [o.as_query() for o in mine if symbol in (None, o.symbol)]

    def _all_orders(self, account: _Account, params: dict[str, str]) -> list[dict[str, Any]]:
        """ "If orderId is set, it will get orders >= that orderId. Otherwise most recent orders are returned",
        in ascending orderId; a startTime alone reads forward from it, an endTime alone back from it."""
        symbol = self._symbol(params)
        order_id, start, end = (_long(params, name) for name in ("orderId", "startTime", "endTime"))
        limit = _long(params, "limit")
        limit = 500 if limit is None else limit
        if not 1 <= limit <= 1000:
            raise _Refusal(-1100, "Illegal characters found in parameter 'limit'; legal range is '1' to '1000'.")
        if start is not None and end is not None and end - start > _DAY_MS:
            raise _Refusal(-1127)
        mine = sorted(
            (o for o in self._orders.values() if o.api_key == account.api_key and o.symbol == symbol),
            key=lambda o: o.order_id,
        )
        if order_id is not None:
            mine = [o for o in mine if o.order_id >= order_id]
        mine = [o for o in mine if (start is None or o.time >= start) and (end is None or o.time <= end)]
        chosen = mine[:limit] if order_id is not None or start is not None else mine[-limit:]
        return [o.as_query() for o in chosen]

    def _account(self, account: _Account, params: dict[str, str]) -> dict[str, Any]:
        balances = [{"asset": "BTC", "free": "10.00000000", "locked": "0.00000000"},
                    {"asset": "USDT", "free": "100000.00000000", "locked": "0.00000000"}]  # fmt: skip
        if params.get("omitZeroBalances") != "true":
            balances.append({"asset": "ETH", "free": "0.00000000", "locked": "0.00000000"})
        return {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
            "canTrade": account.can_trade, "canWithdraw": True, "canDeposit": True, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": self.now_ms(),
            "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": account.uid,
        }  # fmt: skip

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.quantity - order.executed
        step = remaining if volume is None or volume >= remaining else volume
        order.executed += step
        order.quote += step * order.price
        order.status = "FILLED" if order.executed >= order.quantity else "PARTIALLY_FILLED"
        order.update_time = time.time_ns() // 1_000_000

    def _c_expire(self, path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.expire(path["order_id"], str(body.get("status", "EXPIRED")))
        return self._c_order(path, body)
