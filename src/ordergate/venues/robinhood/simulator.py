"""A local trading.robinhood.com for the calls ordergate and the `hood` client make (Crypto Trading API v1), and
a local api.robinhood.com for the equities half (logins, challenges, token refresh, equities orders: the routes
and their rules are in equities_sim.py, composed in here so that the family keeps one simulator).

Protocol as Robinhood documents it: x-api-key / x-timestamp / x-signature, the signature checked with the public
key the user registered (the simulator keeps nothing else) over api_key + timestamp + path (with its query) +
method + the exact body received, the timestamp valid for 30 s; errors `{"type", "errors": [{"detail", "attr"}]}`.

    GET  /api/v1/crypto/trading/accounts/              op "account"
    GET  /api/v1/crypto/trading/trading_pairs/         op "pairs"
    GET  /api/v1/crypto/trading/orders/                op "orders" (filters id, state, side, symbol, type,
                                                       created_at_start/_end; newest first, `cursor` pages)
    POST /api/v1/crypto/trading/orders/                op "place" (needs the trade permission)
    GET  /api/v1/crypto/trading/orders/{id}/           op "lookup"
    POST /api/v1/crypto/trading/orders/{id}/cancel/    op "cancel" (needs the trade permission)

A cancel of an unknown or another account's order is 404 "Not found."; of a filled, cancelled or failed one 400
"This order cannot be canceled."; an accepted one answers text/plain "Cancel request was submitted for order
{id}" (the `pending` fault leaves the order open for a while, as Robinhood cancels asynchronously). Wordings the
docs do not publish (the 401s, 403, 429 detail) are the simulator's, in Robinhood's error format.

Control surface (unsigned JSON; never serve it where real keys are used): simkit's /_control routes.

The kit API serves both halves: `new_account` makes a crypto key, or, with `kit_half="equities"`, a connected
equities login (bearer + refresh token); `place`, `fill`, `status` follow the key or order they are given. A
simkit `venue_error` fault on an equities path answers in the equities API's words, and its `auth` error revokes
the bearer's session (as a password change does), so the refresh that follows is refused too.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.robinhood.auth import message, public_key
from ordergate.venues.robinhood.constants import (
    CRYPTO_KEY_PREFIX,
    HEADER_KEY,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    KIND,
    KIND_CRYPTO,
    KIND_EQUITIES,
    ORDER_ID,
    STATUS_MAP,
    TIMESTAMP_VALID_S,
)
from ordergate.venues.robinhood.equities_sim import PAGE_SIZE, EquitiesBook, cursor_page, next_query, parse_time
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, positive_decimal, venue_path

_PAIRS = {"BTC-USD": ("BTC", "USD"), "ETH-USD": ("ETH", "USD"), "DOGE-USD": ("DOGE", "USD")}
_TYPES = ("market", "limit", "stop_limit", "stop_loss")
_MISSING_HEADERS = (
    "Request missing required headers. Required headers: x-api-key, x-signature, x-timestamp. "
    "See docs.robinhood.com/crypto/trading for details."
)


def errors(kind: str, detail: str, status: int, attr: str | None = None, **headers: str) -> JSONResponse:
    body = {"type": kind, "errors": [{"detail": detail, "attr": attr}]}
    return JSONResponse(body, status_code=status, headers=headers or None)


class _Refusal(Exception):
    def __init__(self, status: int, detail: str, attr: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.attr = status, detail, attr

    def render(self) -> Response:
        if self.status == 400 and self.detail == _MISSING_HEADERS:
            return PlainTextResponse(self.detail, status_code=400)
        kind = "validation_error" if self.status == 400 else "server_error" if self.status >= 500 else "client_error"
        return errors(kind, self.detail, self.status, self.attr if self.status == 400 else None)


_SYMBOLIC: dict[str, tuple[int, str]] = {
    "auth": (401, "Invalid API key or signature."),
    "permission": (403, "You do not have permission to perform this action."),
    "restricted": (403, "You do not have permission to perform this action."),
    "unavailable": (503, "Service unavailable, try again later."),
}


@dataclass(slots=True)
class _Account:
    api_key: str
    public_key: bytes
    number: str
    can_trade: bool


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class _Order:
    id: str
    api_key: str
    account_number: str
    symbol: str
    side: str
    type: str
    client_order_id: str
    config: dict[str, Any]
    quantity: Decimal
    price: Decimal
    created: float
    executions: list[tuple[Decimal, Decimal, float]] = field(default_factory=list)
    cancelled: bool = False
    updated: float = 0.0

    @property
    def executed(self) -> Decimal:
        return sum((q for _, q, _ in self.executions), Decimal(0))

    @property
    def live(self) -> bool:
        return not self.cancelled and self.executed < self.quantity

    def state(self) -> str:
        if self.cancelled:
            return "canceled"
        if self.executed >= self.quantity:
            return "filled"
        return "partially_filled" if self.executions else "open"

    def as_robinhood(self) -> dict[str, Any]:
        executed = self.executed
        average = sum((p * q for p, q, _ in self.executions), Decimal(0)) / executed if executed else Decimal(0)
        return {"id": self.id, "account_number": self.account_number, "symbol": self.symbol,
                "client_order_id": self.client_order_id, "side": self.side,
                "executions": [{"effective_price": f"{p:f}", "quantity": f"{q:f}", "timestamp": _iso(t)}
                               for p, q, t in self.executions],
                "type": self.type, "state": self.state(), "average_price": float(average),
                "filled_asset_quantity": float(executed), "created_at": _iso(self.created),
                "updated_at": _iso(self.updated or self.created), f"{self.type}_order_config": self.config}  # fmt: skip


class RobinhoodSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], float] = time.time, kit_half: str = KIND_CRYPTO,
                 token_lifetime_s: float = 86400) -> None:  # fmt: skip
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._clock = clock
        self.kit_half = kit_half
        self.page_size = PAGE_SIZE  # the listings' rows per page: Robinhood chooses it, clients cannot
        self.equities = EquitiesBook(self, clock, token_lifetime_s)
        base = "/api/v1/crypto/trading"
        private = [
            (f"{base}/accounts/", "GET", "account", self._account, False),
            (f"{base}/trading_pairs/", "GET", "pairs", self._pairs, False),
            (f"{base}/orders/", "GET", "orders", self._list, False),
            (f"{base}/orders/", "POST", "place", self._place, True),
            (f"{base}/orders/{{id}}/", "GET", "lookup", self._lookup, False),
            (f"{base}/orders/{{id}}/cancel/", "POST", "cancel", self._cancel, True),
        ]
        routes = [
            Route(path, self._endpoint(op, handler, trade), methods=[method])
            for path, method, op, handler, trade in private
        ]
        self.app = WithAbort(Starlette(routes=[*routes, *self.equities.routes(), *self.control_routes()]))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        if self.kit_half == KIND_EQUITIES:
            return self.equities.new_account(can_trade=can_trade)
        api_key = f"{CRYPTO_KEY_PREFIX}{uuid.uuid4()}"
        seed = base64.b64encode(secrets.token_bytes(32)).decode()
        with self._lock:
            self._accounts[api_key] = _Account(api_key, public_key(seed), str(secrets.randbelow(9 * 10**8) + 10**8),
                                               can_trade)  # fmt: skip
        return SimAccount(api_key, seed, extras={KIND: KIND_CRYPTO})

    def register_public_key(self, api_key: str, public: bytes, *, can_trade: bool = True) -> None:
        """What the credentials portal does: a user's own key pair, of which Robinhood sees the public half."""
        with self._lock:
            self._accounts[api_key] = _Account(api_key, public, str(secrets.randbelow(9 * 10**8) + 10**8), can_trade)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        if self.equities.owns_bearer(account.api_key):
            return self.equities.place(account.api_key, quantity=volume, price=price), {"isCryptocurrency": False}
        return self.place_order(account.api_key, quantity=volume, price=price), {}

    def place_order(self, api_key: str, *, symbol: str = "BTC-USD", side: str = "buy", quantity: str = "1",
                    price: str = "100") -> str:  # fmt: skip
        amount, limit = positive_decimal(quantity), positive_decimal(price)
        if api_key not in self._accounts or amount is None or limit is None or symbol not in _PAIRS:
            raise ValueError("unknown api key or symbol, or invalid quantity or price")
        config = {"asset_quantity": float(amount), "limit_price": float(limit), "time_in_force": "gtc"}
        with self._lock:
            return self._add(self._accounts[api_key], symbol, side, "limit", str(uuid.uuid4()), config, amount,
                             limit).id  # fmt: skip

    def fill(self, order_id: str, volume: str | None = None) -> None:
        if order_id in self.equities.orders:
            return self.equities.fill(order_id, volume)
        with self._lock:
            order = self._orders[order_id]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.state()}")
            remaining = order.quantity - order.executed
            part = positive_decimal(volume) if volume is not None else None
            now = self._clock()
            order.executions.append((order.price, remaining if part is None or part >= remaining else part, now))
            order.updated = now

    def status(self, order_id: str) -> OrderStatus:
        if order_id in self.equities.orders:
            return self.equities.status(order_id)
        with self._lock:
            return STATUS_MAP[self._orders[order_id].state()]

    def describe(self, order_id: str) -> dict[str, Any]:
        if order_id in self.equities.orders:
            return self.equities.describe(order_id)
        with self._lock:
            return self._orders[order_id].as_robinhood()

    def render_venue_error(self, error_name: str) -> Response:
        if error_name in ("rate_limit", "ban"):
            return errors("client_error", "Request was throttled. Expected available in 13 seconds.", 429,
                          **{"Retry-After": "13"})  # fmt: skip
        status, detail = _SYMBOLIC.get(error_name, (400, error_name))
        return _Refusal(status, detail, "non_field_errors").render()

    def sandbox_login(self, code: str) -> dict[str, Any]:
        """The sandbox's demo Robinhood login: a new device is verified by a code "sent by sms", always `code`."""
        username, password = f"demo-{secrets.token_hex(4)}@robinhood.example", secrets.token_urlsafe(12)
        self.equities.add_login(username, password, verification="workflow", code=code)
        env = {"ROBINHOOD_USERNAME": username, "ROBINHOOD_PASSWORD": password, "ROBINHOOD_CODE": code}
        return {"username": username, "env": env}

    def place_demo(self, username: str, *, quantity: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        """An equities order on a login's first brokerage account (the sandbox's demo login)."""
        login = self.equities.logins[username]
        return self.equities.place_for(login.accounts[0], quantity=quantity, price=price), {"isCryptocurrency": False}

    # -- faults on the equities paths ----------------------------------------------------------------------
    def _take_fault(self, op: str, api_key: str) -> Fault | None:
        fault = super()._take_fault(op, api_key)
        if fault is not None and fault.kind == "venue_error" and fault.error == "auth":
            self.equities.revoke(api_key)
        return fault

    async def _apply(self, request: Request, fault: Fault | None, process: Callable[..., Any]) -> Response:
        if fault is not None and fault.kind == "venue_error" and not venue_path(request).startswith("/api/v1/crypto/"):
            self.errors[fault.error] += 1
            return self.equities.render_error(fault.error)
        return await super()._apply(request, fault, process)

    # -- protocol ----------------------------------------------------------------------------------------
    def _endpoint(self, op: str, handler: Callable[..., Any], trade: bool) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get(HEADER_KEY, "")

            async def process(fault: Fault | None) -> Response:
                raw = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request, raw)
                        if trade and not account.can_trade:
                            raise _Refusal(*_SYMBOLIC["permission"])
                        return handler(account, request, raw, fault)
                    except _Refusal as refusal:
                        self.errors[refusal.detail] += 1
                        return refusal.render()

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, raw: bytes) -> _Account:
        key, stamp, signature = (request.headers.get(h, "") for h in (HEADER_KEY, HEADER_TIMESTAMP, HEADER_SIGNATURE))
        if not (key and stamp and signature):
            raise _Refusal(400, _MISSING_HEADERS)
        if not stamp.isdigit() or not -TIMESTAMP_VALID_S <= self._clock() - int(stamp) <= TIMESTAMP_VALID_S:
            raise _Refusal(401, "Timestamp is invalid or expired.")
        account = self._accounts.get(key)
        if account is None:
            raise _Refusal(*_SYMBOLIC["auth"])
        query = request.url.query
        target = venue_path(request) + ("?" + query if query else "")
        try:
            signed = message(key, stamp, target, request.method, raw.decode("utf-8"))
            Ed25519PublicKey.from_public_bytes(account.public_key).verify(base64.b64decode(signature), signed)
        except (InvalidSignature, ValueError):
            raise _Refusal(*_SYMBOLIC["auth"]) from None
        return account

    def _add(self, account: _Account, symbol: str, side: str, order_type: str, client_id: str,
             config: dict[str, Any], quantity: Decimal, price: Decimal) -> _Order:  # fmt: skip
        order = _Order(str(uuid.uuid4()), account.api_key, account.number, symbol, side, order_type, client_id,
                       config, quantity, price, self._clock())  # fmt: skip
        self._orders[order.id] = order
        return order

    def _mine(self, account: _Account, order_id: str) -> _Order | None:
        order = self._orders.get(order_id) if ORDER_ID.fullmatch(order_id) else None
        return order if order is not None and order.api_key == account.api_key else None

    def _account(self, account: _Account, _request: Request, _raw: bytes, _f: Fault | None) -> Response:
        return JSONResponse({"account_number": account.number, "status": "active", "buying_power": "100000.00",
                             "buying_power_currency": "USD"})  # fmt: skip

    def _pairs(self, _account: _Account, request: Request, _raw: bytes, _f: Fault | None) -> Response:
        wanted = request.query_params.getlist("symbol") or list(_PAIRS)
        results = [{"asset_code": b, "quote_code": q, "quote_increment": "0.01", "asset_increment": "0.00000001",
                    "max_order_size": "100", "min_order_size": "0.000001", "status": "tradable", "symbol": s}
                   for s, (b, q) in _PAIRS.items() if s in wanted]  # fmt: skip
        return JSONResponse({"next": None, "previous": None, "results": results})

    def _list(self, account: _Account, request: Request, _raw: bytes, _f: Fault | None) -> Response:
        params = request.query_params
        mine = [o for o in self._orders.values() if o.api_key == account.api_key]
        for name, value_of in (("id", lambda o: o.id), ("state", _Order.state), ("side", lambda o: o.side),
                               ("symbol", lambda o: o.symbol), ("type", lambda o: o.type)):  # fmt: skip
            if name in params:
                mine = [o for o in mine if value_of(o) == params[name]]
        for name, keep in (("created_at_start", lambda o, t: o.created >= t),
                           ("created_at_end", lambda o, t: o.created <= t)):  # fmt: skip
            if name in params:
                when = parse_time(params[name])
                if when is None:
                    raise _Refusal(400, "Enter a valid date/time.", name)
                mine = [o for o in mine if keep(o, when)]
        try:
            rows, following = cursor_page(mine, params.get("cursor"), self.page_size)
        except ValueError:
            raise _Refusal(400, "Invalid cursor", "cursor") from None
        base = str(request.url).split("?")[0]
        return JSONResponse({"next": f"{base}?{next_query(params, following)}" if following else None,
                             "previous": None, "results": [o.as_robinhood() for o in rows]})  # fmt: skip

    def _place(self, account: _Account, _request: Request, raw: bytes, _f: Fault | None) -> Response:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise _Refusal(400, "JSON parse error.", "non_field_errors") from None
        if not isinstance(body, dict):
            raise _Refusal(400, "Invalid data.", "non_field_errors")
        client_id, symbol = str(body.get("client_order_id") or ""), body.get("symbol")
        side, order_type = body.get("side"), body.get("type")
        if not ORDER_ID.fullmatch(client_id):
            raise _Refusal(400, "Must be a valid UUID.", "client_order_id")
        for existing in self._orders.values():  # client_order_id is the idempotency key
            if existing.api_key == account.api_key and existing.client_order_id == client_id:
                return JSONResponse(existing.as_robinhood(), status_code=201)
        if symbol not in _PAIRS:
            raise _Refusal(400, f'"{symbol}" is not a valid choice.', "symbol")
        if side not in ("buy", "sell"):
            raise _Refusal(400, f'"{side}" is not a valid choice.', "side")
        if order_type not in _TYPES:
            raise _Refusal(400, f'"{order_type}" is not a valid choice.', "type")
        config = body.get(f"{order_type}_order_config")
        if not isinstance(config, dict):
            raise _Refusal(400, "This field is required.", f"{order_type}_order_config")
        quantity = positive_decimal(config.get("asset_quantity"))
        price = positive_decimal(config.get("limit_price") or config.get("stop_price") or "100")
        if quantity is None or price is None:
            raise _Refusal(400, "A valid number is required.", "asset_quantity")
        order = self._add(account, symbol, side, order_type, client_id, config, quantity, price)
        if order_type == "market":
            order.executions.append((price, quantity, order.created))
        return JSONResponse(order.as_robinhood(), status_code=201)

    def _lookup(self, account: _Account, request: Request, _raw: bytes, _f: Fault | None) -> Response:
        order = self._mine(account, request.path_params["id"])
        if order is None:
            raise _Refusal(404, "Not found.")
        return JSONResponse(order.as_robinhood())

    def _cancel(self, account: _Account, request: Request, _raw: bytes, fault: Fault | None) -> Response:
        order = self._mine(account, request.path_params["id"])
        if order is None:
            raise _Refusal(404, "Not found.")
        if not order.live:
            raise _Refusal(400, "This order cannot be canceled.", "non_field_errors")
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        else:
            order.cancelled, order.updated = True, self._clock()
        return PlainTextResponse(f"Cancel request was submitted for order {order.id}")

    def _settle(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.live:
                order.cancelled, order.updated = True, self._clock()
