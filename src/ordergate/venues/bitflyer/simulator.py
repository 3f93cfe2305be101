"""A local bitFlyer Lightning HTTP API for the calls ordergate, ccxt and pybitflyer make.

    GET  /v1/getmarkets, /v1/getmarkets/usa, /v1/getmarkets/eu          public: [{"product_code", "market_type"}]
    GET  /v1/me/getpermissions                                          the endpoints this key may call
    GET  /v1/me/getbalance                                              [{"currency_code", "amount", "available"}]
    POST /v1/me/sendchildorder    {product_code, child_order_type, side, price?, size, time_in_force?}
                                  → {"child_order_acceptance_id": "JRF…"}
    GET  /v1/me/getchildorders    ?product_code= &child_order_id= | child_order_acceptance_id=
                                  &child_order_state= &count=
    POST /v1/me/cancelchildorder  {product_code, child_order_id | child_order_acceptance_id} → 200, empty body

Every private request must carry ACCESS-KEY, ACCESS-TIMESTAMP and ACCESS-SIGN = hex HMAC-SHA256(secret, timestamp +
method + path(+?query) + body), checked over the bytes received; the timestamp is opaque signed text, as bitFlyer
treats it (clients send seconds, floats or ISO dates). A cancel answers 200 with no body whatever the order's state,
unknown ids included; it only takes effect on an ACTIVE order of this key. Errors are bitFlyer's
{"status": -n, "error_message": …, "data": null}. Every private answer carries x-ratelimit-period/-remaining/-reset.

Control surface: simkit's `/_control/…`. Operations for faults: "markets", "permissions", "balance",
"sendchildorder", "getchildorders", "cancelchildorder"; `venue_error` takes a symbolic name or "<code>:<message>"
(e.g. "-208:Order is not accepted. Please try again later.").
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.bitflyer.constants import ACCEPTANCE_PREFIX, CANCEL_PATH, CHILD_ORDER_PREFIX, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path

PRODUCTS = ("BTC_JPY", "ETH_JPY", "ETH_BTC", "BCH_BTC", "FX_BTC_JPY")
_REGION_PRODUCTS = {"usa": ("BTC_USD", "BTC_JPY"), "eu": ("BTC_EUR", "BTC_JPY")}
WINDOW_S = 300  # "Private APIs 500 queries per 5 minutes"
SYMBOLIC_PERIOD_S = 42  # x-ratelimit-period on the symbolic rate_limit answer
_PERMISSIONS = (
    "/v1/me/getpermissions", "/v1/me/getbalance", "/v1/me/getcollateral", "/v1/me/getchildorders",
    "/v1/me/getexecutions", "/v1/me/getpositions", "/v1/me/gettradingcommission",
)  # fmt: skip
_TRADE_PERMISSIONS = ("/v1/me/sendchildorder", CANCEL_PATH, "/v1/me/cancelallchildorders")
# simkit's symbolic errors in bitFlyer's words (HTTP status, code, message).
# bitFlyer's code for malformed parameters is not public; -101 "Invalid parameter" is this simulator's own.
_SYMBOLIC: dict[str, tuple[int, int, str]] = {
    "rate_limit": (429, -1, "Over API limit per minute"),
    "ban": (400, -508, "Your ordering has been limited due to submitting an irregular number of orders."),
    "auth": (401, -500, "Invalid signature"),
    "permission": (403, -500, "Permission denied"),
    "unavailable": (503, -2, "Under maintenance"),
    "restricted": (403, -500, "Permission denied"),  # bitFlyer documents no regional refusal of its own
}


class _Refusal(Exception):
    def __init__(self, http: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http, self.code, self.message = http, code, message


@dataclass(slots=True)
class _Account:
    key: str
    secret: str
    can_trade: bool = True
    window_end: int = 0
    used: int = 0


@dataclass(slots=True)
class _Order:
    key: str
    serial: int
    product: str
    side: str
    type: str
    size: Decimal
    price: Decimal
    time_in_force: str
    acceptance_id: str
    order_id: str
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    state: str = "ACTIVE"
    executed: Decimal = Decimal(0)
    cancelled: Decimal = Decimal(0)
    average: Decimal = Decimal(0)

    def as_bitflyer(self) -> dict[str, Any]:
        stamp = self.created.strftime("%Y-%m-%dT%H:%M:%S")
        outstanding = self.size - self.executed - self.cancelled if self.state == "ACTIVE" else Decimal(0)
        return {
            "id": self.serial,
            "child_order_id": self.order_id,
            "product_code": self.product,
            "side": self.side,
            "child_order_type": self.type,
            "price": _num(self.price),
            "average_price": _num(self.average),
            "size": _num(self.size),
            "child_order_state": self.state,
            "expire_date": stamp.replace(str(self.created.year), str(self.created.year + 1), 1),
            "child_order_date": stamp,
            "child_order_acceptance_id": self.acceptance_id,
            "outstanding_size": _num(outstanding),
            "cancel_size": _num(self.cancelled),
            "executed_size": _num(self.executed),
            "total_commission": 0,
            "time_in_force": self.time_in_force,
        }


def _num(value: Decimal) -> int | float:
    """bitFlyer's JSON numbers: 30000, 0.1."""
    return int(value) if value == value.to_integral_value() else float(value)


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None


class BitflyerSimulator(SimulatorBase):
    def __init__(self, *, rate_limit: int = 500) -> None:
        super().__init__()
        self.rate_limit = rate_limit
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}  # by acceptance id and by child order id
        self._serial = 0
        route = self._route
        starlette = Starlette(
            routes=[
                Route("/v1/getmarkets", self._markets(None), methods=["GET"]),
                Route("/v1/getmarkets/{region}", self._markets_region, methods=["GET"]),
                Route("/v1/me/getpermissions", route("permissions", self._permissions), methods=["GET"]),
                Route("/v1/me/getbalance", route("balance", self._balance), methods=["GET"]),
                Route("/v1/me/sendchildorder", route("sendchildorder", self._send), methods=["POST"]),
                Route("/v1/me/getchildorders", route("getchildorders", self._list), methods=["GET"]),
                Route(CANCEL_PATH, route("cancelchildorder", self._cancel), methods=["POST"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # bitFlyer's shapes: a 22-character key and a 44-character base64 secret.
        key = secrets.token_urlsafe(16)[:22]
        secret = secrets.token_urlsafe(33)[:43] + "="
        with self._lock:
            self._accounts[key] = _Account(key, secret, can_trade)
        return SimAccount(key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        with self._lock:
            order = self._new_order(account.api_key, "BTC_JPY", "BUY", "LIMIT", volume, price, "GTC")
        return order.acceptance_id, {"symbolPair": "BTC_JPY"}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.state != "ACTIVE":
                raise ValueError(f"order {order_id} is {order.state}")
            remaining = order.size - order.executed
            step = remaining if volume is None else min(Decimal(volume), remaining)
            order.average = (order.average * order.executed + order.price * step) / (order.executed + step)
            order.executed += step
            if order.executed >= order.size:
                order.state = "COMPLETED"

    def set_state(self, order_id: str, state: str) -> None:
        """Put an order in any bitFlyer state (EXPIRED, REJECTED, …), as the venue would."""
        if state not in STATUS_MAP:
            raise ValueError(f"not a bitFlyer child_order_state: {state}")
        with self._lock:
            self._orders[order_id].state = state

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.state == "ACTIVE" and order.executed > 0:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.state]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_bitflyer()

    def render_venue_error(self, error: str) -> Response:
        if error in _SYMBOLIC:
            http, code, message = _SYMBOLIC[error]
        else:
            code_text, _, message = error.partition(":")
            code = int(code_text) if code_text.lstrip("-").isdigit() else -1
            http = {-1: 429, -2: 503, -500: 401}.get(code, 400)
        headers = {"x-ratelimit-period": str(SYMBOLIC_PERIOD_S)} if http == 429 else {}
        return _error(http, code, message or "error", headers)

    # -- the HTTP API ----------------------------------------------------------------------------------
    def _markets(self, region: str | None) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            codes = _REGION_PRODUCTS.get(region or "", PRODUCTS)

            def process(_fault: Fault | None) -> Response:
                return JSONResponse([{"product_code": c, "market_type": "FX" if c.startswith("FX_") else "Spot"}
                                     for c in codes])  # fmt: skip

            return await self.serve_op(request, "markets", "", process)

        return endpoint

    async def _markets_region(self, request: Request) -> Response:
        region = request.path_params["region"]
        if region not in _REGION_PRODUCTS:
            return Response("<html><body>Not Found</body></html>", 404, media_type="text/html")
        return await self._markets(region)(request)

    def _route(self, op: str, handler: Callable[[_Account, Request, dict[str, Any], Fault | None], Any]) -> Any:
        async def endpoint(request: Request) -> Response:
            key = request.headers.get("ACCESS-KEY", "")
            raw = await request.body()

            async def process(fault: Fault | None) -> Response:
                headers: dict[str, str] = {}
                try:
                    with self._lock:
                        account = self._authenticate(request, key, raw)
                        self._count(account, headers)
                        body = _json_body(raw) if request.method == "POST" else {}
                        result = handler(account, request, body, fault)
                except _Refusal as refusal:
                    self.errors[str(refusal.code)] += 1
                    return _error(refusal.http, refusal.code, refusal.message, headers)
                if result is None:
                    return Response(status_code=200, headers=headers)  # bitFlyer's bare "200 OK"
                return JSONResponse(result, headers=headers)

            return await self.serve_op(request, op, key, process)

        return endpoint

    def _authenticate(self, request: Request, key: str, raw: bytes) -> _Account:
        stamp, signature = request.headers.get("ACCESS-TIMESTAMP", ""), request.headers.get("ACCESS-SIGN", "")
        for name, value in (("ACCESS-KEY", key), ("ACCESS-TIMESTAMP", stamp), ("ACCESS-SIGN", signature)):
            if not value:
                raise _Refusal(401, -500, f"{name} header is required")
        account = self._accounts.get(key)
        if account is None:
            raise _Refusal(401, -500, "Invalid API key")
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = venue_path(request) + ("?" + query if query else "")
        text = f"{stamp}{request.method}{target}".encode() + raw
        expected = hmac.new(account.secret.encode(), text, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise _Refusal(401, -500, "Invalid signature")
        return account

    def _count(self, account: _Account, headers: dict[str, str]) -> None:
        now = int(time.time())
        if now >= account.window_end:
            account.window_end, account.used = now + WINDOW_S, 0
        account.used += 1
        headers["x-ratelimit-period"] = str(max(1, account.window_end - now))
        headers["x-ratelimit-remaining"] = str(max(0, self.rate_limit - account.used))
        headers["x-ratelimit-reset"] = str(account.window_end)
        if account.used > self.rate_limit:
            raise _Refusal(429, -1, "Over API limit per minute")

    def _permissions(self, account: _Account, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        return [*_PERMISSIONS, *(_TRADE_PERMISSIONS if account.can_trade else ())]

    def _balance(self, _a: _Account, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        return [
            {"currency_code": "JPY", "amount": 1024078, "available": 508000},
            {"currency_code": "BTC", "amount": 10.24, "available": 4.12},
        ]

    def _send(self, account: _Account, _r: Request, body: dict[str, Any], _f: Fault | None) -> Any:
        if not account.can_trade:
            raise _Refusal(403, -500, "Permission denied")
        product = _product(body.get("product_code"))
        kind, side = str(body.get("child_order_type", "")), str(body.get("side", ""))
        tif = str(body.get("time_in_force") or "GTC")
        if kind not in ("LIMIT", "MARKET") or side not in ("BUY", "SELL") or tif not in ("GTC", "IOC", "FOK"):
            raise _Refusal(400, -101, "Invalid parameter")
        price = body.get("price") if kind == "LIMIT" else "1"
        order = self._new_order(account.key, product, side, kind, body.get("size"), price, tif)
        if kind == "MARKET":
            self.fill(order.acceptance_id)
        return {"child_order_acceptance_id": order.acceptance_id}

    def _list(self, account: _Account, request: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        params = request.query_params
        product = _product(params.get("product_code") or "BTC_JPY")
        wanted = {name: params[name] for name in ("child_order_id", "child_order_acceptance_id") if name in params}
        state = params.get("child_order_state")
        bounds = [params.get(name, "0") for name in ("count", "before", "after")]
        if not all(b.isdigit() for b in bounds) or (state is not None and state not in STATUS_MAP):
            raise _Refusal(400, -101, "Invalid parameter")
        count, before, after = (int(b) for b in bounds)
        count = count if "count" in params else 100
        mine = {id(o): o for o in self._orders.values() if o.key == account.key and o.product == product}
        # Newest first; `before` and `after` page over the numeric `id` (the docs' Pagination section).
        ordered = sorted(mine.values(), key=lambda o: o.serial, reverse=True)
        rows = [o.as_bitflyer() for o in ordered if (not before or o.serial < before) and o.serial > after]
        rows = [
            r for r in rows if all(r[k] == v for k, v in wanted.items()) and state in (None, r["child_order_state"])
        ]
        return rows[:count]

    def set_created(self, order_id: str, unix_s: int) -> None:
        """Backdate an order, as if it had been placed at `unix_s`."""
        with self._lock:
            self._orders[order_id].created = datetime.fromtimestamp(unix_s, UTC)

    def _cancel(self, account: _Account, _r: Request, body: dict[str, Any], fault: Fault | None) -> Any:
        if not account.can_trade:
            raise _Refusal(403, -500, "Permission denied")
        product = _product(body.get("product_code"))
        ids = [body[k] for k in ("child_order_id", "child_order_acceptance_id") if body.get(k)]
        if len(ids) != 1:
            raise _Refusal(400, -101, "Invalid parameter")
        order = self._orders.get(str(ids[0]))
        # bitFlyer takes the request and answers 200 whatever the order's state: only an ACTIVE order of this key
        # on this product is cancelled.
        if order is not None and order.key == account.key and order.product == product and order.state == "ACTIVE":
            if fault is not None and fault.kind == "pending":
                asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.acceptance_id)
            else:
                self._settle(order.acceptance_id)
        return None

    def _settle(self, acceptance_id: str) -> None:
        with self._lock:
            order = self._orders[acceptance_id]
            if order.state == "ACTIVE":
                order.cancelled, order.state = order.size - order.executed, "CANCELED"

    def _new_order(self, key: str, product: str, side: str, kind: str, size: Any, price: Any, tif: str) -> _Order:
        amount, limit = _decimal(size), _decimal(price)
        if amount is None or limit is None:
            raise _Refusal(400, -101, "Invalid parameter")
        self._serial += 1
        now = datetime.now(UTC)
        suffix = f"{now:%Y%m%d-%H%M%S}-{secrets.randbelow(10**6):06d}"
        order = _Order(key, self._serial, product, side, kind, amount, limit, tif,
                       ACCEPTANCE_PREFIX + suffix, CHILD_ORDER_PREFIX + suffix, now)  # fmt: skip
        if order.acceptance_id in self._orders:  # one in a million per second: draw again
            self._serial -= 1
            return self._new_order(key, product, side, kind, size, price, tif)
        self._orders[order.acceptance_id] = self._orders[order.order_id] = order
        return order


def _product(value: Any) -> str:
    code = str(value or "").upper()  # product codes are matched case-insensitively
    if code not in PRODUCTS and code not in {c for codes in _REGION_PRODUCTS.values() for c in codes}:
        raise _Refusal(400, -100, "Invalid product")
    return code


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise _Refusal(400, -101, "Invalid parameter") from None
    if not isinstance(body, dict):
        raise _Refusal(400, -101, "Invalid parameter")
    return body


def _error(http: int, code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"status": code, "error_message": message, "data": None}, http, headers)
