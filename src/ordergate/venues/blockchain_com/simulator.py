"""A local api.blockchain.com/v3/exchange for the calls ordergate and ccxt's blockchaincom make.

Protocol as Blockchain.com speaks it: the secret in `X-API-Token`, nothing signed; errors as Spring-style bodies
`{"timestamp", "status", "error", "message", "path"}`.

    GET    /symbols                 public
    GET    /accounts | /fees        ops "accounts", "fees"
    POST   /orders                  op "place" (needs the trading permission)
    GET    /orders                  op "orders"
    DELETE /orders/{orderId}        op "cancel" (needs the trading permission)
    GET    /orders/{orderId}        op "lookup"

A cancel of an open order answers 200 with an empty body; of anything else (unknown, another account's, closed:
the last is a choice, Blockchain.com documents no answer for it) 404. A token without the trading permission gets
403 Forbidden (assumed, see constants). Requests are counted under the account's label (SimAccount.api_key).

Control surface (unsigned JSON; never serve it where real keys are used): simkit's /_control routes.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.blockchain_com.constants import HEADER_TOKEN, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort

_PAIRS = {"BTC-USD": ("BTC", "USD"), "ETH-USD": ("ETH", "USD"), "BTC-EUR": ("BTC", "EUR")}
_LIVE = frozenset({"OPEN", "PART_FILLED"})  # what getOrders answers without a status ("defaulting to live orders")
_LIST_MAX = 100
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests"}


def spring_error(status: int, path: str, message: str = "") -> JSONResponse:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "+00:00")
    body = {"timestamp": stamp, "status": status, "error": _REASONS.get(status, "Error"), "message": message,
            "path": path}  # fmt: skip
    return JSONResponse(body, status_code=status)


@dataclass(slots=True)
class _Account:
    label: str
    token: str
    can_trade: bool


@dataclass(slots=True)
class _Order:
    id: int
    token: str
    symbol: str
    side: str
    ord_type: str
    quantity: Decimal
    price: Decimal
    client_id: str
    created: int
    executed: Decimal = Decimal(0)
    cancelled: bool = False

    @property
    def live(self) -> bool:
        return not self.cancelled and self.executed < self.quantity

    def status(self) -> str:
        if self.cancelled:
            return "CANCELED"
        if self.executed >= self.quantity:
            return "FILLED"
        return "PART_FILLED" if self.executed else "OPEN"

    def as_blockchain(self) -> dict[str, Any]:
        return {"exOrdId": self.id, "clOrdId": self.client_id, "ordType": self.ord_type, "ordStatus": self.status(),
                "side": self.side, "price": float(self.price), "text": "", "symbol": self.symbol,
                "lastShares": float(self.executed), "lastPx": float(self.price) if self.executed else 0.0,
                "leavesQty": float(self.quantity - self.executed), "cumQty": float(self.executed),
                "avgPx": float(self.price) if self.executed else 0.0, "orderQty": float(self.quantity),
                "timeInForce": "GTC", "timestamp": self.created}  # fmt: skip


def _decimal(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() and result > 0 else None


class _Refusal(Exception):
    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message)
        self.status, self.message = status, message


class BlockchainComSimulator(SimulatorBase):
    def __init__(
        self, *, jitter_s: float = 0.0, clock: Callable[[], int] = lambda: time.time_ns() // 1_000_000
    ) -> None:
        super().__init__(jitter_s=jitter_s)
        self._clock = clock  # milliseconds
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        self._ids = itertools.count(281775861306290 + secrets.randbelow(10**6) * 1000)
        private = [
            ("/accounts", "GET", "accounts", self._balances, False),
            ("/fees", "GET", "fees", self._fees, False),
            ("/orders", "POST", "place", self._place, True),
            ("/orders", "GET", "orders", self._list, False),
            ("/orders/{orderId}", "DELETE", "cancel", self._cancel, True),
            ("/orders/{orderId}", "GET", "lookup", self._lookup, False),
        ]
        routes = [
            Route(path, self._endpoint(op, handler, trade), methods=[method])
            for path, method, op, handler, trade in private
        ]
        routes += [Route("/symbols", self._symbols, methods=["GET"]), *self.control_routes()]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        label, token = "label-" + secrets.token_hex(6), secrets.token_hex(32)
        with self._lock:
            self._accounts[token] = _Account(label, token, can_trade)
        return SimAccount(label, token)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        token = account.secret or next((a.token for a in self._accounts.values() if a.label == account.api_key), "")
        return self.place_order(token, quantity=volume, price=price), {}

    def place_order(self, token: str, *, symbol: str = "BTC-USD", side: str = "BUY", quantity: str = "1",
                    price: str = "100") -> str:  # fmt: skip
        amount, limit = _decimal(quantity), _decimal(price)
        if token not in self._accounts or amount is None or limit is None:
            raise ValueError("unknown token, or invalid quantity or price")
        with self._lock:
            return str(self._add(token, symbol, side, "LIMIT", amount, limit, "sim").id)

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.status()}")
            remaining = order.quantity - order.executed
            part = _decimal(volume) if volume is not None else None
            order.executed += remaining if part is None or part >= remaining else part

    def age(self, order_id: str, seconds: float) -> None:
        """Move an order's creation `seconds` into the past."""
        with self._lock:
            self._orders[int(order_id)].created -= int(seconds * 1000)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            return STATUS_MAP[self._orders[int(order_id)].status()]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[int(order_id)].as_blockchain()

    def render_venue_error(self, error_name: str) -> Response:
        status = {"auth": 401, "permission": 403, "rate_limit": 429, "unavailable": 503}.get(error_name, 400)
        return spring_error(status, "/orders", "" if status != 400 else error_name)

    # -- protocol ----------------------------------------------------------------------------------------
    def _endpoint(self, op: str, handler: Any, needs_trade: bool) -> Any:
        async def endpoint(request: Request) -> Response:
            account = self._accounts.get(request.headers.get(HEADER_TOKEN, ""))
            raw = await request.body()

            def process(fault: Fault | None) -> Response:
                if account is None:
                    return spring_error(401, request.url.path)
                if needs_trade and not account.can_trade:
                    return spring_error(403, request.url.path, "Access is denied")
                try:
                    with self._lock:
                        result = handler(account, request, raw)
                except _Refusal as refusal:
                    return spring_error(refusal.status, request.url.path, refusal.message)
                return Response(b"", status_code=200) if result is None else JSONResponse(result)

            return await self.serve_op(request, op, account.label if account else "", process)

        return endpoint

    async def _symbols(self, _request: Request) -> Response:
        return JSONResponse({pair: {"base_currency": b, "base_currency_scale": 8, "counter_currency": q,
                                    "counter_currency_scale": 2, "min_price_increment": 1,
                                    "min_price_increment_scale": 2, "min_order_size": 10000,
                                    "min_order_size_scale": 8, "max_order_size": 0, "max_order_size_scale": 8,
                                    "lot_size": 1, "lot_size_scale": 8, "status": "open", "id": i,
                                    "auction_price": 0, "auction_size": 0, "auction_time": "",
                                    "imbalance": 0} for i, (pair, (b, q)) in enumerate(_PAIRS.items(), 1)})  # fmt: skip

    def _add(self, token: str, symbol: str, side: str, ord_type: str, quantity: Decimal, price: Decimal,
             client_id: str) -> _Order:  # fmt: skip
        order = _Order(next(self._ids), token, symbol, side, ord_type, quantity, price, client_id,
                       self._clock())  # fmt: skip
        self._orders[order.id] = order
        return order

    def _mine(self, account: _Account, order_id: str) -> _Order | None:
        if not order_id.isdigit():
            return None
        order = self._orders.get(int(order_id))
        return order if order is not None and order.token == account.token else None

    def _balances(self, _account: _Account, request: Request, _raw: bytes) -> dict[str, Any]:
        name = request.query_params.get("account", "primary")
        return {name: [{"currency": c, "balance": 10.0, "available": 10.0, "balance_local": 10.0,
                        "available_local": 10.0, "rate": 1.0} for c in ("BTC", "ETH", "USD")]}  # fmt: skip

    def _fees(self, _account: _Account, _request: Request, _raw: bytes) -> dict[str, Any]:
        return {"makerRate": 0.004, "takerRate": 0.0045, "volumeInUSD": 0.0}

    def _place(self, account: _Account, _request: Request, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw)
        except ValueError:
            raise _Refusal(400, "malformed JSON") from None
        symbol, side, ord_type = body.get("symbol"), body.get("side"), body.get("ordType")
        quantity, price = _decimal(body.get("orderQty")), _decimal(body.get("price"))
        if symbol not in _PAIRS or side not in ("BUY", "SELL") or ord_type != "LIMIT" or None in (quantity, price):
            raise _Refusal(400, "invalid order")
        order = self._add(account.token, symbol, side, ord_type, quantity, price, str(body.get("clOrdId") or ""))  # type: ignore[arg-type]
        return order.as_blockchain()

    def _list(self, account: _Account, request: Request, _raw: bytes) -> list[dict[str, Any]]:
        """getOrders: live orders unless `status` names one; from/to in ms (both inclusive here: undocumented);
        at most `limit` (default and most 100); newest first (undocumented too, paging by `to` implies it)."""
        query = request.query_params
        state, symbol = query.get("status"), query.get("symbol")
        numbers = {k: query.get(k) for k in ("from", "to", "limit")}
        if any(v is not None and not v.isdigit() for v in numbers.values()):
            raise _Refusal(400, "from, to and limit are integers")
        if state is not None and state not in STATUS_MAP:
            raise _Refusal(400, f"unknown status {state[:20]}")
        limit = min(int(numbers["limit"] or _LIST_MAX), _LIST_MAX)
        start, end = (int(v) if v is not None else None for v in (numbers["from"], numbers["to"]))
        wanted = {state} if state is not None else _LIVE
        picked = [o for o in self._orders.values() if o.token == account.token and o.status() in wanted
                  and (symbol is None or o.symbol == symbol) and (start is None or o.created >= start)
                  and (end is None or o.created <= end)]  # fmt: skip
        picked.sort(key=lambda o: (o.created, o.id), reverse=True)
        return [o.as_blockchain() for o in picked[:limit]]

    def _cancel(self, account: _Account, request: Request, _raw: bytes) -> None:
        order = self._mine(account, request.path_params["orderId"])
        if order is None or not order.live:
            raise _Refusal(404)
        order.cancelled = True

    def _lookup(self, account: _Account, request: Request, _raw: bytes) -> dict[str, Any]:
        order = self._mine(account, request.path_params["orderId"])
        if order is None:
            raise _Refusal(404)
        return order.as_blockchain()
