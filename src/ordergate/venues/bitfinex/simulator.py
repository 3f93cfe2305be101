"""A local api.bitfinex.com for the REST v2 calls ordergate, bitfinex-api-py and ccxt make.

Protocol as Bitfinex speaks it: bfx-apikey / bfx-nonce / bfx-signature headers, the HMAC-SHA384 signature checked
over "/api" + path + nonce + the exact body received, a nonce that must exceed the key's last accepted one, and
business errors as HTTP 500 `["error", code, text]` (the rate limit as HTTP 429).

    POST /v2/auth/w/order/submit | /v2/auth/w/order/cancel           (ops "submit", "cancel"; need orders write)
    POST /v2/auth/r/orders[/{symbol}] | /v2/auth/r/orders[/{symbol}]/hist   (ops "orders", "hist")
    POST /v2/auth/r/permissions                                          (op "permissions")
    GET  /v2/platform/status                                             (public)

Answers follow Bitfinex's: a cancel of an order that is unknown, foreign, executed or cancelled is 10001 "Order
not found."; an accepted cancel is an `oc-req` notification "Submitted for cancellation; waiting for confirmation"
carrying the order as it was when the request arrived; /orders lists live orders, /hist closed ones.

Control surface (unsigned JSON; never serve it where real keys are used): simkit's /_control routes. Faults and
accounting come from simkit; `venue_error` takes simkit's symbolic names or a raw code ("10020", "11010", ...).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import string
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.bitfinex.auth import sign
from ordergate.venues.bitfinex.constants import HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, status_of
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path

_TEXTS = {
    10001: "Order not found.",
    10020: "id: invalid",
    10100: "apikey: invalid",
    10114: "nonce: small",
    11010: "ratelimit: error",
    20060: "maintenance",
}
_SYMBOLIC = {"rate_limit": 11010, "auth": 10100, "unavailable": 20060, "ban": 20060, "restricted": 20060}
_PERMISSION = (10001, "api_key: permission invalid")  # ccxt's comment on 10001: "api_key: permission invalid"
_TYPES = frozenset({"LIMIT", "MARKET", "STOP", "STOP LIMIT", "TRAILING STOP", "FOK", "IOC"})
_ALNUM = string.ascii_letters + string.digits
_SCOPES = ("account", "history", "orders", "positions", "funding", "settings", "wallets", "withdraw")


class _Refusal(Exception):
    def __init__(self, code: int, text: str | None = None) -> None:
        super().__init__(text)
        self.code, self.text = code, text or _TEXTS.get(code, "error")


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool
    last_nonce: int = 0


@dataclass(slots=True)
class _Order:
    id: int
    api_key: str
    symbol: str
    kind: str
    amount: Decimal  # signed original amount: positive buys, negative sells
    price: Decimal
    cid: int | None
    created: int
    executed: Decimal = Decimal(0)  # unsigned
    cancelled: bool = False
    updated: int = 0

    @property
    def live(self) -> bool:
        return not self.cancelled and self.executed < abs(self.amount)

    def status_text(self) -> str:
        sign_ = 1 if self.amount > 0 else -1
        fill = f"{self.price:f}({sign_ * self.executed:f})"
        if self.cancelled:
            return f"CANCELED was: PARTIALLY FILLED @ {fill}" if self.executed else "CANCELED"
        if self.executed >= abs(self.amount):
            return f"EXECUTED @ {fill}"
        return f"PARTIALLY FILLED @ {fill}" if self.executed else "ACTIVE"

    def as_bitfinex(self) -> list[Any]:
        sign_ = 1 if self.amount > 0 else -1
        remaining = self.amount - sign_ * self.executed
        average = float(self.price) if self.executed else 0
        return [self.id, None, self.cid, self.symbol, self.created, self.updated or self.created, float(remaining),
                float(self.amount), self.kind, None, None, None, 0, self.status_text(), None, None,
                float(self.price), average, 0, 0, None, None, None, 0, 0, None, None, None, "API>BFX", None, None,
                {}]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    op: str
    body: Any
    error: int | None


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _decimal(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


class BitfinexSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        # Bitfinex's order ids are one exchange-wide sequence (12 digits today), so a later order has a larger id.
        self._last_id = 10**11 + secrets.randbelow(10**11)
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        private = [
            ("/v2/auth/w/order/submit", "submit", self._submit, True),
            ("/v2/auth/w/order/cancel", "cancel", self._cancel, True),
            ("/v2/auth/r/orders/hist", "hist", self._history, False),
            ("/v2/auth/r/orders/{symbol}/hist", "hist", self._history, False),
            ("/v2/auth/r/orders", "orders", self._active, False),
            ("/v2/auth/r/orders/{symbol}", "orders", self._active, False),
            ("/v2/auth/r/permissions", "permissions", self._permissions, False),
        ]
        routes = [
            Route(path, self._endpoint(op, handler, trade), methods=["POST"]) for path, op, handler, trade in private
        ]
        routes += [
            Route("/v2/platform/status", lambda _r: JSONResponse([1]), methods=["GET"]),
            *self.control_routes(),
        ]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Bitfinex's shapes: 43-character key and secret.
        api_key = "".join(secrets.choice(_ALNUM) for _ in range(43))
        secret = "".join(secrets.choice(_ALNUM) for _ in range(43))
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, can_trade)
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        return str(self.place_order(account.api_key, amount=volume, price=price)), {}

    def place_order(
        self,
        api_key: str,
        *,
        symbol: str = "tBTCUSD",
        amount: str = "1",
        price: str = "30000",
        kind: str = "EXCHANGE LIMIT",
    ) -> int:
        amount_d, price_d = _decimal(amount), _decimal(price)
        if api_key not in self._accounts or not amount_d or not price_d or price_d <= 0:
            raise ValueError("unknown api key, or invalid amount or price")
        with self._lock:
            return self._new_order(api_key, symbol, kind, amount_d, price_d, None).id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.status_text()}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            return status_of(self._orders[int(order_id)].status_text())

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return {"order": self._orders[int(order_id)].as_bitfinex()}

    def render_venue_error(self, error: str) -> Response:
        if error == "permission":
            return self._error(*_PERMISSION)
        code = _SYMBOLIC.get(error) or (int(error) if error.isdigit() else 10000)
        return self._error(code, _TEXTS.get(code, "Unknown error"))

    # -- protocol ----------------------------------------------------------------------------------------
    @staticmethod
    def _error(code: int, text: str) -> Response:
        return JSONResponse(["error", code, text], status_code=429 if code == 11010 else 500)

    def _endpoint(self, op: str, handler: Callable[..., Any], trade: bool) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get(HEADER_KEY, "")

            async def process(fault: Fault | None) -> Response:
                raw = await request.body()
                body: Any = None
                with self._lock:
                    try:
                        account = self._authenticate(api_key, venue_path(request), request.headers, raw)
                        body = _json_body(raw)
                        if trade and not account.can_trade:
                            raise _Refusal(*_PERMISSION)
                        answer = handler(account, body, request.path_params.get("symbol"), fault)
                    except _Refusal as refusal:
                        self.errors[str(refusal.code)] += 1
                        self.seen.append(SeenRequest(api_key, op, body, refusal.code))
                        return self._error(refusal.code, refusal.text)
                    self.seen.append(SeenRequest(api_key, op, body, None))
                return JSONResponse(answer)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, api_key: str, path: str, headers: Mapping[str, str], raw: bytes) -> _Account:
        account = self._accounts.get(api_key)
        if account is None:
            raise _Refusal(10100, "apikey: invalid")
        nonce = headers.get(HEADER_NONCE, "")
        expected = sign(account.secret, path, nonce, raw)
        if not nonce.isdigit() or not hmac.compare_digest(expected, headers.get(HEADER_SIGNATURE, "")):
            raise _Refusal(10100, "apikey: digest invalid")
        if int(nonce) <= account.last_nonce:
            raise _Refusal(10114)
        account.last_nonce = int(nonce)
        return account

    def _new_order(
        self, api_key: str, symbol: str, kind: str, amount: Decimal, price: Decimal, cid: int | None
    ) -> _Order:
        self._last_id += 1 + secrets.randbelow(1000)  # other accounts' orders take the ids in between
        order_id = self._last_id
        order = _Order(order_id, api_key, symbol, kind, amount, price, cid, _now_ms())
        self._orders[order_id] = order
        if kind.removeprefix("EXCHANGE ") == "MARKET":
            self._fill_locked(order, None)
        return order

    def _submit(self, account: _Account, body: Any, _symbol: str | None, _fault: Fault | None) -> list[Any]:
        kind = str(body.get("type", "")).upper()
        symbol, amount = str(body.get("symbol", "")), _decimal(body.get("amount"))
        price = _decimal(body.get("price", "0"))
        if kind.removeprefix("EXCHANGE ") not in _TYPES:
            raise _Refusal(10020, "type: invalid")
        if not symbol.startswith("t") or len(symbol) < 7:
            raise _Refusal(10020, "symbol: invalid")
        if not amount:
            raise _Refusal(10020, "amount: invalid")
        if price is None or price < 0 or (kind.endswith("LIMIT") and not price):
            raise _Refusal(10020, "price: invalid")
        cid = body.get("cid")
        order = self._new_order(account.api_key, symbol, kind, amount, price, cid if type(cid) is int else None)
        return [_now_ms(), "on-req", None, None, [order.as_bitfinex()], None, "SUCCESS", "Submitting 1 orders."]

    def _cancel(self, account: _Account, body: Any, _symbol: str | None, fault: Fault | None) -> list[Any]:
        order_id, cid, cid_date = body.get("id"), body.get("cid"), body.get("cid_date")
        mine = [o for o in self._orders.values() if o.api_key == account.api_key]
        if type(order_id) is int:
            order = next((o for o in mine if o.id == order_id), None)
        elif type(cid) is int and isinstance(cid_date, str):
            day = [
                o for o in mine if o.cid == cid and time.strftime("%Y-%m-%d", time.gmtime(o.created / 1000)) == cid_date
            ]
            order = day[-1] if day else None
        else:
            raise _Refusal(10020, "id: invalid")
        if order is None or not order.live:
            raise _Refusal(10001)
        submitted = order.as_bitfinex()
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.id)
        else:
            self._cancel_locked(order)
        text = f"Submitted for cancellation; waiting for confirmation (ID: {order.id})."
        return [_now_ms(), "oc-req", None, None, submitted, None, "SUCCESS", text]

    def _settle_cancel(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.live:  # a fill may have won the race meanwhile
                self._cancel_locked(order)

    def _active(self, account: _Account, body: Any, symbol: str | None, _fault: Fault | None) -> list[Any]:
        return [o.as_bitfinex() for o in self._matching(account, body, symbol) if o.live]

    def _history(self, account: _Account, body: Any, symbol: str | None, _fault: Fault | None) -> list[Any]:
        closed = [o for o in self._matching(account, body, symbol) if not o.live]
        bounds = {name: body.get(name) for name in ("start", "end") if body.get(name) is not None}
        for name, value in bounds.items():
            if type(value) is not int:
                raise _Refusal(10020, f"{name}: invalid")
        start, end = bounds.get("start", 0), bounds.get("end", 2**63)
        limit = body.get("limit") if type(body.get("limit")) is int else 25
        # Newest first by MTS_UPDATE; orders closed in the same millisecond, the later-placed (larger id) first.
        chosen = sorted((o for o in closed if start <= o.updated <= end), key=lambda o: (o.updated, o.id), reverse=True)
        return [o.as_bitfinex() for o in chosen[: max(1, min(limit, 2500))]]

    def backdate(self, order_id: str, seconds: float) -> None:
        """The order was placed (and last changed) `seconds` earlier than it was (listing tests with `since`)."""
        with self._lock:
            order = self._orders[int(order_id)]
            order.created -= int(seconds * 1000)
            order.updated = order.updated - int(seconds * 1000) if order.updated else 0

    def _permissions(self, account: _Account, _body: Any, _symbol: str | None, _fault: Fault | None) -> list[Any]:
        return [[scope, 1, int(account.can_trade and scope == "orders")] for scope in _SCOPES]

    def _matching(self, account: _Account, body: Any, symbol: str | None) -> list[_Order]:
        ids = body.get("id")
        if ids is not None and (not isinstance(ids, list) or not all(type(i) is int for i in ids)):
            raise _Refusal(10020, "id: invalid")
        return [
            o
            for o in self._orders.values()
            if o.api_key == account.api_key and (ids is None or o.id in ids) and (symbol is None or o.symbol == symbol)
        ]

    def _cancel_locked(self, order: _Order) -> None:
        order.cancelled = True
        order.updated = _now_ms()

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = abs(order.amount) - order.executed
        order.executed += remaining if volume is None or volume >= remaining else volume
        order.updated = _now_ms()


def _json_body(raw: bytes) -> dict[str, Any]:
    try:
        decoded = json.loads(raw.decode() or "{}")
    except ValueError:
        raise _Refusal(10020, "body: invalid") from None
    if not isinstance(decoded, dict):
        raise _Refusal(10020, "body: invalid")
    return decoded
