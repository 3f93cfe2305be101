"""A local api.gemini.com for the REST calls ordergate and ccxt make.

Protocol as Gemini speaks it: the payload is read from `X-GEMINI-PAYLOAD` (base64 JSON; any body is ignored), the
signature is checked as hex HMAC-SHA384 over that base64 string with the key's secret, the payload's `request` must
name the path called (`EndpointMismatch`), nonces strictly increase per key (`InvalidNonce`) or, for keys created
with a time-based nonce, lie within ±30 s (seconds or milliseconds). Errors are `{"result": "error", "reason",
"message"}` with Gemini's statuses; roles decide what a key may do (Trader trades, Auditor only reads: 403
`MissingRole`). Cancelling an already-cancelled order succeeds without effect and answers the order; cancelling a
filled one answers `OrderNotFound` (see constants.py: that case is not documented).

    GET  /v1/symbols | /v1/symbols/details/{symbol}           (public)
    POST /v1/roles | /v1/balances                             Roles, Balances
    POST /v1/order/new | /v1/order/cancel | /v1/order/status  NewOrder, CancelOrder, OrderStatus
    POST /v1/orders                                           ActiveOrders
    POST /v1/orders/history                                   OrdersHistory (closed orders, walked forward in time)

Control surface and faults come from `ordergate.venues.simkit`; `venue_error` takes a symbolic name, a Gemini
reason (its usual status is used) or `"<status>:<reason>"`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.gemini.auth import sign
from ordergate.venues.gemini.constants import (
    HISTORY_DEFAULT_LIMIT,
    HISTORY_MAX_LIMIT,
    NONCE_SESSION,
    NONCE_TIME,
    TIME_NONCE_WINDOW_S,
    USER_CANCEL_REASON,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

SYMBOLS = {"btcusd": Decimal("30000"), "ethusd": Decimal("2000"), "ethbtc": Decimal("0.05")}
# Gemini's reasons and the HTTP status each comes with (its error-code table, ccxt's httpExceptions).
REASON_STATUS = {
    "OrderNotFound": 404,
    "MissingRole": 403,
    "RateLimit": 429,
    "InsufficientFunds": 406,
    "Maintenance": 503,
    "System": 500,
}
_MESSAGES = {
    "RateLimit": "Requests were made too frequently",
    "InvalidApiKey": "Invalid API key",
    "Maintenance": "The Gemini Exchange is currently undergoing maintenance.",
}
_SYMBOLIC = {
    "rate_limit": "RateLimit",
    "auth": "InvalidApiKey",
    "permission": "MissingRole",
    "unavailable": "Maintenance",
}
_TRADE_OPS = frozenset({"NewOrder", "CancelOrder"})


def error(status: int, reason: str, message: str | None = None) -> JSONResponse:
    body = {"result": "error", "reason": reason, "message": message or _MESSAGES.get(reason, reason)}
    return JSONResponse(body, status_code=status)


class _Refusal(Exception):
    def __init__(self, reason: str, message: str | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.response = error(status or REASON_STATUS.get(reason, 400), reason, message)


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool
    nonce_kind: str = NONCE_SESSION
    last_nonce: int = 0


@dataclass(slots=True)
class _Order:
    id: int
    api_key: str
    symbol: str
    side: str
    type: str
    amount: Decimal
    price: Decimal
    client_order_id: str | None = None
    options: list[str] = field(default_factory=list)
    executed: Decimal = Decimal(0)
    is_live: bool = True
    is_cancelled: bool = False
    reason: str | None = None
    created_ms: int = 0

    def as_gemini(self) -> dict[str, Any]:
        order: dict[str, Any] = {
            "order_id": str(self.id),
            "id": str(self.id),
            "symbol": self.symbol,
            "exchange": "gemini",
            "avg_execution_price": f"{self.price:.2f}" if self.executed else "0.00",
            "side": self.side,
            "type": self.type,
            "timestamp": str(self.created_ms // 1000),
            "timestampms": self.created_ms,
            "is_live": self.is_live,
            "is_cancelled": self.is_cancelled,
            "is_hidden": False,
            "was_forced": False,
            "executed_amount": f"{self.executed.normalize():f}",
            "options": list(self.options),
            "price": f"{self.price:.2f}",
            "original_amount": f"{self.amount.normalize():f}",
            "remaining_amount": f"{(self.amount - self.executed).normalize():f}",
        }
        if self.client_order_id is not None:
            order["client_order_id"] = self.client_order_id
        if self.reason is not None:
            order["reason"] = self.reason
        return order


class GeminiSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        self._clock = clock
        self._last_ms = 0
        private = {
            "/v1/roles": ("Roles", self._roles),
            "/v1/balances": ("Balances", self._balances),
            "/v1/order/new": ("NewOrder", self._new_order),
            "/v1/order/cancel": ("CancelOrder", self._cancel),
            "/v1/order/status": ("OrderStatus", self._status),
            "/v1/orders": ("ActiveOrders", self._active),
            "/v1/orders/history": ("OrdersHistory", self._history),
        }
        starlette = Starlette(
            routes=[
                Route("/v1/symbols", lambda _r: JSONResponse(list(SYMBOLS)), methods=["GET"]),
                Route("/v1/symbols/details/{symbol}", self._details, methods=["GET"]),
                *(Route(path, self._endpoint(op, fn), methods=["POST"]) for path, (op, fn) in private.items()),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True, nonce_kind: str = NONCE_SESSION) -> SimAccount:
        # Same shapes as Gemini's account-level keys: "account-" + 20 characters, a 28-character secret.
        account = _Account("account-" + secrets.token_urlsafe(15)[:20], secrets.token_urlsafe(21)[:28], can_trade)
        account.nonce_kind = nonce_kind
        with self._lock:
            self._accounts[account.api_key] = account
        return SimAccount(account.api_key, account.secret, None, {"nonce": nonce_kind})

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        amount, limit = _decimal(volume), _decimal(price)
        if account.api_key not in self._accounts or amount is None or limit is None:
            raise ValueError("unknown api key, or invalid volume or price")
        with self._lock:
            order = self._add(account.api_key, "btcusd", "buy", amount, limit)
        return str(order.id), {}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if not order.is_live:
                raise ValueError(f"order {order_id} is closed")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def exchange_cancel(self, order_id: str, reason: str) -> None:
        """Gemini cancels the order itself (e.g. `ImmediateOrCancelWouldPost`)."""
        with self._lock:
            order = self._orders[int(order_id)]
            order.is_live, order.is_cancelled, order.reason = False, True, reason

    def backdate(self, order_id: str, seconds: float) -> None:
        """The order was placed `seconds` earlier than it was (listing tests with `since`)."""
        with self._lock:
            self._orders[int(order_id)].created_ms -= int(seconds * 1000)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.is_cancelled:
                return OrderStatus.cancelled
            if order.is_live:
                return OrderStatus.partiallyFilled if order.executed else OrderStatus.inProgress
            return OrderStatus.success

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[int(order_id)].as_gemini()

    def render_venue_error(self, error_name: str) -> Response:
        text = _SYMBOLIC.get(error_name, error_name)
        status_text, sep, reason = text.partition(":")
        if sep and status_text.isdigit():
            return error(int(status_text), reason)
        return error(REASON_STATUS.get(text, 400), text)

    def _add(self, api_key: str, symbol: str, side: str, amount: Decimal, price: Decimal) -> _Order:
        order_id = int.from_bytes(os.urandom(5)) % 900_000_000_000 + 100_000_000_000
        # Distinct, increasing milliseconds: Gemini's history walk steps past the highest timestamp of a page.
        self._last_ms = max(self._last_ms + 1, int(self._clock() * 1000))
        order = _Order(order_id, api_key, symbol, side, "exchange limit", amount, price, created_ms=self._last_ms)
        self._orders[order_id] = order
        return order

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.amount - order.executed
        order.executed += remaining if volume is None or volume >= remaining else volume
        if order.executed >= order.amount:
            order.is_live = False

    def _c_account(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        kind = NONCE_TIME if body.get("nonce") == NONCE_TIME else NONCE_SESSION
        account = self.new_account(can_trade=bool(body.get("canTrade", True)), nonce_kind=kind)
        return {"apiKey": account.api_key, "secret": account.secret, "passphrase": None}

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _details(self, request: Request) -> Response:
        symbol = request.path_params["symbol"].lower()
        if symbol not in SYMBOLS:
            return error(400, "InvalidSymbol", f"Supplied value '{symbol}' is not a valid symbol")
        base, quote = symbol[:3].upper(), symbol[3:].upper()
        return JSONResponse({"symbol": symbol.upper(), "base_currency": base, "quote_currency": quote,
                             "tick_size": 1e-8, "quote_increment": 0.01, "min_order_size": "0.00001",
                             "status": "open", "wrap_enabled": False})  # fmt: skip

    def _endpoint(self, op: str, handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get("X-GEMINI-APIKEY", "")

            async def process(fault: Fault | None) -> Response:
                with self._lock:
                    try:
                        account, params = self._authenticate(request)
                        if op in _TRADE_OPS and not account.can_trade:
                            raise _Refusal(
                                "MissingRole",
                                "To access this endpoint, you need to log in to the website and go to the settings "
                                "page to assign one of these roles [Trader] to API key "
                                f"{account.api_key} which currently has roles [Auditor]",
                            )
                        return JSONResponse(handler(account, params, fault))
                    except _Refusal as refusal:
                        self.errors[refusal.reason] += 1
                        return refusal.response

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request) -> tuple[_Account, dict[str, Any]]:
        for header, reason in (
            ("X-GEMINI-APIKEY", "MissingApikeyHeader"),
            ("X-GEMINI-PAYLOAD", "MissingPayloadHeader"),
            ("X-GEMINI-SIGNATURE", "MissingSignatureHeader"),
        ):
            if not request.headers.get(header):
                raise _Refusal(reason, f"{header} header is required")
        account = self._accounts.get(request.headers["X-GEMINI-APIKEY"])
        if account is None:
            raise _Refusal("InvalidApiKey")
        payload_b64 = request.headers["X-GEMINI-PAYLOAD"]
        expected = sign(payload_b64, account.secret).encode()
        if not hmac.compare_digest(expected, request.headers["X-GEMINI-SIGNATURE"].encode()):
            raise _Refusal("InvalidSignature", "The signature did not match the expected signature")
        try:
            params = json.loads(base64.b64decode(payload_b64, validate=True))
        except (ValueError, binascii.Error):
            raise _Refusal("InvalidJson", "Could not parse the payload as JSON") from None
        if not isinstance(params, dict):
            raise _Refusal("InvalidJson", "The payload must be a JSON object")
        path = venue_path(request)
        if params.get("request") != path:
            raise _Refusal("EndpointMismatch", f"The payload names {params.get('request')!r}, not {path!r}")
        self._check_nonce(account, params.get("nonce"))
        return account, params

    def _check_nonce(self, account: _Account, raw: Any) -> None:
        text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
        if not text.isdigit():
            raise _Refusal("InvalidNonce", "Nonce must be a number")
        nonce = int(text)
        if account.nonce_kind == NONCE_TIME:
            seconds = nonce / 1000 if nonce >= 10**11 else nonce
            if abs(seconds - self._clock()) > TIME_NONCE_WINDOW_S:
                raise _Refusal("InvalidNonce", f"Nonce '{nonce}' is not within {TIME_NONCE_WINDOW_S} seconds of now")
            return
        if nonce <= account.last_nonce:
            raise _Refusal(
                "InvalidNonce",
                f"Out-of-sequence nonce <{nonce}> precedes previously used nonce <{account.last_nonce}>",
            )
        account.last_nonce = nonce

    def _mine(self, account: _Account, params: dict[str, Any]) -> _Order:
        raw = params.get("order_id")
        text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
        if not text.isdigit():
            raise _Refusal("MissingOrderField", "A required order_id field was not specified")
        order = self._orders.get(int(text))
        if order is None or order.api_key != account.api_key:
            raise _Refusal("OrderNotFound", f"Order {text} not found")
        return order

    def _roles(self, account: _Account, _params: dict[str, Any], _f: Fault | None) -> Any:
        return {"isAuditor": not account.can_trade, "isFundManager": False, "isTrader": account.can_trade}

    def _balances(self, _account: _Account, _params: dict[str, Any], _f: Fault | None) -> Any:
        return [
            {"type": "exchange", "currency": c, "amount": a, "available": a, "availableForWithdrawal": a}
            for c, a in (("USD", "100000.00"), ("BTC", "10"), ("ETH", "100"))
        ]

    def _new_order(self, account: _Account, params: dict[str, Any], _f: Fault | None) -> Any:
        symbol = str(params.get("symbol", "")).lower()
        if symbol not in SYMBOLS:
            raise _Refusal("InvalidSymbol", f"Supplied value '{symbol}' is not a valid symbol")
        if params.get("side") not in ("buy", "sell"):
            raise _Refusal("InvalidSide", "Invalid side for symbol")
        if params.get("type") != "exchange limit":
            raise _Refusal("InvalidOrderType", f"Invalid order type for symbol {symbol}: {params.get('type')!r}")
        amount, price = _decimal(params.get("amount")), _decimal(params.get("price"))
        if amount is None:
            raise _Refusal("InvalidQuantity", "Invalid quantity for symbol")
        if price is None:
            raise _Refusal("InvalidPrice", "Invalid price for symbol")
        order = self._add(account.api_key, symbol, params["side"], amount, price)
        order.client_order_id = params.get("client_order_id")
        options = params.get("options")
        order.options = [o for o in options if isinstance(o, str)] if isinstance(options, list) else []
        return order.as_gemini()

    def _cancel(self, account: _Account, params: dict[str, Any], fault: Fault | None) -> Any:
        order = self._mine(account, params)
        if order.is_cancelled:
            return order.as_gemini()  # "the message will succeed but have no effect"
        if not order.is_live:
            raise _Refusal("OrderNotFound", f"Order {order.id} not found")
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
            return order.as_gemini()
        order.is_live, order.is_cancelled, order.reason = False, True, USER_CANCEL_REASON
        return order.as_gemini()

    def _settle(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.is_live:
                order.is_live, order.is_cancelled, order.reason = False, True, USER_CANCEL_REASON

    def _status(self, account: _Account, params: dict[str, Any], _f: Fault | None) -> Any:
        return self._mine(account, params).as_gemini()

    def _active(self, account: _Account, _params: dict[str, Any], _f: Fault | None) -> Any:
        return [o.as_gemini() for o in self._orders.values() if o.api_key == account.api_key and o.is_live]

    def _history(self, account: _Account, params: dict[str, Any], _f: Fault | None) -> Any:
        limit = _integer(params.get("limit_orders", HISTORY_DEFAULT_LIMIT), "limit_orders")
        limit = min(max(limit, 1), HISTORY_MAX_LIMIT)
        closed = [o for o in self._orders.values() if o.api_key == account.api_key and not o.is_live]
        if isinstance(params.get("symbol"), str):
            closed = [o for o in closed if o.symbol == params["symbol"].lower()]
        if "timestamp" in params:
            raw = _integer(params["timestamp"], "timestamp")
            bound = raw if raw >= 10**11 else raw * 1000  # seconds or milliseconds, as Gemini reads timestamps
            # On or after the bound, the earliest `limit_orders` of them, shown newest first (the documented walk).
            chosen = sorted((o for o in closed if o.created_ms >= bound), key=lambda o: (o.created_ms, o.id))[:limit]
        else:
            chosen = sorted(closed, key=lambda o: (o.created_ms, o.id))[-limit:]
        return [o.as_gemini() for o in sorted(chosen, key=lambda o: (o.created_ms, o.id), reverse=True)]


def _integer(raw: Any, name: str) -> int:
    text = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
    if not text.isdigit():
        # Gemini's reason for a malformed parameter is not documented; InvalidJson is its generic payload refusal.
        raise _Refusal("InvalidJson", f"{name} must be a non-negative integer")
    return int(text)
