"""A local Alpaca Trading API v2 for the calls ordergate and alpaca-py make.

One simulator is one environment (paper-api or api.alpaca.markets): serve two to model both, and each answers
401 to the other's credentials, as Alpaca does. Authentication is either `APCA-API-KEY-ID` + `APCA-API-SECRET-KEY`
or `Authorization: Bearer <token>` for tokens from `issue_token` (what Alpaca's OAuth flow would have issued).

    GET    /v2/account
    POST   /v2/orders        {symbol, qty, side, type, time_in_force, limit_price?, stop_price?, client_order_id?}
    GET    /v2/orders        ?status=open|closed|all &limit= (≤500) &after= &until= &direction= &symbols=
    GET    /v2/orders/{id}   404 {"code":40410000,"message":"order not found"}
    DELETE /v2/orders        207 [{"id", "status": 200, "body": <order>}] for every open order (cancel all)
    DELETE /v2/orders/{id}   204 (accepted); 404; 422 {"code":42210000,"message":"order is already in \"filled\" state"}

Errors are Alpaca's `{"code": <8 digits>, "message": …}` (the first three digits are the HTTP status). Every
authenticated answer carries X-Ratelimit-Limit/-Remaining/-Reset for a fixed 60 s window per account (429
{"code":42910000,…} past the limit) and its own `Date`, so Reset can be read against the server's clock: serve
it with uvicorn's `date_header=False` to keep that the only Date header.

Control surface: simkit's `/_control/…` routes. Faults and request accounting come from simkit; the operations
are "account", "place", "list", "get" and "cancel"; `venue_error` takes a symbolic name or an Alpaca code
("40410000", optionally "40410000:message").
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.alpaca.constants import LIVE_STATUSES, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort

# simkit's symbolic errors in Alpaca's words. Alpaca documents no lockout and no legal/regional block on these
# endpoints; both are answered as the 403 any other refusal is.
_SYMBOLIC: dict[str, tuple[int, int, str]] = {
    "rate_limit": (429, 42910000, "rate limit exceeded"),
    "ban": (403, 40310000, "account is blocked"),
    "auth": (401, 40110000, "request is not authorized"),
    "permission": (403, 40310000, "forbidden"),
    "unavailable": (500, 50010000, "internal server error occurred"),
    "restricted": (403, 40310000, "account is restricted"),
}
_MESSAGES = {40410000: "order not found", 42210000: "order is not cancelable", 40110000: "request is not authorized"}
SYMBOLIC_RESET_S = 17  # the symbolic rate_limit answer: the window resets this many seconds later
_CANCELABLE = LIVE_STATUSES - {"pending_cancel", "pending_replace"}
_TYPES = frozenset({"market", "limit", "stop", "stop_limit", "trailing_stop"})
_TIME_IN_FORCE = frozenset({"day", "gtc", "opg", "cls", "ioc", "fok"})


class _Refusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(slots=True)
class _Account:
    key_id: str
    secret: str
    number: str
    can_trade: bool = True
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    window_end: int = 0
    used: int = 0


@dataclass(slots=True)
class _Order:
    key_id: str
    symbol: str
    side: str
    type: str
    time_in_force: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None = None
    client_order_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    status: str = "new"
    filled_qty: Decimal = Decimal(0)
    filled_avg_price: Decimal | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    stamps: dict[str, datetime] = field(default_factory=dict)  # filled_at, canceled_at, expired_at, …

    def move(self, status: str, stamp: str | None = None) -> None:
        self.status, self.updated_at = status, datetime.now(UTC)
        if stamp:
            self.stamps[stamp] = self.updated_at

    def as_alpaca(self) -> dict[str, Any]:
        def iso(when: datetime | None) -> str | None:
            return when.isoformat(timespec="microseconds").replace("+00:00", "Z") if when else None

        crypto = "/" in self.symbol
        return {
            "id": self.id,
            "client_order_id": self.client_order_id,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "submitted_at": iso(self.created_at),
            **{name: iso(self.stamps.get(name)) for name in ("filled_at", "expired_at", "canceled_at", "failed_at")},
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_OID, self.symbol)),
            "symbol": self.symbol,
            "asset_class": "crypto" if crypto else "us_equity",
            "notional": None,
            "qty": _text(self.qty),
            "filled_qty": _text(self.filled_qty),
            "filled_avg_price": _text(self.filled_avg_price),
            "order_class": "",
            "order_type": self.type,
            "type": self.type,
            "side": self.side,
            "time_in_force": self.time_in_force,
            "limit_price": _text(self.limit_price),
            "stop_price": _text(self.stop_price),
            "status": self.status,
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
            "position_intent": ("buy_to_open" if self.side == "buy" else "sell_to_close") if not crypto else None,
        }


def _text(number: Decimal | None) -> str | None:
    """Alpaca's decimal strings: "2", "101.25", never "2.0" or "1E+2"."""
    return None if number is None else f"{number.normalize():f}"


def _bound(value: str | None) -> datetime | None | bool:
    """`after` / `until`: a date (2022-09-07) or an RFC 3339 time; False when it is neither."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None


@dataclass(frozen=True, slots=True)
class MultiStatus:
    """A 207 Multi-Status answer (DELETE /v2/orders)."""

    items: list[dict[str, Any]]


class AlpacaSimulator(SimulatorBase):
    def __init__(self, *, paper: bool = True, rate_limit: int = 200, market_price: str = "100") -> None:
        super().__init__()
        self.paper, self.rate_limit, self.market_price = paper, rate_limit, Decimal(market_price)
        self._accounts: dict[str, _Account] = {}
        self._tokens: dict[str, str] = {}  # bearer token → key id of its account
        self._orders: dict[str, _Order] = {}
        route = self._route
        starlette = Starlette(
            routes=[
                Route("/v2/account", route("account", self._account), methods=["GET"]),
                Route("/v2/orders", route("place", self._place), methods=["POST"]),
                Route("/v2/orders", route("list", self._list), methods=["GET"]),
                Route("/v2/orders", route("cancel_all", self._cancel_all), methods=["DELETE"]),
                Route("/v2/orders/{order_id}", route("get", self._get), methods=["GET"]),
                Route("/v2/orders/{order_id}", route("cancel", self._cancel), methods=["DELETE"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Alpaca's shapes: a 20-character key id (PK… paper, AK… live) and a 40-character secret.
        key_id = ("PK" if self.paper else "AK") + secrets.token_hex(9).upper()
        secret = secrets.token_urlsafe(30)[:40]
        number = ("PA" if self.paper else "") + str(secrets.randbelow(10**10)).zfill(10)
        with self._lock:
            self._accounts[key_id] = _Account(key_id, secret, number, can_trade)
        return SimAccount(key_id, secret)

    def issue_token(self, account: SimAccount) -> str:
        """An OAuth access token for the account, as Alpaca's /oauth/token would grant it."""
        token = str(uuid.uuid4())
        with self._lock:
            self._tokens[token] = self._accounts[account.api_key].key_id
        return token

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        body = {"symbol": "AAPL", "qty": volume, "side": "buy", "type": "limit", "time_in_force": "day"}
        with self._lock:
            order = self._new_order(self._accounts[account.api_key], {**body, "limit_price": price})
        return order.id, {}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in _CANCELABLE:
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill(order, _decimal(volume) if volume is not None else None)

    def set_created(self, order_id: str, when: datetime) -> None:
        """Give an order another submission time, as if it had been placed then."""
        with self._lock:
            self._orders[order_id].created_at = when.astimezone(UTC)

    def set_status(self, order_id: str, status: str) -> None:
        """Put an order in any Alpaca status (expired, rejected, stopped, replaced…), as the venue would."""
        if status not in STATUS_MAP:
            raise ValueError(f"not an Alpaca order status: {status}")
        with self._lock:
            self._orders[order_id].move(status, f"{status}_at" if status in ("expired", "canceled") else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES and order.filled_qty > 0:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_alpaca()

    def render_venue_error(self, error: str) -> Response:
        now = int(time.time())
        if error in _SYMBOLIC:
            status, code, message = _SYMBOLIC[error]
        else:
            code_text, _, message = error.partition(":")
            if not (code_text.isdigit() and len(code_text) == 8):  # free text: a 422 with that message
                code_text, message = "42210000", error
            code = int(code_text)
            status, message = code // 100000, message or _MESSAGES.get(code, "error")
        headers = {"Date": formatdate(now, usegmt=True)}
        if status == 429:
            reset = now + SYMBOLIC_RESET_S
            headers.update({"X-Ratelimit-Limit": str(self.rate_limit), "X-Ratelimit-Remaining": "0"})
            headers["X-Ratelimit-Reset"] = str(reset)
        return JSONResponse({"code": code, "message": message}, status, headers)

    # -- the HTTP API ----------------------------------------------------------------------------------
    def _route(self, op: str, handler: Callable[[_Account, Request, dict[str, Any], Fault | None], Any]) -> Any:
        async def endpoint(request: Request) -> Response:
            account, count_as = self._authenticate(request)

            async def process(fault: Fault | None) -> Response:
                now = int(time.time())
                headers = {"Date": formatdate(now, usegmt=True)}
                try:
                    if account is None:
                        raise _Refusal(401, 40110000, "request is not authorized")
                    body = await request.json() if request.method == "POST" else {}
                    with self._lock:
                        self._count(account, now, headers)
                        result = handler(account, request, body if isinstance(body, dict) else {}, fault)
                except _Refusal as refusal:
                    self.errors[str(refusal.code)] += 1
                    return JSONResponse({"code": refusal.code, "message": refusal.message}, refusal.status, headers)
                except ValueError:  # a body that is not JSON
                    return JSONResponse({"code": 40010000, "message": "request body format is invalid"}, 400, headers)
                if result is None:
                    return Response(status_code=204, headers=headers)
                if isinstance(result, MultiStatus):
                    return JSONResponse(result.items, 207, headers)
                return JSONResponse(result, headers=headers)

            return await self.serve_op(request, op, count_as, process)

        return endpoint

    def _authenticate(self, request: Request) -> tuple[_Account | None, str]:
        """(the account, the key requests are counted under); no account when the credentials do not match."""
        key_id = request.headers.get("APCA-API-KEY-ID")
        with self._lock:
            if key_id is not None:
                account = self._accounts.get(key_id)
                secret = request.headers.get("APCA-API-SECRET-KEY", "")
                ok = account is not None and hmac.compare_digest(secret.encode(), account.secret.encode())
                return (account if ok else None), key_id
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            owner = self._tokens.get(token) if scheme.lower() == "bearer" else None
            return (self._accounts[owner], owner) if owner else (None, "")

    def _count(self, account: _Account, now: int, headers: dict[str, str]) -> None:
        """A fixed 60 s window per account; the headers go on every answer, the 429 included."""
        if now >= account.window_end:
            account.window_end, account.used = now + 60, 0
        account.used += 1
        headers["X-Ratelimit-Limit"] = str(self.rate_limit)
        headers["X-Ratelimit-Remaining"] = str(max(0, self.rate_limit - account.used))
        headers["X-Ratelimit-Reset"] = str(account.window_end)
        if account.used > self.rate_limit:
            raise _Refusal(429, 42910000, "rate limit exceeded")

    def _account(self, account: _Account, _request: Request, _body: dict[str, Any], _f: Fault | None) -> Any:
        return {
            "id": account.id,
            "account_number": account.number,
            "status": "ACTIVE",
            "crypto_status": "ACTIVE",
            "currency": "USD",
            "buying_power": "200000",
            "cash": "100000",
            "portfolio_value": "100000",
            "equity": "100000",
            "pattern_day_trader": False,
            "trading_blocked": not account.can_trade,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "created_at": "2024-01-02T15:04:05.123456Z",
            "multiplier": "2",
            "shorting_enabled": True,
            "daytrade_count": 0,
        }

    def _place(self, account: _Account, _request: Request, body: dict[str, Any], _f: Fault | None) -> Any:
        if not account.can_trade:
            raise _Refusal(403, 40310000, "forbidden")
        return self._new_order(account, body).as_alpaca()

    def _list(self, account: _Account, request: Request, _body: dict[str, Any], _f: Fault | None) -> Any:
        params = request.query_params
        wanted, direction = params.get("status", "open"), params.get("direction", "desc")
        symbols = {s for s in params.get("symbols", "").split(",") if s}
        limit = params.get("limit", "50")
        after, until = _bound(params.get("after")), _bound(params.get("until"))
        if wanted not in ("open", "closed", "all") or not limit.isdigit() or not 0 < int(limit) <= 500:
            raise _Refusal(422, 40010001, "invalid status or limit")
        if direction not in ("asc", "desc") or after is False or until is False:
            raise _Refusal(422, 40010001, "invalid direction, after or until")
        mine = [o for o in self._orders.values() if o.key_id == account.key_id and (not symbols or o.symbol in symbols)]
        if wanted != "all":
            mine = [o for o in mine if (o.status in LIVE_STATUSES) == (wanted == "open")]
        # `after` and `until` bound the submission time, both exclusive (Orders API reference, GET /v2/orders).
        mine = [o for o in mine if (after is None or o.created_at > after) and (until is None or o.created_at < until)]
        mine.sort(key=lambda o: o.created_at, reverse=direction == "desc")
        return [o.as_alpaca() for o in mine[: int(limit)]]

    def _get(self, account: _Account, request: Request, _body: dict[str, Any], _f: Fault | None) -> Any:
        return self._mine(account, request).as_alpaca()

    def _cancel(self, account: _Account, request: Request, _body: dict[str, Any], fault: Fault | None) -> Any:
        order = self._mine(account, request)
        if not account.can_trade:
            raise _Refusal(403, 40310000, "forbidden")
        if order.status not in _CANCELABLE:
            raise _Refusal(422, 42210000, f'order is already in "{order.status}" state')
        if fault is not None and fault.kind == "pending":
            order.move("pending_cancel")
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.id)
        else:
            order.move("canceled", "canceled_at")
        return None

    def _cancel_all(self, account: _Account, _request: Request, _body: dict[str, Any], _f: Fault | None) -> Any:
        """`DELETE /v2/orders`: every open order of the account, answered 207 with one `{id, status, body}` each."""
        if not account.can_trade:
            raise _Refusal(403, 40310000, "forbidden")
        items = []
        for order in [o for o in self._orders.values() if o.key_id == account.key_id and o.status in _CANCELABLE]:
            order.move("canceled", "canceled_at")
            items.append({"id": order.id, "status": 200, "body": order.as_alpaca()})
        return MultiStatus(items)

    def _settle_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status == "pending_cancel":
                order.move("canceled", "canceled_at")

    def _mine(self, account: _Account, request: Request) -> _Order:
        order = self._orders.get(request.path_params["order_id"])
        if order is None or order.key_id != account.key_id:
            raise _Refusal(404, 40410000, "order not found")
        return order

    def _new_order(self, account: _Account, body: dict[str, Any]) -> _Order:
        symbol, side, kind, tif = (str(body.get(k, "")) for k in ("symbol", "side", "type", "time_in_force"))
        qty = _decimal(body.get("qty"))
        limit_price, stop_price = _decimal(body.get("limit_price")), _decimal(body.get("stop_price"))
        if not symbol or side not in ("buy", "sell") or kind not in _TYPES or tif not in _TIME_IN_FORCE:
            raise _Refusal(422, 40010001, "invalid symbol, side, type or time_in_force")
        if qty is None:
            raise _Refusal(422, 40010001, "qty must be > 0")
        if kind in ("limit", "stop_limit") and limit_price is None:
            raise _Refusal(422, 40010001, "limit_price is required for limit orders")
        if kind in ("stop", "stop_limit") and stop_price is None:
            raise _Refusal(422, 40010001, "stop_price is required for stop orders")
        client_id = str(body.get("client_order_id") or uuid.uuid4())
        if any(o.client_order_id == client_id and o.key_id == account.key_id for o in self._orders.values()):
            raise _Refusal(422, 40010001, "client_order_id must be unique")
        order = _Order(account.key_id, symbol, side, kind, tif, qty, limit_price, stop_price, client_id)
        self._orders[order.id] = order
        if kind == "market":
            self._fill(order, None)
        return order

    def _fill(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.qty - order.filled_qty
        step = remaining if volume is None or volume >= remaining else volume
        price = order.limit_price or self.market_price
        total = order.filled_qty + step
        order.filled_avg_price = ((order.filled_avg_price or Decimal(0)) * order.filled_qty + price * step) / total
        order.filled_qty = total
        if total >= order.qty:
            order.move("filled", "filled_at")
        else:
            order.move("partially_filled")
