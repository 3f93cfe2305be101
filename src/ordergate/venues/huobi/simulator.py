"""A local api.huobi.pro for the spot REST calls ordergate and ccxt make.

Protocol as HTX speaks it: signature version 2 in the query string, verified over the host the request was sent
to (its Host header, lower case) and the full path it arrived on (a mount prefix included: that is the path the
client called); the Timestamp must lie within 5 minutes; answers `{"status": "ok", "data": ...}` or
`{"status": "error", "err-code", "err-msg", "data": null}` inside HTTP 200; orders scoped to the key's user; a key
without Trade permission may read but not place or cancel; `submitcancel` only acknowledges (the `pending` fault
leaves the order `canceling` for a while); HTX forgets orders cancelled more than 2 hours ago, and answers a cancel
of an order closed that long ago with order-state -1 (`age` moves an order back in time to show it).

    GET  /v1/common/symbols | /v1/common/timestamp              (public)
    GET  /v1/account/accounts                                    accounts
    GET  /v1/account/accounts/{account-id}/balance               balance
    POST /v1/order/orders/place                                  place
    GET  /v1/order/orders/{order-id}                             order
    POST /v1/order/orders/{order-id}/submitcancel                submitcancel

Control surface and faults come from `ordergate.venues.simkit`; `venue_error` takes a symbolic name, an HTX
err-code, or `order-orderstate-error:<order-state>`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.huobi.auth import canonical_query, sign
from ordergate.venues.huobi.constants import (
    HEADER_EXPIRE,
    HEADER_REMAIN,
    HISTORY_SIZE,
    HISTORY_WINDOW_MS,
    LIVE_STATES,
    RATE_LIMIT_WINDOW_S,
    SIGNATURE_METHOD,
    SIGNATURE_VERSION,
    STATUS_MAP,
    TIMESTAMP_FORMAT,
    TIMESTAMP_WINDOW_S,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

FORGET_CANCELLED_S = 2 * 3600  # "no longer be queryable after being cancelled for more than 2 hours"
SYMBOLS = {"btcusdt": ("btc", "usdt"), "ethusdt": ("eth", "usdt"), "ethbtc": ("eth", "btc")}
ORDER_STATE_CODES = {"partial-canceled": 5, "filled": 6, "canceled": 7, "canceling": 10}
_MESSAGES = {
    "login-required": "Parameter `AccessKeyId` is required.",
    "api-signature-not-valid": "Signature not valid: Verification failure [校验失败]",
    "base-record-invalid": "record invalid",
    "order-orderstate-error": "Incorrect order state",
    "base-request-exceed-frequency-limit": "Frequency of requests has exceeded the limit, please try again later",
    "system-maintenance": "System is in maintenance!",
    "timeout": "Request Timeout",
}
_UNKNOWN_KEY = "Signature not valid: Incorrect Access key [Access key错误]"
_STALE = "Signature not valid: Invalid submission time or incorrect time format [无效的提交时间，或时间格式错误]"
_NO_PERMISSION = "Signature not valid: API key has no permission [API Key没有权限]"
_TRADE_OPS = frozenset({"place", "submitcancel"})
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


class _Refusal(Exception):
    def __init__(self, code: str, message: str | None = None, **extra: Any) -> None:
        super().__init__(code)
        self.code, self.message, self.extra = code, message or _MESSAGES.get(code, code), extra


def _error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "err-code": code, "err-msg": message, "data": None, **extra}


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    account_id: int
    can_trade: bool


@dataclass(slots=True)
class _Order:
    id: int
    api_key: str
    account_id: int
    symbol: str
    type: str
    amount: Decimal
    price: Decimal
    created_ms: int
    client_order_id: str = ""
    state: str = "submitted"
    filled: Decimal = Decimal(0)
    filled_cash: Decimal = Decimal(0)
    finished_ms: int = 0
    canceled_ms: int = 0

    def as_htx(self) -> dict[str, Any]:
        order: dict[str, Any] = {
            "id": self.id, "symbol": self.symbol, "account-id": self.account_id, "amount": f"{self.amount:.18f}",
            "price": f"{self.price:.18f}", "created-at": self.created_ms, "type": self.type,
            "filled-amount": f"{self.filled:.18f}", "filled-cash-amount": f"{self.filled_cash:.18f}",
            "filled-fees": f"{self.filled * Decimal('0.002'):.18f}", "finished-at": self.finished_ms,
            "source": "api", "state": self.state, "canceled-at": self.canceled_ms,
        }  # fmt: skip
        if self.client_order_id:
            order["client-order-id"] = self.client_order_id
        return order


@dataclass(frozen=True, slots=True)
class _Envelope:
    data: Any
    extra: dict[str, Any]


def _int_param(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _Refusal("validation-format-error", f"Format Error: {name}.")
    return int(raw)


class HuobiSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(jitter_s=jitter_s)
        self.clock = clock
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        self._next_id = 10**15 + secrets.randbelow(10**14)
        private = [
            ("/v1/account/accounts", "accounts", self._list_accounts, "GET"),
            ("/v1/account/accounts/{account_id}/balance", "balance", self._balance, "GET"),
            ("/v1/order/orders/place", "place", self._place, "POST"),
            ("/v1/order/orders/{order_id}", "order", self._order, "GET"),
            ("/v1/order/orders/{order_id}/submitcancel", "submitcancel", self._submit_cancel, "POST"),
            ("/v1/order/openOrders", "openOrders", self._open_orders, "GET"),
            ("/v1/order/history", "history", self._history, "GET"),
        ]
        routes = [Route(path, self._endpoint(op, handler), methods=[verb]) for path, op, handler, verb in private]
        routes += [
            Route("/v1/common/symbols", lambda _r: JSONResponse({"status": "ok", "data": _symbols()}), methods=["GET"]),
            Route("/v1/common/timestamp", self._timestamp, methods=["GET"]),
            *self.control_routes(),
        ]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # HTX's shapes: an access key like "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx" and a secret of the same form.
        def key() -> str:
            return "-".join("".join(secrets.choice(_ALNUM) for _ in range(n)) for n in (8, 8, 8, 5))

        with self._lock:
            account = _Account(key(), key(), 10_000_000 + len(self._accounts), can_trade)
            self._accounts[account.api_key] = account
        # A token issued by /authenticate carries the spot account id verify_credentials read (the adapter keeps it
        # so that listing open orders is one request); the kit's tokens are sealed directly, so they carry it too.
        return SimAccount(account.api_key, account.secret, extras={"accountId": str(account.account_id)})

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        owner = self._accounts.get(account.api_key)
        amount, limit = _decimal(volume), _decimal(price)
        if owner is None or amount is None or limit is None:
            raise ValueError("unknown api key, or invalid volume or price")
        with self._lock:
            order = self._new_order(owner, "btcusdt", "buy-limit", amount, limit, "")
        return str(order.id), {}  # HTX cancels by order id alone

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.state not in LIVE_STATES:
                raise ValueError(f"order {order_id} is {order.state}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.state in ("submitted", "partial-filled", "canceling"):
                return OrderStatus.partiallyFilled if order.filled else OrderStatus.inProgress
            return STATUS_MAP[order.state]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[int(order_id)].as_htx()

    def age(self, order_id: str, seconds: float) -> None:
        """Move an order's timestamps `seconds` into the past (what HTX does with old orders shows up then)."""
        with self._lock:
            order = self._orders[int(order_id)]
            shift = int(seconds * 1000)
            order.created_ms -= shift
            order.finished_ms -= shift if order.finished_ms else 0
            order.canceled_ms -= shift if order.canceled_ms else 0

    def render_venue_error(self, error: str) -> Response:
        if error == "rate_limit":
            expire = int(self.clock() * 1000) + RATE_LIMIT_WINDOW_S * 1000
            body = _error("base-request-exceed-frequency-limit", _MESSAGES["base-request-exceed-frequency-limit"])
            return JSONResponse(body, headers={HEADER_REMAIN: "0", HEADER_EXPIRE: str(expire)})
        symbolic = {
            "auth": ("api-signature-not-valid", _UNKNOWN_KEY),
            "permission": ("api-signature-not-valid", _NO_PERMISSION),
            "unavailable": ("system-maintenance", _MESSAGES["system-maintenance"]),
        }
        if error in symbolic:
            return JSONResponse(_error(*symbolic[error]))
        code, _, state = error.partition(":")
        extra = {"order-state": int(state)} if state.lstrip("-").isdigit() else {}
        return JSONResponse(_error(code, _MESSAGES.get(code, code), **extra))

    # -- protocol ----------------------------------------------------------------------------------------
    async def _timestamp(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok", "data": int(self.clock() * 1000)})

    def _endpoint(self, op: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            query = request.scope.get("query_string", b"").decode()
            params = parse_qsl(query, keep_blank_values=True)
            api_key = dict(params).get("AccessKeyId", "")

            async def process(fault: Fault | None) -> Response:
                body = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request, params)
                        if op in _TRADE_OPS and not account.can_trade:
                            raise _Refusal("api-signature-not-valid", _NO_PERMISSION)
                        data = handler(account, request, body, fault)
                        if isinstance(data, _Envelope):  # fields beside `data` (history's next-time)
                            return JSONResponse({"status": "ok", "data": data.data, **data.extra})
                        return JSONResponse({"status": "ok", "data": data})
                    except _Refusal as refusal:
                        self.errors[refusal.code] += 1
                        return JSONResponse(_error(refusal.code, refusal.message, **refusal.extra))

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, params: list[tuple[str, str]]) -> _Account:
        given = dict(params)
        if not given.get("AccessKeyId") or not given.get("Signature"):
            raise _Refusal("login-required")
        account = self._accounts.get(given["AccessKeyId"])
        if account is None:
            raise _Refusal("api-signature-not-valid", _UNKNOWN_KEY)
        if given.get("SignatureMethod") != SIGNATURE_METHOD or given.get("SignatureVersion") != SIGNATURE_VERSION:
            raise _Refusal("api-signature-not-valid", "Signature not valid: Incorrect signature method or version")
        try:
            stamp = datetime.strptime(given.get("Timestamp", ""), TIMESTAMP_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise _Refusal("api-signature-not-valid", _STALE) from None
        if abs(stamp.timestamp() - self.clock()) > TIMESTAMP_WINDOW_S:
            raise _Refusal("api-signature-not-valid", _STALE)
        host = request.headers.get("host", "").lower()
        path = request.scope.get("root_path", "") + venue_path(request)  # the full path the client called
        signed = canonical_query([(k, v) for k, v in params if k != "Signature"])
        expected = sign(account.secret, request.method, host, path, signed)
        if not hmac.compare_digest(expected.encode(), given["Signature"].encode()):
            raise _Refusal("api-signature-not-valid")
        return account

    def _mine(self, account: _Account, order_id: str, *, querying: bool) -> _Order:
        if not order_id.isdigit():
            raise _Refusal("validation-format-error", "Format Error: order-id.")
        order = self._orders.get(int(order_id))
        # Queries no longer show orders cancelled long ago; a cancel still knows them (order-state -1).
        if order is None or order.api_key != account.api_key or (querying and self._forgotten(order)):
            raise _Refusal("base-record-invalid")
        return order

    def _forgotten(self, order: _Order) -> bool:
        return order.state == "canceled" and self._closed_long_ago(order)

    def _closed_long_ago(self, order: _Order) -> bool:
        ended = order.canceled_ms or order.finished_ms
        return bool(ended) and self.clock() * 1000 - ended > FORGET_CANCELLED_S * 1000

    def _list_accounts(self, account: _Account, _r: Request, _b: bytes, _f: Fault | None) -> Any:
        return [{"id": account.account_id, "type": "spot", "subtype": "", "state": "working"}]

    def _balance(self, account: _Account, request: Request, _b: bytes, _f: Fault | None) -> Any:
        if request.path_params["account_id"] != str(account.account_id):
            raise _Refusal("account-get-balance-account-inexistent-error", "invalid account_id")
        balances = [("usdt", "100000"), ("btc", "10"), ("eth", "100")]
        return {
            "id": account.account_id, "type": "spot", "state": "working",
            "list": [{"currency": c, "type": t, "balance": b if t == "trade" else "0"}
                     for c, b in balances for t in ("trade", "frozen")],
        }  # fmt: skip

    def _place(self, account: _Account, _r: Request, body: bytes, _f: Fault | None) -> Any:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise _Refusal("bad-request", "invalid json") from None
        if not isinstance(params, dict) or str(params.get("account-id")) != str(account.account_id):
            raise _Refusal("account-frozen-account-inexistent-error", "account for id does not exist")
        symbol, kind = params.get("symbol"), str(params.get("type", ""))
        if symbol not in SYMBOLS:
            raise _Refusal("invalid-parameter", "invalid symbol")
        if kind not in ("buy-limit", "sell-limit", "buy-market", "sell-market"):
            raise _Refusal("invalid-parameter", "invalid type")
        amount = _decimal(params.get("amount"))
        price = _decimal(params.get("price", "100")) if kind.endswith("limit") else Decimal(100)
        if amount is None or price is None:
            raise _Refusal("invalid-amount", "Paramemter `amount` is invalid.")
        order = self._new_order(account, symbol, kind, amount, price, str(params.get("client-order-id") or ""))
        if kind.endswith("market"):
            self._fill_locked(order, None)
        return str(order.id)

    def _order(self, account: _Account, request: Request, _b: bytes, _f: Fault | None) -> Any:
        return self._mine(account, request.path_params["order_id"], querying=True).as_htx()

    def _submit_cancel(self, account: _Account, request: Request, _b: bytes, fault: Fault | None) -> Any:
        order = self._mine(account, request.path_params["order_id"], querying=False)
        if order.state not in ("submitted", "partial-filled", "created"):
            state = -1 if self._closed_long_ago(order) else ORDER_STATE_CODES[order.state]
            raise _Refusal("order-orderstate-error", **{"order-state": state})
        if fault is not None and fault.kind == "pending":
            order.state = "canceling"
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.id)
        else:
            self._cancel_locked(order)
        return str(order.id)

    def _settle_cancel(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.state == "canceling":
                self._cancel_locked(order)

    def _open_orders(self, account: _Account, request: Request, _b: bytes, _f: Fault | None) -> Any:
        if request.query_params.get("account-id") != str(account.account_id):
            raise _Refusal("base-record-invalid", "record invalid: account-id")
        size = _int_param(request, "size", 100, 1, 500)
        start = _int_param(request, "from", None, 1, 2**63)
        direct = request.query_params.get("direct", "next" if start is None else "")
        if direct not in ("prev", "next"):
            raise _Refusal("validation-format-error", "Format Error: direct.")
        live = [o for o in self._orders.values() if o.api_key == account.api_key and o.state in LIVE_STATES]
        if start is not None:  # next: older than `from` (smaller ids); prev: newer
            live = [o for o in live if (o.id < start if direct == "next" else o.id > start)]
        chosen = sorted(live, key=lambda o: o.id, reverse=direct == "next")[:size]
        return [o.as_htx() for o in sorted(chosen, key=lambda o: o.id, reverse=True)]

    def _history(self, account: _Account, request: Request, _b: bytes, _f: Fault | None) -> Any:
        now = int(self.clock() * 1000)
        end = _int_param(request, "end-time", now, 0, 2**63)
        start = _int_param(request, "start-time", end - HISTORY_WINDOW_MS, 0, 2**63)
        assert start is not None and end is not None
        if end - start > HISTORY_WINDOW_MS or start < now - HISTORY_WINDOW_MS or start > end:
            raise _Refusal("validation-format-error", "Format Error: start-time/end-time (48 hours at most).")
        size = _int_param(request, "size", 100, HISTORY_SIZE[0], HISTORY_SIZE[1])
        assert size is not None
        closed = [
            o
            for o in self._orders.values()
            if o.api_key == account.api_key and o.state not in LIVE_STATES and not self._forgotten(o)
            and start <= o.created_ms <= end
        ]  # fmt: skip
        ordered = sorted(closed, key=lambda o: (o.created_ms, o.id), reverse=True)
        extra = {"next-time": ordered[size].created_ms} if len(ordered) > size else {}
        return _Envelope([o.as_htx() for o in ordered[:size]], extra)

    def _new_order(
        self, account: _Account, symbol: str, kind: str, amount: Decimal, price: Decimal, client_id: str
    ) -> _Order:
        self._next_id += 1 + secrets.randbelow(1000)
        order = _Order(self._next_id, account.api_key, account.account_id, symbol, kind, amount, price,
                       int(self.clock() * 1000), client_id)  # fmt: skip
        self._orders[order.id] = order
        return order

    def _cancel_locked(self, order: _Order) -> None:
        now = int(self.clock() * 1000)
        order.state = "partial-canceled" if order.filled else "canceled"
        order.canceled_ms = order.finished_ms = now

    def _fill_locked(self, order: _Order, amount: Decimal | None) -> None:
        remaining = order.amount - order.filled
        step = remaining if amount is None or amount >= remaining else amount
        order.filled += step
        order.filled_cash += step * order.price
        if order.filled >= order.amount:
            order.state, order.finished_ms = "filled", int(self.clock() * 1000)
        elif order.state == "submitted":
            order.state = "partial-filled"


def _symbols() -> list[dict[str, Any]]:
    return [
        {"base-currency": base, "quote-currency": quote, "symbol": symbol, "state": "online",
         "price-precision": 2 if quote == "usdt" else 6, "amount-precision": 6, "value-precision": 8,
         "min-order-amt": "0.0001", "max-order-amt": "1000", "min-order-value": "1", "symbol-partition": "main",
         "api-trading": "enabled", "leverage-ratio": 1}
        for symbol, (base, quote) in SYMBOLS.items()
    ]  # fmt: skip
