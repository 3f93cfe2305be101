"""A local api.gateio.ws for the API v4 spot calls ordergate and gate-api (the official SDK) make.

Protocol as Gate speaks it: KEY / Timestamp / SIGN headers, SIGN checked over METHOD, Gate's own /api/v4/... path
(without any prefix the simulator is mounted under), the query string as received but URL-decoded, the SHA-512 of
the raw body and the Timestamp header byte for byte; a Timestamp more than 60 s from the simulator's clock is
REQUEST_EXPIRED. Errors are 4xx/5xx with `{"label", "message"}`; every answer carries X-In-Time / X-Out-Time (µs)
and X-Gate-RateLimit-* headers (counted, not enforced).

    POST   /api/v4/spot/orders                                   (op "create"; trade permission)
    DELETE /api/v4/spot/orders/{order_id}?currency_pair=…        (op "cancel"; trade permission)
    GET    /api/v4/spot/orders/{order_id}?currency_pair=…        (op "get")
    GET    /api/v4/spot/orders?currency_pair=…&status=open|finished&page&limit&from&to  (op "list")
    GET    /api/v4/spot/open_orders?page&limit                   (op "open_orders"; every pair, paged per pair)
    GET    /api/v4/spot/accounts                                 (op "accounts")
    GET    /api/v4/spot/time                                     (public)

Answers follow Gate's: a cancel of a filled order is ORDER_CLOSED, of a cancelled one ORDER_CANCELLED, of an
unknown or foreign order or one on another pair ORDER_NOT_FOUND (404); a read-only key gets READ_ONLY (403) on
create/cancel. An order cancelled with nothing filled is forgotten `retention_s` after its cancel (Gate keeps such
orders queryable for "at most 1 minute"), after which it is ORDER_NOT_FOUND too.

Control surface (unsigned JSON; never serve it where real keys are used): simkit's /_control routes. Faults and
accounting come from simkit; `venue_error` takes simkit's symbolic names or a raw Gate label ("ORDER_NOT_FOUND").
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.gate_io.auth import sign
from ordergate.venues.gate_io.constants import (
    HEADER_KEY,
    HEADER_LIMIT,
    HEADER_REMAIN,
    HEADER_RESET,
    HEADER_SIGN,
    HEADER_TIMESTAMP,
    STATUS_MAP,
    TIMESTAMP_WINDOW_S,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

PAIRS = frozenset({"BTC_USDT", "ETH_USDT", "ETH_BTC", "GT_USDT"})
RATE_LIMIT_RESET_S = 3  # how far ahead the `rate_limit` fault puts X-Gate-RateLimit-Reset-Timestamp
RETENTION_S = 60.0
_TRADE_OPS = frozenset({"create", "cancel"})
_LIMITS = {"create": 10, "cancel": 200, "get": 200, "list": 200, "accounts": 200, "open_orders": 200}
_STATUS = {"MISSING_REQUIRED_HEADER": 401, "INVALID_KEY": 401, "INVALID_SIGNATURE": 401, "REQUEST_EXPIRED": 401,
           "INVALID_CREDENTIALS": 401, "IP_FORBIDDEN": 403, "READ_ONLY": 403, "FORBIDDEN": 403, "ACCOUNT_LOCKED": 403,
           "ORDER_NOT_FOUND": 404, "TOO_MANY_REQUESTS": 429, "SERVER_ERROR": 500}  # fmt: skip
_MESSAGES = {
    "INVALID_KEY": "Invalid key provided",
    "INVALID_SIGNATURE": "Signature mismatch",
    "REQUEST_EXPIRED": "Request timestamp is far from the server time",
    "READ_ONLY": "API key is read-only",
    "FORBIDDEN": "Account has no permission to request operation",
    "ACCOUNT_LOCKED": "Account is locked",
    "IP_FORBIDDEN": "Request IP not in whitelist",
    "ORDER_NOT_FOUND": "Order not found",
    "ORDER_CLOSED": "Order was closed",
    "ORDER_CANCELLED": "Order was cancelled",
    "TOO_MANY_REQUESTS": "Request Rate limit Exceeded",
    "SERVER_ERROR": "Internal server error",
}
_SYMBOLIC = {"rate_limit": "TOO_MANY_REQUESTS", "ban": "ACCOUNT_LOCKED", "auth": "INVALID_KEY",
             "permission": "FORBIDDEN", "unavailable": "SERVER_ERROR", "restricted": "FORBIDDEN"}  # fmt: skip
_HEX = "0123456789abcdef"


class _Refusal(Exception):
    def __init__(self, label: str, message: str | None = None) -> None:
        super().__init__(label)
        self.label, self.message = label, message or _MESSAGES.get(label, label.replace("_", " ").lower())

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        body = {"label": self.label, "message": self.message}
        return JSONResponse(body, status_code=_STATUS.get(self.label, 400), headers=headers)


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    op: str
    params: dict[str, Any]
    label: str | None


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool


@dataclass(slots=True)
class _Order:
    order_id: int
    api_key: str
    pair: str
    side: str
    kind: str
    amount: Decimal
    price: Decimal
    text: str
    tif: str = "gtc"
    status: str = "open"
    finish_as: str = "open"
    filled: Decimal = Decimal(0)
    filled_total: Decimal = Decimal(0)
    created: float = field(default_factory=time.time)
    updated: float = 0.0

    def as_gate(self) -> dict[str, Any]:
        base, quote = self.pair.split("_")
        fee = self.filled * Decimal("0.002") if self.side == "buy" else self.filled_total * Decimal("0.002")
        updated = self.updated or self.created
        return {
            "id": str(self.order_id), "text": self.text, "amend_text": "-",
            "create_time": str(int(self.created)), "update_time": str(int(updated)),
            "create_time_ms": int(self.created * 1000), "update_time_ms": int(updated * 1000),
            "status": self.status, "currency_pair": self.pair, "type": self.kind, "account": "spot",
            "side": self.side, "amount": f"{self.amount:f}", "price": f"{self.price:f}",
            "time_in_force": self.tif, "iceberg": "0", "left": f"{self.amount - self.filled:f}",
            "filled_amount": f"{self.filled:f}", "fill_price": f"{self.filled_total:f}",
            "filled_total": f"{self.filled_total:f}",
            "avg_deal_price": f"{self.filled_total / self.filled:f}" if self.filled else "",
            "fee": f"{fee:f}", "fee_currency": base if self.side == "buy" else quote, "point_fee": "0",
            "gt_fee": "0", "gt_maker_fee": "0", "gt_taker_fee": "0", "gt_discount": False, "rebated_fee": "0",
            "rebated_fee_currency": quote, "finish_as": self.finish_as,
        }  # fmt: skip


class GateIoSimulator(SimulatorBase):
    """`clock` is the simulated server time in seconds: Timestamp windows, order times and purges follow it."""

    def __init__(
        self, *, jitter_s: float = 0.0, clock: Callable[[], float] = time.time, retention_s: float = RETENTION_S
    ) -> None:
        super().__init__(jitter_s=jitter_s)
        self.clock = clock
        self.retention_s = retention_s
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        self._ids = count(394_120_203_701 + secrets.randbelow(10**6) * 1000)
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        handlers: dict[str, Callable[[_Account, dict[str, str], dict[str, Any], Fault | None], Any]] = {
            "create": self._create, "cancel": self._cancel, "get": self._get, "list": self._list,
            "accounts": self._accounts_op, "open_orders": self._open_orders,
        }  # fmt: skip
        self._handlers = handlers
        routes = [
            Route("/api/v4/spot/orders", self._endpoint({"POST": "create", "GET": "list"}), methods=["POST", "GET"]),
            Route(
                "/api/v4/spot/orders/{order_id}",
                self._endpoint({"DELETE": "cancel", "GET": "get"}),
                methods=["DELETE", "GET"],
            ),
            Route("/api/v4/spot/accounts", self._endpoint({"GET": "accounts"}), methods=["GET"]),
            Route("/api/v4/spot/open_orders", self._endpoint({"GET": "open_orders"}), methods=["GET"]),
            Route("/api/v4/spot/time", self._time, methods=["GET"]),
            *self.control_routes(),
        ]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Gate's shapes: a 32-character hex key and a 64-character hex secret.
        api_key = "".join(secrets.choice(_HEX) for _ in range(32))
        secret = "".join(secrets.choice(_HEX) for _ in range(64))
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, can_trade)
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        return self.place_order(account.api_key, amount=volume, price=price), {"symbolPair": "BTC_USDT"}

    def place_order(
        self, api_key: str, *, pair: str = "BTC_USDT", side: str = "buy", amount: str = "1", price: str = "100"
    ) -> str:
        amount_d, price_d = _decimal(amount), _decimal(price)
        if api_key not in self._accounts or pair not in PAIRS or side not in ("buy", "sell"):
            raise ValueError("unknown api key or currency pair, or invalid side")
        if amount_d is None or price_d is None:
            raise ValueError("amount and price must be positive numbers")
        with self._lock:
            return str(self._new_order(api_key, pair, side, "limit", amount_d, price_d, "apiv4", "gtc").order_id)

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status != "open":
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            return STATUS_MAP[self._orders[int(order_id)].status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[int(order_id)].as_gate()

    def render_venue_error(self, error: str) -> Response:
        label = _SYMBOLIC.get(error, error)
        headers = self._stamp_headers()
        if label == "TOO_MANY_REQUESTS":
            reset = math.floor(self.clock()) + RATE_LIMIT_RESET_S
            headers |= {HEADER_LIMIT: "200", HEADER_REMAIN: "0", HEADER_RESET: str(reset)}
        return _Refusal(label).response(headers)

    # -- protocol ----------------------------------------------------------------------------------------
    def _stamp_headers(self) -> dict[str, str]:
        now_us = str(int(self.clock() * 1_000_000))
        return {"X-In-Time": now_us, "X-Out-Time": now_us}

    def _endpoint(self, ops: dict[str, str]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            op = ops[request.method]
            api_key = request.headers.get(HEADER_KEY, "")

            async def process(fault: Fault | None) -> Response:
                body = await request.body()
                return self._process(op, request, api_key, body, fault)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _process(self, op: str, request: Request, api_key: str, body: bytes, fault: Fault | None) -> Response:
        raw_query = request.scope.get("query_string", b"").decode("latin-1")
        params = dict(parse_qsl(raw_query, keep_blank_values=True))
        params.update(request.path_params)
        with self._lock:
            headers = self._stamp_headers()
            try:
                account = self._authenticate(request, api_key, unquote_plus(raw_query), body)
                headers |= self._limit_headers(api_key, op)
                if op in _TRADE_OPS and not account.can_trade:
                    raise _Refusal("READ_ONLY")
                result = self._handlers[op](account, params, _json_body(body) if op == "create" else {}, fault)
            except _Refusal as refusal:
                self.errors[refusal.label] += 1
                self.seen.append(SeenRequest(api_key, op, params, refusal.label))
                return refusal.response(headers)
            self.seen.append(SeenRequest(api_key, op, params, None))
            return JSONResponse(result, status_code=201 if op == "create" else 200, headers=headers)

    def _authenticate(self, request: Request, api_key: str, query: str, body: bytes) -> _Account:
        for name in (HEADER_KEY, HEADER_TIMESTAMP, HEADER_SIGN):
            if not request.headers.get(name):
                raise _Refusal("MISSING_REQUIRED_HEADER", f"Missing required header: {name}")
        account = self._accounts.get(api_key)
        if account is None:
            raise _Refusal("INVALID_KEY")
        stamp = request.headers[HEADER_TIMESTAMP]
        try:
            skew = abs(self.clock() - float(stamp))
        except ValueError:
            skew = math.inf
        if not skew <= TIMESTAMP_WINDOW_S:
            raise _Refusal("REQUEST_EXPIRED", f"gap between request Timestamp and server time exceeds "
                                              f"{TIMESTAMP_WINDOW_S}")  # fmt: skip
        expected = sign(account.secret, request.method, venue_path(request), query, body, stamp)
        if not hmac.compare_digest(expected, request.headers[HEADER_SIGN].lower()):
            raise _Refusal("INVALID_SIGNATURE")
        return account

    def _limit_headers(self, api_key: str, op: str) -> dict[str, str]:
        now = self.clock()
        hits = self._hits.setdefault((api_key, op), deque())
        window = 1.0 if op in _TRADE_OPS else 10.0
        while hits and hits[0] <= now - window:
            hits.popleft()
        hits.append(now)
        remaining = max(0, _LIMITS[op] - len(hits))
        return {HEADER_LIMIT: str(_LIMITS[op]), HEADER_REMAIN: str(remaining), HEADER_RESET: str(int(now))}

    async def _time(self, _request: Request) -> Response:
        return JSONResponse({"server_time": int(self.clock() * 1000)}, headers=self._stamp_headers())

    # -- endpoints (called with the lock held) ---------------------------------------------------------
    def _pair(self, value: Any) -> str:
        if not value:
            raise _Refusal("MISSING_REQUIRED_PARAM", "Missing required parameter: currency_pair")
        if value not in PAIRS:
            raise _Refusal("INVALID_CURRENCY_PAIR", f"Invalid currency pair: {value}")
        return str(value)

    def _create(self, account: _Account, _params: dict[str, str], body: dict[str, Any], _f: Fault | None) -> Any:
        pair, side = self._pair(body.get("currency_pair")), body.get("side")
        kind, tif = body.get("type") or "limit", body.get("time_in_force") or "gtc"
        amount, price = _decimal(body.get("amount")), _decimal(body.get("price"))
        if side not in ("buy", "sell") or kind not in ("limit", "market") or tif not in ("gtc", "ioc", "poc", "fok"):
            raise _Refusal("INVALID_PARAM_VALUE", "Invalid side, type or time_in_force")
        if amount is None or (kind == "limit" and price is None):
            raise _Refusal("INVALID_PARAM_VALUE", "amount and price must be positive numbers")
        text = str(body.get("text") or "apiv4")
        if text != "apiv4" and not (text.startswith("t-") and 2 < len(text) <= 30):
            raise _Refusal("INVALID_PARAM_VALUE", f"Invalid parameter `text` with value: {text}")
        order = self._new_order(account.api_key, pair, side, kind, amount, price or Decimal(100), text, tif)
        return order.as_gate()

    def _find(self, account: _Account, params: dict[str, str]) -> _Order:
        pair, order_id = self._pair(params.get("currency_pair")), params.get("order_id", "")
        order = self._orders.get(int(order_id)) if order_id.isdigit() and len(order_id) <= 19 else None
        if order is None and order_id.startswith("t-"):  # a custom id names an order only while it is open
            order = next((o for o in self._orders.values() if o.text == order_id and o.status == "open"), None)
        if order is None or order.api_key != account.api_key or order.pair != pair or self._purged(order):
            raise _Refusal("ORDER_NOT_FOUND")
        return order

    def _purged(self, order: _Order) -> bool:
        forgettable = order.status == "cancelled" and order.filled == 0
        return forgettable and self.clock() - order.updated > self.retention_s

    def _cancel(self, account: _Account, params: dict[str, str], _body: dict[str, Any], fault: Fault | None) -> Any:
        order = self._find(account, params)
        if order.status == "closed":
            raise _Refusal("ORDER_CLOSED")
        if order.status == "cancelled":
            raise _Refusal("ORDER_CANCELLED")
        if fault is not None and fault.kind == "pending":
            # Gate cancels synchronously; a "pending" fault answers the order still open and settles it later.
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.order_id)
            return order.as_gate()
        self._cancel_locked(order)
        return order.as_gate()

    def _settle_cancel(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status == "open":  # a fill may have won the race meanwhile
                self._cancel_locked(order)

    def _get(self, account: _Account, params: dict[str, str], _body: dict[str, Any], _f: Fault | None) -> Any:
        return self._find(account, params).as_gate()

    def _list(self, account: _Account, params: dict[str, str], _body: dict[str, Any], _f: Fault | None) -> Any:
        wanted = params.get("status")
        if wanted not in ("open", "finished"):
            raise _Refusal("INVALID_PARAM_VALUE", "Invalid parameter `status`: open or finished")
        # "Required for open orders, optional for filled orders".
        pair = self._pair(params.get("currency_pair")) if wanted == "open" or "currency_pair" in params else None
        mine = [o for o in self._orders.values() if o.api_key == account.api_key and pair in (None, o.pair)]
        chosen = [o for o in mine if (o.status == "open") == (wanted == "open") and not self._purged(o)]
        if wanted == "finished":  # `from`/`to` bound finished orders by creation time
            start, end = _number_param(params, "from", 0), _number_param(params, "to", 2**62)
            chosen = [o for o in chosen if start <= int(o.created) <= end]
        page, limit = _number_param(params, "page", 1), min(max(_number_param(params, "limit", 100), 1), 1000)
        ordered = sorted(chosen, key=lambda o: (o.created, o.order_id), reverse=True)
        return [o.as_gate() for o in ordered[(max(page, 1) - 1) * limit :][:limit]]

    def _open_orders(self, account: _Account, params: dict[str, str], _body: dict[str, Any], _f: Fault | None) -> Any:
        page, limit = max(_number_param(params, "page", 1), 1), min(max(_number_param(params, "limit", 100), 1), 100)
        pairs: dict[str, list[_Order]] = {}
        for order in self._orders.values():
            if order.api_key == account.api_key and order.status == "open":
                pairs.setdefault(order.pair, []).append(order)
        answer = []
        for pair, orders in sorted(pairs.items()):
            ordered = sorted(orders, key=lambda o: (o.created, o.order_id), reverse=True)
            shown = ordered[(page - 1) * limit :][:limit]
            answer.append({"currency_pair": pair, "total": len(orders), "orders": [o.as_gate() for o in shown]})
        return answer

    def backdate(self, order_id: str, seconds: float) -> None:
        """The order was placed `seconds` earlier than it was (listing tests with `since`)."""
        with self._lock:
            order = self._orders[int(order_id)]
            order.created -= seconds
            order.updated = order.updated - seconds if order.updated else 0.0

    def _accounts_op(self, _a: _Account, _params: dict[str, str], _body: dict[str, Any], _f: Fault | None) -> Any:
        return [{"currency": "BTC", "available": "10", "locked": "0", "update_id": 1},
                {"currency": "USDT", "available": "100000", "locked": "0", "update_id": 1}]  # fmt: skip

    def _new_order(
        self, api_key: str, pair: str, side: str, kind: str, amount: Decimal, price: Decimal, text: str, tif: str
    ) -> _Order:
        order = _Order(next(self._ids), api_key, pair, side, kind, amount, price, text, tif, created=self.clock())
        self._orders[order.order_id] = order
        if kind == "market":
            self._fill_locked(order, None)
        elif tif in ("ioc", "fok"):  # the simulated book is empty: nothing matches now
            order.status, order.finish_as, order.updated = "cancelled", tif, self.clock()
        return order

    def _cancel_locked(self, order: _Order) -> None:
        order.status, order.finish_as, order.updated = "cancelled", "cancelled", self.clock()

    def _fill_locked(self, order: _Order, amount: Decimal | None) -> None:
        remaining = order.amount - order.filled
        step = remaining if amount is None or amount >= remaining else amount
        order.filled += step
        order.filled_total += step * order.price
        if order.filled >= order.amount:
            order.status, order.finish_as = "closed", "filled"
        order.updated = self.clock()


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(body or b"{}")
    except ValueError:
        raise _Refusal("INVALID_REQUEST_BODY", "Invalid request body") from None
    if not isinstance(decoded, dict):
        raise _Refusal("INVALID_REQUEST_BODY", "Invalid request body")
    return decoded


def _number_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise _Refusal("INVALID_PARAM_VALUE", f"Invalid parameter `{name}`")
    return int(raw)
