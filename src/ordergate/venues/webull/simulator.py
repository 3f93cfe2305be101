"""A local Webull OpenAPI (US, v3 trading paths) for the calls ordergate and webull-openapi-python-sdk make.

    GET  /openapi/config                          {"token_check_enabled": bool}
    POST /auth/tokens/create  {token?}            {token, expires (ms), status: PENDING|NORMAL}
    POST /auth/tokens/check   {token}             same shape
    GET  /trading/accounts/list                   [{account_id, account_number, account_type, account_class}]
    POST /trading/orders/place  {account_id, new_orders: [...]}
    POST /trading/orders/cancel {account_id, client_order_id}      200 {"client_order_id": …}
    GET  /trading/orders/get?account_id&client_order_id            404 ORDER_NOT_FOUND
    GET  /trading/orders/open-orders/list?account_id[&pagination_key]            newest first
    GET  /trading/orders/historical-orders/list?account_id[&start_time][&end_time][&pagination_key]
         every order placed in [start_time, end_time] (default: the last 7 days), newest first

Every request is signed as the SDK signs it (auth.py); the simulator recomputes the signature with host = the Host
header without its port (the SDK signs its configured endpoint name, not host:port) and the path as the venue sees
it (without the sandbox mount prefix). Errors are Webull's `{"error_code", "message"}`. An app created with
`two_factor=True` answers `token_check_enabled: true`, its tokens start PENDING until `approve_token` (the user
approving in the Webull app; `POST /_control/tokens/{token}/approve`), and its trading calls need a NORMAL token in
`x-access-token` (401 INVALID_TOKEN otherwise).

Faults and request accounting come from simkit; operations are "config", "token", "accounts", "place", "cancel",
"detail", "open_orders" and "history". `venue_error` takes a symbolic name or "ERROR_CODE[:message]".
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.simkit import (
    Fault,
    SimAccount,
    SimulatorBase,
    WithAbort,
    control_endpoint,
    positive_decimal,
    venue_path,
)
from ordergate.venues.webull.auth import signature, string_to_sign
from ordergate.venues.webull.constants import (
    ACCOUNTS_PATH,
    CANCEL_PATH,
    CONFIG_PATH,
    DETAIL_PATH,
    H_ACCESS_TOKEN,
    H_APP_KEY,
    H_NONCE,
    H_SIGN_ALGORITHM,
    H_SIGN_VERSION,
    H_SIGNATURE,
    H_TIMESTAMP,
    HISTORY_PATH,
    LIVE_STATUSES,
    OPEN_ORDERS_PATH,
    ORDER_NOT_CANCELABLE,
    ORDER_NOT_FOUND,
    PLACE_PATH,
    SIGN_ALGORITHM,
    SIGN_VERSION,
    STATUS_MAP,
    TIMESTAMP_FORMAT,
    TOKEN_CHECK_PATH,
    TOKEN_CREATE_PATH,
    TOKEN_NORMAL,
    TOKEN_PENDING,
)

CLOCK_SKEW_S = 300
TOKEN_DAYS = 15  # "Tokens are time-sensitive (default 15 days)"
CANCELS_PER_SECOND = 15  # HK reference: "US stock order interface: 15 requests/second"
_PLACED = itertools.count()
PAGE_SIZE = 100  # Webull pages server-side (the SDK sends no page size): the simulator's page, settable per test
# Order history without a time range covers the last 7 days (developer.webull.com order-history reference).
HISTORY_DEFAULT = timedelta(days=7)
_BAD_SIGNATURE = "Header x-signature is invalid."
_BAD_KEY = (
    "Invalid credentials. Please verify your credentials and ensure you are connecting to the correct environment."
)
_SYMBOLIC: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "TOO_MANY_REQUESTS", "Too many requests, please try again later."),
    "auth": (401, "UNAUTHORIZED", _BAD_KEY),
    "permission": (403, "ACCESS_DENIED", "Access denied: the account does not have permission."),
    "ban": (403, "ACCESS_DENIED", "Access denied. Please contact support for more details."),
    "restricted": (401, "UNAUTHORIZED", "Access denied. The request IP does not match your configured settings."),
    "unavailable": (500, "SYSTEM_ERROR", "System is unavailable, please try again later."),
}
_REQUIRED = (
    (H_APP_KEY, "MISSING_APP_KEY"),
    (H_SIGNATURE, "MISSING_SIGNATURE"),
    (H_SIGN_ALGORITHM, "MISSING_ALGORITHM"),
    (H_NONCE, "MISSING_NONCE"),
    (H_TIMESTAMP, "MISSING_TIMESTAMP"),
)


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(slots=True)
class _App:
    key: str
    secret: str
    account_id: str
    account_number: str
    can_trade: bool = True
    two_factor: bool = False
    window: int = 0
    cancels: int = 0


@dataclass(slots=True)
class _Token:
    app_key: str
    status: str
    expires_ms: int


@dataclass(slots=True)
class _Order:
    account_id: str
    client_order_id: str
    symbol: str
    side: str
    order_type: str
    tif: str
    qty: Decimal
    limit_price: Decimal | None
    order_id: str = field(default_factory=lambda: str(secrets.randbelow(9 * 10**17) + 10**17))
    status: str = "SUBMITTED"
    filled_qty: Decimal = Decimal(0)
    filled_price: Decimal | None = None
    placed: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_filled: datetime | None = None
    seq: int = field(default_factory=lambda: next(_PLACED))  # orders placed within one clock tick still have an order

    def as_webull(self) -> dict[str, Any]:
        def stamp(when: datetime | None) -> str | None:
            return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z" if when else None

        return {
            "account_id": self.account_id,
            "client_order_id": self.client_order_id,
            "order_id": self.order_id,
            "combo_type": "NORMAL",
            "tif": self.tif,
            "extended_hours_trading": False,
            "items": [
                {
                    "category": "US_STOCK",
                    "currency": "USD",
                    "symbol": self.symbol,
                    "instrument_id": str(uuid.uuid5(uuid.NAMESPACE_OID, self.symbol).int % 10**9),
                    "side": self.side,
                    "order_type": self.order_type,
                    "order_status": self.status,
                    "qty": _text(self.qty),
                    "filled_qty": _text(self.filled_qty),
                    "filled_price": _text(self.filled_price),
                    "limit_price": _text(self.limit_price),
                    "place_time": stamp(self.placed),
                    "last_filled_time": stamp(self.last_filled),
                }
            ],
        }


def _text(number: Decimal | None) -> str | None:
    return None if number is None else f"{number.normalize():f}"


class WebullSimulator(SimulatorBase):
    def __init__(self) -> None:
        super().__init__()
        self._apps: dict[str, _App] = {}
        self._tokens: dict[str, _Token] = {}
        self._orders: dict[tuple[str, str], _Order] = {}  # (account_id, client_order_id) → order
        self._by_order_id: dict[str, _Order] = {}
        self.page_size = PAGE_SIZE
        r = self._route
        starlette = Starlette(
            routes=[
                Route(CONFIG_PATH, r("config", self._config, trading=False), methods=["GET"]),
                Route(TOKEN_CREATE_PATH, r("token", self._token_create, trading=False), methods=["POST"]),
                Route(TOKEN_CHECK_PATH, r("token", self._token_check, trading=False), methods=["POST"]),
                Route(ACCOUNTS_PATH, r("accounts", self._accounts), methods=["GET"]),
                Route(PLACE_PATH, r("place", self._place), methods=["POST"]),
                Route(CANCEL_PATH, r("cancel", self._cancel), methods=["POST"]),
                Route(DETAIL_PATH, r("detail", self._detail), methods=["GET"]),
                Route(OPEN_ORDERS_PATH, r("open_orders", self._open_orders), methods=["GET"]),
                Route(HISTORY_PATH, r("history", self._history), methods=["GET"]),
                Route("/_control/tokens/{token}/approve", control_endpoint(self._c_approve), methods=["POST"]),
                Route("/_control/apps", control_endpoint(self._c_app), methods=["POST"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view ----------------------------------------------------------------------
    def new_account(self, *, can_trade: bool = True, two_factor: bool = False) -> SimAccount:
        key = secrets.token_hex(16)
        secret = secrets.token_hex(16)
        account_id = secrets.token_hex(8).upper()
        number = str(secrets.randbelow(9 * 10**7) + 10**7)
        with self._lock:
            self._apps[key] = _App(key, secret, account_id, number, can_trade, two_factor)
        return SimAccount(key, secret, None, {"account_id": account_id})

    def account_id(self, app_key: str) -> str:
        with self._lock:
            return self._apps[app_key].account_id

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        client_order_id, _ = self.place_order(account.api_key, qty=volume, price=price)
        return client_order_id, {"isCryptocurrency": False}

    def place_order(self, app_key: str, *, qty: str = "1", price: str = "100", side: str = "BUY") -> tuple[str, str]:
        """A resting limit order → (client_order_id, Webull order_id)."""
        with self._lock:
            app = self._apps[app_key]
            order = self._new_order(app.account_id, uuid.uuid4().hex, "AAPL", side, "LIMIT", "DAY", qty, price)
        return order.client_order_id, order.order_id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._find(order_id)
            if order.status not in LIVE_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}")
            left = order.qty - order.filled_qty
            amount = min(left, Decimal(volume)) if volume is not None else left
            order.filled_qty += amount
            order.filled_price = order.limit_price
            order.last_filled = datetime.now(UTC)
            order.status = "FILLED" if order.filled_qty >= order.qty else "PARTIAL_FILLED"

    def backdate(self, order_id: str, seconds: float) -> None:
        with self._lock:
            self._find(order_id).placed -= timedelta(seconds=seconds)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._find(order_id)
            if order.status in LIVE_STATUSES and order.filled_qty > 0:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._find(order_id).as_webull()

    def approve_token(self, token: str) -> None:
        """What the user's approval in the Webull app does."""
        with self._lock:
            self._tokens[token].status = TOKEN_NORMAL

    def tokens_of(self, app_key: str) -> list[str]:
        with self._lock:
            return [t for t, v in self._tokens.items() if v.app_key == app_key]

    def render_venue_error(self, error: str) -> Response:
        if error in _SYMBOLIC:
            status, code, message = _SYMBOLIC[error]
        else:
            code, _, message = error.partition(":")
            status = {ORDER_NOT_FOUND: 404, "TOO_MANY_REQUESTS": 429, "SYSTEM_ERROR": 500}.get(code, 400)
            if code in ("UNAUTHORIZED", "INCORRECT_SIGN", "CLOCK_SKEW_EXCEEDED", "INVALID_TOKEN"):
                status = 401
            message = message or code.replace("_", " ").lower()
        return JSONResponse({"error_code": code, "message": message}, status)

    def _find(self, order_id: str) -> _Order:
        order = self._by_order_id.get(order_id)
        if order is None:
            order = next(o for (_, coid), o in self._orders.items() if coid == order_id)
        return order

    def _new_order(
        self, account_id: str, coid: str, symbol: str, side: str, kind: str, tif: str, qty: str, price: str | None
    ) -> _Order:
        quantity = positive_decimal(qty)
        limit = positive_decimal(price) if price is not None else None
        if quantity is None or (kind == "LIMIT" and limit is None) or side not in ("BUY", "SELL", "SHORT"):
            raise _Refusal(400, "ILLEGAL_PARAMETER", "Parameter error.")
        if (account_id, coid) in self._orders:
            raise _Refusal(400, "DUPLICATE_CLIENT_ORDER_ID", "client_order_id cannot be repeated.")
        order = _Order(account_id, coid, symbol, side, kind, tif, quantity, limit)
        self._orders[(account_id, coid)] = order
        self._by_order_id[order.order_id] = order
        if kind == "MARKET":
            order.filled_qty, order.filled_price, order.status = quantity, Decimal(100), "FILLED"
            order.last_filled = datetime.now(UTC)
        return order

    # -- the HTTP API --------------------------------------------------------------------------------------
    def _route(self, op: str, handler: Callable[..., Any], *, trading: bool = True) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            key = request.headers.get(H_APP_KEY, "")

            async def process(fault: Fault | None) -> Response:
                try:
                    with self._lock:
                        app = self._verify(request, raw, trading)
                        body = _body(raw) if request.method == "POST" else {}
                        result = handler(app, dict(request.query_params), body, fault)
                except _Refusal as refusal:
                    self.errors[refusal.code] += 1
                    return JSONResponse({"error_code": refusal.code, "message": refusal.message}, refusal.status)
                return JSONResponse(result)

            return await self.serve_op(request, op, key, process)

        return endpoint

    def _verify(self, request: Request, raw: bytes, trading: bool) -> _App:
        headers = request.headers
        for name, code in _REQUIRED:
            if not headers.get(name):
                raise _Refusal(401, code, f"Header {name} is missing.")
        if headers[H_SIGN_ALGORITHM] != SIGN_ALGORITHM or headers.get(H_SIGN_VERSION) != SIGN_VERSION:
            raise _Refusal(401, "SIGNATURE_ALGORITHM_NOT_SUPPORTED", "Unsupported signature algorithm or version.")
        try:
            stamp = datetime.strptime(headers[H_TIMESTAMP], TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise _Refusal(401, "ILLEAGAL_TIMESTAMP", "Header x-timestamp format error.") from None
        if abs(time.time() - stamp.timestamp()) > CLOCK_SKEW_S:
            raise _Refusal(401, "CLOCK_SKEW_EXCEEDED", "Request rejected, x-timestamp clock offset exceeds maximum.")
        app = self._apps.get(headers[H_APP_KEY])
        if app is None:
            raise _Refusal(401, "UNAUTHORIZED", _BAD_KEY)
        signed = {name: headers[name] for name in (H_APP_KEY, H_TIMESTAMP, H_SIGN_VERSION, H_SIGN_ALGORITHM, H_NONCE)}
        host = headers.get("host", "").rsplit(":", 1)[0] if not headers.get("host", "").startswith("[") else ""
        query = dict(request.query_params)
        text = string_to_sign(venue_path(request), signed, host, query, raw if request.method == "POST" else None)
        if not hmac.compare_digest(signature(app.secret, text).encode(), headers[H_SIGNATURE].encode()):
            raise _Refusal(401, "UNAUTHORIZED", _BAD_SIGNATURE)
        if trading and app.two_factor:
            token = self._tokens.get(headers.get(H_ACCESS_TOKEN, ""))
            fresh = token is not None and token.expires_ms > time.time() * 1000
            if not (fresh and token.app_key == app.key and token.status == TOKEN_NORMAL):
                raise _Refusal(401, "INVALID_TOKEN", "Header x-access-token is missing or invalid.")
        return app

    def _config(self, app: _App, _q: dict[str, str], _b: dict[str, Any], _f: Fault | None) -> Any:
        return {"token_check_enabled": app.two_factor}

    def _token_answer(self, token: str) -> dict[str, Any]:
        entry = self._tokens[token]
        return {"token": token, "expires": entry.expires_ms, "status": entry.status}

    def _token_create(self, app: _App, _q: dict[str, str], body: dict[str, Any], _f: Fault | None) -> Any:
        known = self._tokens.get(str(body.get("token") or ""))
        if known is not None and known.app_key == app.key and known.expires_ms > time.time() * 1000:
            return self._token_answer(str(body["token"]))
        token = secrets.token_hex(24)
        expires = int((time.time() + TOKEN_DAYS * 86400) * 1000)
        self._tokens[token] = _Token(app.key, TOKEN_NORMAL if not app.two_factor else TOKEN_PENDING, expires)
        return self._token_answer(token)

    def _token_check(self, app: _App, _q: dict[str, str], body: dict[str, Any], _f: Fault | None) -> Any:
        token = str(body.get("token") or "")
        entry = self._tokens.get(token)
        if entry is None or entry.app_key != app.key:
            return {"token": token or "-", "expires": 1, "status": "INVALID"}
        if entry.expires_ms <= time.time() * 1000:
            entry.status = "EXPIRED"
        return self._token_answer(token)

    def _accounts(self, app: _App, _q: dict[str, str], _b: dict[str, Any], _f: Fault | None) -> Any:
        return [
            {
                "account_id": app.account_id,
                "account_number": app.account_number,
                "account_type": "CASH",
                "account_class": "INDIVIDUAL_CASH",
            }
        ]

    def _own(self, app: _App, account_id: Any) -> str:
        if account_id != app.account_id:
            raise _Refusal(403, "ACCESS_DENIED", "The account does not belong to this app key.")
        return app.account_id

    def _place(self, app: _App, _q: dict[str, str], body: dict[str, Any], _f: Fault | None) -> Any:
        account = self._own(app, body.get("account_id"))
        if not app.can_trade:
            raise _Refusal(403, "ACCESS_DENIED", "Access denied: the account does not have permission.")
        orders = body.get("new_orders")
        if not isinstance(orders, list) or len(orders) != 1 or not isinstance(orders[0], dict):
            raise _Refusal(400, "ILLEGAL_PARAMETER", "Parameter error.")
        spec = orders[0]
        coid = str(spec.get("client_order_id") or "")
        if not coid or len(coid) > 40:
            raise _Refusal(400, "ILLEGAL_PARAMETER", "client_order_id is required, at most 40 characters.")
        order = self._new_order(
            account,
            coid,
            str(spec.get("symbol") or ""),
            str(spec.get("side") or ""),
            str(spec.get("order_type") or ""),
            str(spec.get("time_in_force") or "DAY"),
            str(spec.get("quantity") or ""),
            spec.get("limit_price"),
        )
        return {"client_order_id": order.client_order_id, "order_id": order.order_id}

    def _cancel(self, app: _App, _q: dict[str, str], body: dict[str, Any], fault: Fault | None) -> Any:
        now = int(time.time())
        if now != app.window:
            app.window, app.cancels = now, 0
        app.cancels += 1
        if app.cancels > CANCELS_PER_SECOND:
            raise _Refusal(429, "TOO_MANY_REQUESTS", "Too many requests, please try again later.")
        if not app.can_trade:
            raise _Refusal(403, "ACCESS_DENIED", "Access denied: the account does not have permission.")
        coid = str(body.get("client_order_id") or "")
        order = self._orders.get((str(body.get("account_id") or ""), coid))
        if order is None or order.account_id != app.account_id:
            raise _Refusal(404, ORDER_NOT_FOUND, "Order not found.")
        if order.status not in LIVE_STATUSES:
            raise _Refusal(400, ORDER_NOT_CANCELABLE, f"The order cannot be cancelled, status: {order.status}.")
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order)
        else:
            order.status = "CANCELLED"
        return {"client_order_id": coid}

    def _settle(self, order: _Order) -> None:
        with self._lock:
            if order.status in LIVE_STATUSES:
                order.status = "CANCELLED"

    def _detail(self, app: _App, query: dict[str, str], _b: dict[str, Any], _f: Fault | None) -> Any:
        account = self._own(app, query.get("account_id"))
        order = self._orders.get((account, query.get("client_order_id", "")))
        if order is None:
            raise _Refusal(404, ORDER_NOT_FOUND, "Order not found.")
        return order.as_webull()

    def _listing(self, account: str, orders: list[_Order], query: dict[str, str]) -> dict[str, Any]:
        """Newest first; `pagination_key` is the last client_order_id served, and the next page starts after it in
        that order (it still names its place when the order has since left the list)."""
        orders = sorted(orders, key=_newest_first)
        after = query.get("pagination_key")
        if after:
            marker = self._orders.get((account, after))
            if marker is None:
                raise _Refusal(400, "ILLEGAL_PARAMETER", "Parameter error: pagination_key.")
            orders = [o for o in orders if _newest_first(o) > _newest_first(marker)]
        page = orders[: self.page_size]
        answer: dict[str, Any] = {"orders": [o.as_webull() for o in page]}
        if len(orders) > self.page_size:
            answer["pagination_key"] = page[-1].client_order_id
        return answer

    def _open_orders(self, app: _App, query: dict[str, str], _b: dict[str, Any], _f: Fault | None) -> Any:
        account = self._own(app, query.get("account_id"))
        live = [o for (a, _), o in self._orders.items() if a == account and o.status in LIVE_STATUSES]
        return self._listing(account, live, query)

    def _history(self, app: _App, query: dict[str, str], _b: dict[str, Any], _f: Fault | None) -> Any:
        account = self._own(app, query.get("account_id"))
        end = _webull_time(query["end_time"]) if query.get("end_time") else datetime.now(UTC)
        start = _webull_time(query["start_time"]) if query.get("start_time") else end - HISTORY_DEFAULT
        if start > end:
            raise _Refusal(400, "ILLEGAL_PARAMETER", "Parameter error: start_time is after end_time.")
        placed = [o for (a, _), o in self._orders.items() if a == account and start <= o.placed <= end]
        return self._listing(account, placed, query)

    # -- control -----------------------------------------------------------------------------------------
    def _c_account(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        # Mesh's client needs the account id beside the key pair (it is what /authenticate would seal).
        return self._c_app(_path, body)

    def _c_approve(self, path: dict[str, str], _body: dict[str, Any]) -> dict[str, Any]:
        self.approve_token(path["token"])
        return {"token": path["token"], "status": TOKEN_NORMAL}

    def _c_app(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        account = self.new_account(
            can_trade=bool(body.get("canTrade", True)), two_factor=bool(body.get("twoFactor", False))
        )
        return {
            "apiKey": account.api_key,
            "secret": account.secret,
            "passphrase": None,
            "accountId": account.extras["account_id"],
        }


def _newest_first(order: _Order) -> tuple[float, int]:
    return (-order.placed.timestamp(), -order.seq)


def _webull_time(text: str) -> datetime:
    """The SDK's documented format, yyyy-MM-dd'T'HH:mm:ss.SSSZ (zone as +0000 or Z)."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        raise _Refusal(400, "ILLEGAL_PARAMETER", "Parameter error: yyyy-MM-dd'T'HH:mm:ss.SSSZ.") from None


def _body(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        raise _Refusal(400, "ILLEGAL_PARAMETER", "Parameter error.") from None
    return value if isinstance(value, dict) else {}
