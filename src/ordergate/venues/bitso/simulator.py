"""A local bitso.com for the REST v3 calls ordergate and ccxt's bitso make.

Protocol as Bitso speaks it: `Authorization: Bitso <key>:<nonce>:<signature>`, the hex HMAC-SHA256 checked over
nonce + method + path (+ query) + the exact body received, a nonce that must exceed the key's last accepted one,
and answers `{"success": true, "payload": …}` or `{"success": false, "error": {"code", "message"}}`.

    GET    /api/v3/available_books                      public
    GET    /api/v3/account_status | /api/v3/balance     ops "account_status", "balance"
    POST   /api/v3/orders                               op "place" (needs the trade permission)
    DELETE /api/v3/orders/{oid}                         op "cancel" (needs the trade permission)
    GET    /api/v3/orders/{oid} | /api/v3/open_orders   ops "lookup", "open_orders"
    GET    /api/v3/order_trades/{oid}                   op "trades"

Answers follow Bitso's: a cancel lists the oids it cancelled, and an order that is filled, cancelled, unknown or
another account's is simply absent; the lookup returns open orders and closed ones for an hour after they close
(`age` moves an order's close into the past); order_trades lists an order's fills whenever it closed.

Control surface (unsigned JSON; never serve it where real keys are used): simkit's /_control routes. Faults and
accounting come from simkit; `venue_error` takes simkit's symbolic names or a raw Bitso code ("0312", ...).
"""

from __future__ import annotations

import hmac
import json
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.bitso.auth import sign
from ordergate.venues.bitso.constants import CLOSED_LOOKUP_WINDOW_S, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path

_ALNUM = string.ascii_letters + string.digits
_MESSAGES = {
    "0101": "Unknown error",
    "0201": "Invalid Nonce or Invalid Credentials",
    "0202": "API key is not authorized to execute the requested method",
    "0207": "Invalid nonce value",
    "0301": "Unknown OrderBook",
    "0303": "Required field missing",
    "0304": "Required field not valid",
    "0306": "Order side not in (buy, sell)",
    "0307": "Order type not in (limit, market)",
    "0312": "Incorrect OID (non-existent or does not belong to user)",
    "0328": "Service unavailable for requesting country",
}
_SYMBOLIC = {"auth": "0201", "permission": "0202", "unavailable": "0101", "restricted": "0328"}
_BOOKS = ("btc_mxn", "eth_mxn", "btc_usd", "usd_mxn")
_OPEN_ORDERS_DEFAULT_LIMIT = 500  # docs.bitso.com list-open-orders: limit defaults to 500


def _status_of_code(code: str) -> int:
    return {"01": 500, "02": 401}.get(code[:2], 400)


def error(code: str, message: str | None = None) -> JSONResponse:
    body = {"success": False, "error": {"code": code, "message": message or _MESSAGES.get(code, "Unknown error")}}
    return JSONResponse(body, status_code=_status_of_code(code))


class _Refusal(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool
    last_nonce: int = 0


@dataclass(slots=True)
class _Order:
    oid: str
    api_key: str
    book: str
    side: str
    kind: str
    amount: Decimal
    price: Decimal
    origin_id: str | None = None
    executed: Decimal = Decimal(0)
    cancelled: bool = False
    created: float = field(default_factory=time.time)
    closed: float | None = None
    trades: list[dict[str, Any]] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return not self.cancelled and self.executed < self.amount

    def status(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.executed >= self.amount:
            return "completed"
        return "partially filled" if self.executed else "open"

    def as_bitso(self) -> dict[str, Any]:
        return {
            "book": self.book,
            "original_amount": f"{self.amount:f}",
            "unfilled_amount": f"{self.amount - self.executed:f}",
            "original_value": f"{self.amount * self.price:f}",
            "created_at": _iso(self.created),
            "updated_at": _iso(self.closed or self.created),
            "price": f"{self.price:f}",
            "oid": self.oid,
            "origin_id": self.origin_id,
            "side": self.side,
            "status": self.status(),
            "type": self.kind,
            "time_in_force": "goodtillcancelled",
        }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+00:00"


def _decimal(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() and result > 0 else None


def new_oid() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(16))


class BitsoSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._clock = clock
        private = [
            ("/api/v3/account_status", "GET", "account_status", self._account_status, False),
            ("/api/v3/balance", "GET", "balance", self._balance, False),
            ("/api/v3/orders", "POST", "place", self._place, True),
            ("/api/v3/orders/{oid}", "DELETE", "cancel", self._cancel, True),
            ("/api/v3/orders/{oid}", "GET", "lookup", self._lookup, False),
            ("/api/v3/open_orders", "GET", "open_orders", self._open_orders, False),
            ("/api/v3/order_trades/{oid}", "GET", "trades", self._trades, False),
        ]
        routes = [
            Route(path, self._endpoint(op, handler, trade), methods=[method])
            for path, method, op, handler, trade in private
        ]
        routes += [Route("/api/v3/available_books", self._books, methods=["GET"]), *self.control_routes()]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Bitso's shapes: a 10-character key, a 32-character hex secret.
        api_key = "".join(secrets.choice(_ALNUM) for _ in range(10))
        secret = secrets.token_hex(16)
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, can_trade)
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        return self.place_order(account.api_key, amount=volume, price=price), {}

    def place_order(self, api_key: str, *, book: str = "btc_mxn", side: str = "buy", amount: str = "1",
                    price: str = "100") -> str:  # fmt: skip
        amount_d, price_d = _decimal(amount), _decimal(price)
        if api_key not in self._accounts or amount_d is None or price_d is None:
            raise ValueError("unknown api key, or invalid amount or price")
        with self._lock:
            return self._add(api_key, book, side, "limit", amount_d, price_d, None).oid

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.status()}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def age(self, order_id: str, seconds: float) -> None:
        """Move an order's creation and close `seconds` into the past (the lookup window is an hour)."""
        with self._lock:
            order = self._orders[order_id]
            order.created -= seconds
            order.closed = order.closed - seconds if order.closed is not None else None

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            return STATUS_MAP[self._orders[order_id].status()]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_bitso()

    def render_venue_error(self, error_name: str) -> Response:
        if error_name in ("rate_limit", "ban"):
            # Bitso documents the one-minute lockout, not its body: a bare 429 as its edge would send it.
            return PlainTextResponse("Too Many Requests", status_code=429)
        return error(_SYMBOLIC.get(error_name, error_name))

    # -- protocol ----------------------------------------------------------------------------------------
    async def _books(self, _request: Request) -> Response:
        payload = [{"book": b, "minimum_amount": "0.00005", "maximum_amount": "500", "minimum_price": "1",
                    "maximum_price": "10000000", "minimum_value": "5", "maximum_value": "10000000",
                    "tick_size": "0.01", "fees": {"flat_rate": {"maker": "0.500", "taker": "0.650"},
                                                  "structure": []}} for b in _BOOKS]  # fmt: skip
        return JSONResponse({"success": True, "payload": payload})

    def _endpoint(self, op: str, handler: Callable[..., Any], trade: bool) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            header = request.headers.get("Authorization", "")
            api_key = header.removeprefix("Bitso ").split(":")[0]

            async def process(_fault: Fault | None) -> Response:
                raw = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request, header, raw)
                        if trade and not account.can_trade:
                            raise _Refusal("0202")
                        payload = handler(account, request, raw)
                    except _Refusal as refusal:
                        self.errors[refusal.code] += 1
                        return error(refusal.code, refusal.message)
                return JSONResponse({"success": True, "payload": payload})

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, header: str, raw: bytes) -> _Account:
        scheme, _, credentials = header.partition(" ")
        parts = credentials.split(":")
        if scheme != "Bitso" or len(parts) != 3:
            raise _Refusal("0201")
        api_key, nonce, signature = parts
        account = self._accounts.get(api_key)
        if account is None or not nonce.isdigit():
            raise _Refusal("0201")
        path = venue_path(request)
        if request.url.query:
            path += "?" + request.url.query
        expected = sign(account.secret, nonce, request.method, path, raw)
        if not hmac.compare_digest(expected, signature):
            raise _Refusal("0201")
        if int(nonce) <= account.last_nonce:
            raise _Refusal("0207", f"Invalid nonce value: nonce must be higher than {account.last_nonce}")
        account.last_nonce = int(nonce)
        return account

    def _add(self, api_key: str, book: str, side: str, kind: str, amount: Decimal, price: Decimal,
             origin_id: str | None) -> _Order:  # fmt: skip
        order = _Order(new_oid(), api_key, book, side, kind, amount, price, origin_id, created=self._clock())
        self._orders[order.oid] = order
        if kind == "market":
            self._fill_locked(order, None)
        return order

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.amount - order.executed
        part = remaining if volume is None or volume >= remaining else volume
        order.executed += part
        order.trades.append({"book": order.book, "major": f"{part:f}", "minor": f"{part * order.price:f}",
                             "price": f"{order.price:f}", "side": order.side, "oid": order.oid,
                             "tid": secrets.randbelow(10**9), "created_at": _iso(self._clock()),
                             "fees_amount": "0", "fees_currency": order.book.split("_")[1]})  # fmt: skip
        if order.executed >= order.amount:
            order.closed = self._clock()

    def _mine(self, account: _Account, oid: str) -> _Order | None:
        order = self._orders.get(oid)
        return order if order is not None and order.api_key == account.api_key else None

    def _account_status(self, account: _Account, _request: Request, _raw: bytes) -> dict[str, Any]:
        return {"client_id": account.api_key[:6], "status": "active", "daily_limit": "5300.00",
                "monthly_limit": "32000.00", "daily_remaining": "5300.00", "monthly_remaining": "32000.00",
                "cellphone_number": "verified", "official_id": "verified", "proof_of_residency": "verified",
                "signed_contract": "unsubmitted", "origin_of_funds": "unsubmitted"}  # fmt: skip

    def _balance(self, _account: _Account, _request: Request, _raw: bytes) -> dict[str, Any]:
        rows = [("mxn", "100000.00"), ("btc", "10.00000000"), ("eth", "100.00000000")]
        return {"balances": [{"currency": c, "available": a, "locked": "0", "total": a, "pending_deposit": "0",
                              "pending_withdrawal": "0"} for c, a in rows]}  # fmt: skip

    def _place(self, account: _Account, _request: Request, raw: bytes) -> dict[str, Any]:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise _Refusal("0304", "Invalid JSON payload") from None
        if not isinstance(body, dict):
            raise _Refusal("0304", "Invalid JSON payload")
        book, side, kind = body.get("book"), body.get("side"), body.get("type")
        if book not in _BOOKS:
            raise _Refusal("0301")
        if side not in ("buy", "sell"):
            raise _Refusal("0306")
        if kind not in ("limit", "market"):
            raise _Refusal("0307")
        amount = _decimal(body.get("major"))
        price = _decimal(body.get("price")) if kind == "limit" else Decimal(1)
        if amount is None or price is None:
            raise _Refusal("0303", "Required field missing: major or price")
        origin = body.get("origin_id") if isinstance(body.get("origin_id"), str) else None
        return {"oid": self._add(account.api_key, book, side, kind, amount, price, origin).oid}

    def _cancel(self, account: _Account, request: Request, _raw: bytes) -> list[str]:
        order = self._mine(account, request.path_params["oid"])
        if order is None or not order.live:
            return []  # Bitso: "might not successfully cancel orders if it has filled them, …": simply absent
        order.cancelled, order.closed = True, self._clock()
        return [order.oid]

    def _visible(self, order: _Order) -> bool:
        return order.live or (order.closed is not None and self._clock() - order.closed <= CLOSED_LOOKUP_WINDOW_S)

    def _lookup(self, account: _Account, request: Request, _raw: bytes) -> list[dict[str, Any]]:
        order = self._mine(account, request.path_params["oid"])
        return [order.as_bitso()] if order is not None and self._visible(order) else []

    def _open_orders(self, account: _Account, request: Request, _raw: bytes) -> list[dict[str, Any]]:
        """Newest first unless `sort=asc`; `marker` is an order of the account: only orders older (desc) or newer
        (asc) than it follow; `book` and `currency` filter; `limit` bounds the page."""
        query = request.query_params
        sort, marker, book, currency = (query.get(k) for k in ("sort", "marker", "book", "currency"))
        limit_text = query.get("limit", str(_OPEN_ORDERS_DEFAULT_LIMIT))
        if sort not in (None, "asc", "desc") or not limit_text.isdigit() or int(limit_text) < 1:
            raise _Refusal("0304", "Required field not valid: sort or limit")
        if book is not None and book not in _BOOKS:
            raise _Refusal("0301")
        mine = [o for o in self._orders.values() if o.api_key == account.api_key]  # in creation order
        if sort != "asc":
            mine.reverse()
        if marker is not None:
            at = next((i for i, o in enumerate(mine) if o.oid == marker), None)
            if at is None:
                raise _Refusal("0304", "Required field not valid: marker")
            mine = mine[at + 1 :]
        picked = [o for o in mine if o.live and (book is None or o.book == book)
                  and (currency is None or currency in o.book.split("_"))]  # fmt: skip
        return [o.as_bitso() for o in picked[: int(limit_text)]]

    def _trades(self, account: _Account, request: Request, _raw: bytes) -> list[dict[str, Any]]:
        order = self._mine(account, request.path_params["oid"])
        return list(order.trades) if order is not None else []
