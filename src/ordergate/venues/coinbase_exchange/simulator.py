"""A local api.exchange.coinbase.com for the REST calls ordergate and ccxt make.

Protocol as Coinbase Exchange speaks it: `CB-ACCESS-KEY/-SIGN/-TIMESTAMP/-PASSPHRASE` checked with the recipe over
the exact request target and body received (timestamp within 30 s), JSON bodies, `{"message": …}` errors with
Coinbase's own strings and HTTP statuses, orders scoped to the key's profile, a "view"-only key refused with 403
`Forbidden` on trading calls, and the purge: an order cancelled without any fill disappears, so `GET` and `DELETE`
on it answer 404 `NotFound` like an id that never existed (orders with fills keep their record as `done`).

    GET    /products | /currencies | /time                    (public)
    GET    /accounts                                          GetAccounts
    POST   /orders                                            PostOrders
    GET    /orders?status=&product_id=&limit=&start_date=&after=&before=   GetOrders (CB-BEFORE / CB-AFTER headers)
    GET    /orders/{id}                                       GetOrder
    DELETE /orders/{id}?product_id=                           DeleteOrder

Control surface (unsigned, for tests and curl) and faults come from `ordergate.venues.simkit`; `venue_error` takes a
symbolic name, a Coinbase message (its usual status is used) or `"<status>:<message>"`.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.coinbase_exchange.auth import sign
from ordergate.venues.coinbase_exchange.constants import (
    DONE_REASONS,
    LIST_DEFAULT_LIMIT,
    LIST_MAX_LIMIT,
    LIVE_STATUSES,
    STATUS_MAP,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

TIMESTAMP_WINDOW_S = 30
PRODUCTS = {"BTC-USD": Decimal("30000"), "ETH-USD": Decimal("2000"), "ETH-BTC": Decimal("0.05")}
# Coinbase's messages and the status each comes with (see constants.py for sources).
MESSAGE_STATUS = {
    "NotFound": 404,
    "Order already done": 400,
    "Invalid order id": 400,
    "Invalid API Key": 401,
    "invalid signature": 401,
    "Invalid Passphrase": 401,
    "request timestamp expired": 401,
    "Forbidden": 403,
    "Private rate limit exceeded": 429,
}
_SYMBOLIC = {
    "rate_limit": "Private rate limit exceeded",
    "auth": "Invalid API Key",
    "permission": "Forbidden",
    "unavailable": "503:Service Unavailable",
}
_TRADE_OPS = frozenset({"PostOrders", "DeleteOrder"})


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.response = error(status, message)


def _refuse(message: str) -> _Refusal:
    return _Refusal(MESSAGE_STATUS.get(message, 400), message)


@dataclass(slots=True)
class _Account:
    api_key: str
    secret_b64: str
    passphrase: str
    can_trade: bool
    profile_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(slots=True)
class _Order:
    id: str
    profile_id: str
    product_id: str
    side: str
    type: str
    size: Decimal
    price: Decimal
    client_oid: str | None = None
    status: str = "open"
    done_reason: str | None = None
    filled_size: Decimal = Decimal(0)
    executed_value: Decimal = Decimal(0)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    done_at: datetime | None = None
    purged: bool = False  # cancelled without fills: Coinbase no longer shows it

    def finish(self, reason: str) -> None:
        self.status, self.done_reason, self.done_at = "done", reason, datetime.now(UTC)
        self.purged = reason == "canceled" and not self.filled_size

    def as_coinbase(self) -> dict[str, Any]:
        order: dict[str, Any] = {
            "id": self.id,
            "price": f"{self.price:.8f}",
            "size": f"{self.size:.8f}",
            "product_id": self.product_id,
            "profile_id": self.profile_id,
            "side": self.side,
            "type": self.type,
            "time_in_force": "GTC",
            "post_only": False,
            "created_at": _iso(self.created_at),
            "fill_fees": "0.0000000000000000",
            "filled_size": f"{self.filled_size:.8f}",
            "executed_value": f"{self.executed_value:.16f}",
            "status": self.status,
            "settled": self.status == "done",
            "stp": "dc",
        }
        if self.client_oid:
            order["client_oid"] = self.client_oid
        if self.done_at is not None:
            order["done_at"], order["done_reason"] = _iso(self.done_at), self.done_reason
        return order


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _when(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Refusal(400, "Invalid date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class CoinbaseExchangeSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Any = time.time) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._clock = clock
        starlette = Starlette(
            routes=[
                Route("/products", lambda _r: JSONResponse(_products()), methods=["GET"]),
                Route("/currencies", lambda _r: JSONResponse(_currencies()), methods=["GET"]),
                Route("/time", self._time, methods=["GET"]),
                Route("/accounts", self._endpoint("GetAccounts", self._accounts_of), methods=["GET"]),
                Route("/orders", self._endpoint("PostOrders", self._post_order), methods=["POST"]),
                Route("/orders", self._endpoint("GetOrders", self._list_orders), methods=["GET"]),
                Route("/orders/{order_id}", self._endpoint("GetOrder", self._get_order), methods=["GET"]),
                Route("/orders/{order_id}", self._endpoint("DeleteOrder", self._cancel), methods=["DELETE"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Same shapes as Coinbase's: a 32-hex-digit key, a base64 64-byte secret, a passphrase the user chose.
        secret = base64.b64encode(os.urandom(64)).decode()
        account = _Account(os.urandom(16).hex(), secret, "pp-" + os.urandom(6).hex(), can_trade)
        with self._lock:
            self._accounts[account.api_key] = account
        return SimAccount(account.api_key, account.secret_b64, account.passphrase)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        size, limit = _decimal(volume), _decimal(price)
        owner = self._accounts.get(account.api_key)
        if owner is None or size is None or limit is None:
            raise ValueError("unknown api key, or invalid volume or price")
        with self._lock:
            order = _Order(str(uuid.uuid4()), owner.profile_id, "BTC-USD", "buy", "limit", size, limit)
            self._orders[order.id] = order
        return order.id, {"symbolPair": "BTC-USD"}  # Coinbase recommends naming the product on a cancel

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in LIVE_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def set_created(self, order_id: str, when: datetime) -> None:
        """Give an order another creation time, as if it had been placed then."""
        with self._lock:
            self._orders[order_id].created_at = when.astimezone(UTC)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES:
                return OrderStatus.partiallyFilled if order.filled_size else OrderStatus.inProgress
            return DONE_REASONS.get(order.done_reason or "", STATUS_MAP.get(order.status, OrderStatus.unknown))

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            order = self._orders[order_id]
            return {**order.as_coinbase(), "purged": order.purged}

    def render_venue_error(self, error_name: str) -> Response:
        text = _SYMBOLIC.get(error_name, error_name)
        status_text, sep, message = text.partition(":")
        if sep and status_text.isdigit():
            return error(int(status_text), message)
        return error(MESSAGE_STATUS.get(text, 400), text)

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.size - order.filled_size
        step = remaining if volume is None or volume >= remaining else volume
        order.filled_size += step
        order.executed_value += step * order.price
        if order.filled_size >= order.size:
            order.finish("filled")

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _time(self, _request: Request) -> Response:
        now = self._clock()
        iso = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return JSONResponse({"iso": iso, "epoch": now})

    def _endpoint(self, op: str, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get("CB-ACCESS-KEY", "")

            async def process(fault: Fault | None) -> Response:
                body = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request, body)
                        if op in _TRADE_OPS and not account.can_trade:
                            raise _refuse("Forbidden")
                        result = handler(account, request, body, fault)
                        return result if isinstance(result, Response) else JSONResponse(result)
                    except _Refusal as refusal:
                        self.errors[refusal.message] += 1
                        return refusal.response

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, body: bytes) -> _Account:
        for name in ("CB-ACCESS-KEY", "CB-ACCESS-SIGN", "CB-ACCESS-TIMESTAMP", "CB-ACCESS-PASSPHRASE"):
            if not request.headers.get(name):
                raise _Refusal(400, f"{name} header is required")
        account = self._accounts.get(request.headers["CB-ACCESS-KEY"])
        if account is None:
            raise _refuse("Invalid API Key")
        stamp = request.headers["CB-ACCESS-TIMESTAMP"]
        try:
            skew = abs(float(stamp) - self._clock())
        except ValueError:
            raise _refuse("request timestamp expired") from None
        if skew > TIMESTAMP_WINDOW_S:
            raise _refuse("request timestamp expired")
        expected = sign(stamp, request.method, _signed_target(request), body, account.secret_b64)
        if not hmac.compare_digest(expected.encode(), request.headers["CB-ACCESS-SIGN"].encode()):
            raise _refuse("invalid signature")
        if not hmac.compare_digest(request.headers["CB-ACCESS-PASSPHRASE"].encode(), account.passphrase.encode()):
            raise _refuse("Invalid Passphrase")
        return account

    def _mine(self, account: _Account, order_id: str) -> _Order:
        try:
            uuid.UUID(order_id)
        except ValueError:
            raise _refuse("Invalid order id") from None
        order = self._orders.get(order_id)
        if order is None or order.profile_id != account.profile_id or order.purged:
            raise _refuse("NotFound")
        return order

    def _accounts_of(self, account: _Account, _request: Request, _body: bytes, _f: Fault | None) -> Any:
        return [
            {"id": str(uuid.uuid5(uuid.NAMESPACE_OID, account.profile_id + c)), "currency": c, "balance": bal,
             "hold": "0", "available": bal, "profile_id": account.profile_id, "trading_enabled": True}
            for c, bal in (("USD", "100000.00"), ("BTC", "10.00000000"), ("ETH", "100.00000000"))
        ]  # fmt: skip

    def _post_order(self, account: _Account, _request: Request, body: bytes, _f: Fault | None) -> Any:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise _Refusal(400, "Invalid request body") from None
        if not isinstance(params, dict) or params.get("product_id") not in PRODUCTS:
            raise _Refusal(400, "Product not found")
        order_type, side = params.get("type", "limit"), params.get("side")
        size = _decimal(params.get("size"))
        price = _decimal(params.get("price")) if order_type == "limit" else PRODUCTS[params["product_id"]]
        if side not in ("buy", "sell") or order_type not in ("limit", "market") or size is None or price is None:
            raise _Refusal(400, "Invalid order: side, type, size and price (for limit orders) are required")
        order = _Order(str(uuid.uuid4()), account.profile_id, params["product_id"], side, order_type, size, price)
        order.client_oid = params.get("client_oid")
        order.status = "pending"
        self._orders[order.id] = order
        answer = order.as_coinbase()  # "pending" as Coinbase answers; it rests as "open" right after
        order.status = "open"
        if order_type == "market":
            self._fill_locked(order, None)
        return answer

    def _list_orders(self, account: _Account, request: Request, _body: bytes, _f: Fault | None) -> Any:
        params = request.query_params
        wanted = set(params.getlist("status")) or {"open", "pending", "active"}
        product, limit = params.get("product_id"), params.get("limit", str(LIST_DEFAULT_LIMIT))
        if not limit.isdigit() or not 0 < int(limit) <= LIST_MAX_LIMIT:
            raise _Refusal(400, "limit must be between 1 and 1000")
        if wanted - {"open", "pending", "active", "received", "done", "rejected", "all"}:
            raise _Refusal(400, "Invalid status")
        start, after, before = (_when(params.get(name)) for name in ("start_date", "after", "before"))
        mine = [
            o for o in self._orders.values()
            if o.profile_id == account.profile_id and not o.purged and ("all" in wanted or o.status in wanted)
            and product in (None, o.product_id) and (start is None or o.created_at >= start)
            and (after is None or o.created_at < after) and (before is None or o.created_at > before)
        ]  # fmt: skip
        # Newest first; `after` pages to older orders, `before` to newer ones, both by creation time (GetOrders).
        mine.sort(key=lambda o: o.created_at, reverse=before is None)
        page = mine[: int(limit)]
        if before is not None:
            page.reverse()
        headers = {"CB-BEFORE": _iso(page[0].created_at), "CB-AFTER": _iso(page[-1].created_at)} if page else {}
        return JSONResponse([o.as_coinbase() for o in page], headers=headers)

    def _get_order(self, account: _Account, request: Request, _body: bytes, _f: Fault | None) -> Any:
        return self._mine(account, request.path_params["order_id"]).as_coinbase()

    def _cancel(self, account: _Account, request: Request, _body: bytes, fault: Fault | None) -> Any:
        order = self._mine(account, request.path_params["order_id"])
        # product_id travels in the query string (the docs); a wrong one does not find the order in that book.
        product = request.query_params.get("product_id")
        if product is not None and product != order.product_id:
            raise _refuse("NotFound")
        if order.status not in LIVE_STATUSES:
            raise _refuse("Order already done")
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.id)
        else:
            order.finish("canceled")
        return order.id

    def _settle_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES:
                order.finish("canceled")


def _signed_target(request: Request) -> str:
    """What the client signed: the path as the venue sees it (without a mount prefix) plus the raw query."""
    query = request.scope.get("query_string", b"").decode()
    return venue_path(request) + ("?" + query if query else "")


def _products() -> list[dict[str, Any]]:
    return [
        {"id": pid, "base_currency": pid.split("-")[0], "quote_currency": pid.split("-")[1],
         "base_increment": "0.00000001", "quote_increment": "0.01" if pid.endswith("USD") else "0.00001",
         "base_min_size": "0.000016", "base_max_size": "1500", "min_market_funds": "1",
         "max_market_funds": "20000000", "display_name": pid.replace("-", "/"), "margin_enabled": False,
         "post_only": False, "limit_only": False, "cancel_only": False, "trading_disabled": False,
         "status": "online", "status_message": "", "auction_mode": False}
        for pid in PRODUCTS
    ]  # fmt: skip


def _currencies() -> list[dict[str, Any]]:
    kinds = {"USD": "fiat", "BTC": "crypto", "ETH": "crypto"}
    return [
        {"id": c, "name": c, "min_size": "0.00000001", "status": "online", "message": "",
         "max_precision": "0.01" if kind == "fiat" else "0.00000001", "convertible_to": [],
         "details": {"type": kind, "symbol": None}, "supported_networks": []}
        for c, kind in kinds.items()
    ]  # fmt: skip
