"""A local api.btcturk.com for the calls ordergate and ccxt's btcturk make.

Protocol as BtcTurk speaks it: X-PCK / X-Stamp / X-Signature, the signature checked as base64(HMAC-SHA256(base64-
decoded secret, key + stamp)) with the stamp within ±5 s, and answers `{"success", "message", "code", "data"}`.

    GET    /api/v2/server/exchangeinfo                       public
    GET    /api/v1/users/balances                            op "balances"
    POST   /api/v1/order                                     op "place" (needs the trade permission)
    DELETE /api/v1/order?id=                                 op "cancel" (needs the trade permission)
    GET    /api/v1/order/{orderId}                           op "lookup"
    GET    /api/v1/openOrders | /api/v1/allOrders            ops "open_orders", "all_orders"

A cancel of an unknown or another account's order is NO_ORDER_MATCHES_YOUR_REQUEST, of a closed one
ORDER_COULD_NOT_BE_CANCELED; an accepted one answers SUCCESS (the `pending` fault leaves it open for a while, as
BtcTurk finalises cancels asynchronously). A key without the trade permission gets a bare 401 "Unauthorized".

Control surface (unsigned JSON; never serve it where real keys are used): simkit's /_control routes.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.btcturk.auth import BadSecret, sign
from ordergate.venues.btcturk.constants import (
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_STAMP,
    STAMP_TOLERANCE_S,
    STATUS_MAP,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort

_PAIRS = {"BTCTRY": ("BTC", "TRY"), "BTCUSDT": ("BTC", "USDT"), "ETHTRY": ("ETH", "TRY")}


def answer(message: str | None, code: int, status: int = 200, data: Any = None, **extra: Any) -> JSONResponse:
    body = {"success": code == 0, "message": message, "code": code, **({"data": data} if code == 0 else {}), **extra}
    return JSONResponse(body, status_code=status)


class _Refusal(Exception):
    def __init__(self, message: str, code: int, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status


_UNAUTHORIZED = ("Unauthorized - Invalid Signature", 401, 401)
_SYMBOLIC: dict[str, tuple[str, int, int]] = {
    "auth": _UNAUTHORIZED,
    "permission": ("Unauthorized", 401, 401),
    "unavailable": ("ORDER_CANCEL_BLOCKED", 1126, 400),
    "restricted": ("Unauthorized", 401, 401),
}


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool


@dataclass(slots=True)
class _Order:
    id: int
    api_key: str
    pair: str
    side: str
    method: str
    quantity: Decimal
    price: Decimal
    client_id: str
    created: int
    executed: Decimal = Decimal(0)
    cancelled: bool = False
    updated: int = 0

    @property
    def live(self) -> bool:
        return not self.cancelled and self.executed < self.quantity

    def status(self) -> str:
        if self.cancelled:
            return "Canceled"
        if self.executed >= self.quantity:
            return "Closed"
        return "Partial" if self.executed else "Untouched"

    def as_btcturk(self) -> dict[str, Any]:
        base, quote = _PAIRS[self.pair]
        return {"id": self.id, "price": f"{self.price:f}", "amount": f"{self.quantity:f}",
                "quantity": f"{self.quantity:f}", "stopPrice": "0", "pairSymbol": self.pair,
                "pairSymbolNormalized": f"{base}_{quote}", "type": self.side, "method": self.method,
                "orderClientId": self.client_id, "time": self.created, "updateTime": self.updated or self.created,
                "status": self.status(), "leftAmount": f"{self.quantity - self.executed:f}"}  # fmt: skip


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _decimal(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() and result > 0 else None


class BtcTurkSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], int] = _now_ms) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        self._last_id = 10**9 + secrets.randbelow(10**9)
        self._clock = clock
        private = [
            ("/api/v1/users/balances", "GET", "balances", self._balances, False),
            ("/api/v1/order", "POST", "place", self._place, True),
            ("/api/v1/order", "DELETE", "cancel", self._cancel, True),
            ("/api/v1/order/{orderId}", "GET", "lookup", self._lookup, False),
            ("/api/v1/openOrders", "GET", "open_orders", self._open_orders, False),
            ("/api/v1/allOrders", "GET", "all_orders", self._all_orders, False),
        ]
        routes = [
            Route(path, self._endpoint(op, handler, trade), methods=[method])
            for path, method, op, handler, trade in private
        ]
        routes += [Route("/api/v2/server/exchangeinfo", self._exchange_info, methods=["GET"]), *self.control_routes()]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # BtcTurk's shapes: a UUID-like public key, a base64 private key.
        api_key = secrets.token_hex(16)
        secret = base64.b64encode(secrets.token_bytes(24)).decode()
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, can_trade)
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        # BtcTurk's cancel needs no pair, but its order history (allOrders) is listed per pairSymbol.
        return self.place_order(account.api_key, quantity=volume, price=price), {"symbolPair": "BTCTRY"}

    def place_order(self, api_key: str, *, pair: str = "BTCTRY", side: str = "buy", quantity: str = "1",
                    price: str = "100") -> str:  # fmt: skip
        amount, limit = _decimal(quantity), _decimal(price)
        if api_key not in self._accounts or amount is None or limit is None:
            raise ValueError("unknown api key, or invalid quantity or price")
        with self._lock:
            return str(self._add(api_key, pair, side, "limit", amount, limit, "sim").id)

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.status()}")
            remaining = order.quantity - order.executed
            part = _decimal(volume) if volume is not None else None
            order.executed += remaining if part is None or part >= remaining else part
            order.updated = self._clock()

    def age(self, order_id: str, seconds: float) -> None:
        """Move an order's creation `seconds` into the past."""
        with self._lock:
            order = self._orders[int(order_id)]
            order.created -= int(seconds * 1000)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            return STATUS_MAP[self._orders[int(order_id)].status()]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[int(order_id)].as_btcturk()

    def render_venue_error(self, error_name: str) -> Response:
        if error_name in ("rate_limit", "ban"):
            return JSONResponse(
                {"message": "TOO_MANY_REQUESTS", "success": False, "code": 429,
                 "details": "Quota exceeded. Maximum allowed: 300 per 1m. Please try again in 55 second(s).",
                 "limit": "300", "period": "1m", "policy": "account"},
                status_code=429, headers={"Retry-After": "55"},
            )  # fmt: skip
        message, code, status = _SYMBOLIC.get(error_name, (error_name, 1000, 400))
        return answer(message, code, status)

    # -- protocol ----------------------------------------------------------------------------------------
    async def _exchange_info(self, _request: Request) -> Response:
        symbols = [{"id": str(i), "name": name, "nameNormalized": f"{b}_{q}", "status": "TRADING", "numerator": b,
                    "denominator": q, "numeratorScale": 8, "denominatorScale": 2, "hasFraction": False,
                    "filters": [{"filterType": "PRICE_FILTER", "minPrice": "0.0000000000001",
                                 "maxPrice": "10000000", "tickSize": "1", "minExchangeValue": "99.91",
                                 "minAmount": None, "maxAmount": None}],
                    "orderMethods": ["MARKET", "LIMIT", "STOP_MARKET", "STOP_LIMIT"]}
                   for i, (name, (b, q)) in enumerate(_PAIRS.items(), 1)]  # fmt: skip
        data = {"timeZone": "UTC", "serverTime": self._clock(), "symbols": symbols}
        return answer(None, 0, data=data)

    def _endpoint(self, op: str, handler: Callable[..., Any], trade: bool) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get(HEADER_KEY, "")

            async def process(fault: Fault | None) -> Response:
                raw = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request)
                        if trade and not account.can_trade:
                            raise _Refusal("Unauthorized", 401, 401)
                        data = handler(account, request, raw, fault)
                    except _Refusal as refusal:
                        self.errors[refusal.message] += 1
                        return answer(refusal.message, refusal.code, refusal.status)
                message = "SUCCESS" if op == "cancel" else None
                return answer(message, 0, data=data)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request) -> _Account:
        key, stamp, signature = (request.headers.get(h, "") for h in (HEADER_KEY, HEADER_STAMP, HEADER_SIGNATURE))
        if not (key and stamp and signature):
            raise _Refusal("Unauthorized - Headers are missing", 401, 401)
        if not stamp.isdigit() or abs(int(stamp) - self._clock()) > STAMP_TOLERANCE_S * 1000:
            raise _Refusal("Unauthorized - Invalid Nonce", 401, 401)
        account = self._accounts.get(key)
        if account is None:
            raise _Refusal("Unauthorized - Invalid Request", 401, 401)
        try:
            expected = sign(key, account.secret, stamp)
        except BadSecret:  # pragma: no cover - the simulator issues base64 secrets only
            raise _Refusal(*_UNAUTHORIZED) from None
        if not hmac.compare_digest(expected, signature):
            raise _Refusal(*_UNAUTHORIZED)
        return account

    def _add(self, api_key: str, pair: str, side: str, method: str, quantity: Decimal, price: Decimal,
             client_id: str) -> _Order:  # fmt: skip
        # BtcTurk's ids grow with time (its samples: 9932533, then 9932534), which its newest-first lists follow.
        self._last_id += 1 + secrets.randbelow(7)
        order = _Order(self._last_id, api_key, pair, side, method, quantity, price, client_id,
                       self._clock())  # fmt: skip
        self._orders[order.id] = order
        if method == "market":
            order.executed, order.updated = quantity, self._clock()
        return order

    def _mine(self, account: _Account, raw_id: str | None) -> _Order | None:
        if raw_id is None or not raw_id.isdigit():
            return None
        order = self._orders.get(int(raw_id))
        return order if order is not None and order.api_key == account.api_key else None

    def _balances(self, _account: _Account, _request: Request, _raw: bytes, _f: Fault | None) -> list[Any]:
        return [{"asset": a, "assetname": a, "balance": b, "locked": "0", "free": b, "orderFund": "0",
                 "requestFund": "0", "precision": 8} for a, b in (("TRY", "100000"), ("BTC", "10"))]  # fmt: skip

    def _place(self, account: _Account, _request: Request, raw: bytes, _f: Fault | None) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise _Refusal("INVALID_REQUEST", 1000) from None
        pair, side, method = body.get("pairSymbol"), body.get("orderType"), body.get("orderMethod")
        if pair not in _PAIRS:
            raise _Refusal("PAIR_NOT_FOUND", 1013)
        if side not in ("buy", "sell") or method not in ("limit", "market"):
            raise _Refusal("INVALID_ORDER_TYPE", 1000)
        quantity = _decimal(body.get("quantity"))
        price = _decimal(body.get("price")) if method == "limit" else Decimal(1)
        if quantity is None or price is None:
            raise _Refusal("FAILED_LIMIT_ORDER" if method == "limit" else "FAILED_MARKET_ORDER", 1000)
        client_id = str(body.get("newClientOrderId") or "")
        order = self._add(account.api_key, pair, side, method, quantity, price, client_id)
        base, quote = _PAIRS[pair]
        return {"id": order.id, "quantity": f"{quantity:f}", "price": f"{price:f}", "stopPrice": None,
                "newOrderClientId": client_id, "type": side, "method": method, "pairSymbol": pair,
                "pairSymbolNormalized": f"{base}_{quote}", "datetime": order.created}  # fmt: skip

    def _cancel(self, account: _Account, request: Request, _raw: bytes, fault: Fault | None) -> None:
        order = self._mine(account, request.query_params.get("id"))
        if order is None:
            raise _Refusal("NO_ORDER_MATCHES_YOUR_REQUEST", 1000)
        if not order.live:
            raise _Refusal("ORDER_COULD_NOT_BE_CANCELED", 1000)
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        else:
            order.cancelled, order.updated = True, self._clock()

    def _settle(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.live:
                order.cancelled, order.updated = True, self._clock()

    def _lookup(self, account: _Account, request: Request, _raw: bytes, _f: Fault | None) -> dict[str, Any]:
        order = self._mine(account, request.path_params["orderId"])
        if order is None:
            raise _Refusal("Order not found", 1152, 404)
        return order.as_btcturk()

    def _open_orders(self, account: _Account, request: Request, _raw: bytes, _f: Fault | None) -> dict[str, Any]:
        pair = _pair_of(request.query_params.get("pairSymbol"))
        mine = [o for o in self._orders.values() if o.api_key == account.api_key and o.live
                and (pair is None or o.pair == pair)]  # fmt: skip
        return {"bids": [o.as_btcturk() for o in mine if o.side == "buy"],
                "asks": [o.as_btcturk() for o in mine if o.side == "sell"]}  # fmt: skip

    def _all_orders(self, account: _Account, request: Request, _raw: bytes, _f: Fault | None) -> list[Any]:
        """Any status, newest first; startTime/endTime in seconds (as ccxt sends them), page from 1, limit up to
        1000 (default 100), orderId: only ids at or above it."""
        query = request.query_params
        numbers = {k: query.get(k) for k in ("orderId", "startTime", "endTime", "page", "limit")}
        if any(v is not None and not v.isdigit() for v in numbers.values()):
            raise _Refusal("INVALID_REQUEST", 1000)
        page, limit = int(numbers["page"] or 1), int(numbers["limit"] or 100)
        if page < 1 or not 1 <= limit <= 1000:
            raise _Refusal("INVALID_REQUEST", 1000)
        pair = _pair_of(query.get("pairSymbol"))
        start, end, floor = (int(v) if v is not None else None for v in
                             (numbers["startTime"], numbers["endTime"], numbers["orderId"]))  # fmt: skip
        picked = [o for o in self._orders.values() if o.api_key == account.api_key
                  and (pair is None or o.pair == pair) and (floor is None or o.id >= floor)
                  and (start is None or o.created // 1000 >= start)
                  and (end is None or o.created // 1000 <= end)]  # fmt: skip
        picked.sort(key=lambda o: o.id, reverse=True)
        return [o.as_btcturk() for o in picked[(page - 1) * limit : page * limit]]


def _pair_of(text: str | None) -> str | None:
    # BtcTurk's docs write the pair both ways ("BTCTRY", "BTC_TRY").
    return text.replace("_", "").upper() if text else None
