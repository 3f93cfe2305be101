"""A local api.crypto.com/exchange/v1 for the calls ordergate and ccxt's `cryptocom` make.

Protocol as Crypto.com documents it: every private call is `POST /<method>` with a JSON body {id, method, api_key,
params, nonce, sig}; `sig` is checked with the documented recipe over the values received (id and nonce as numbers
or strings of digits), the nonce must lie within 60 s of the server clock, and answers are
`{"id", "method", "code", "message"?, "result"?}` with the HTTP status the v1 code table gives each code (errors
also carry `original`, the request as received, as Crypto.com's do).

    POST /private/create-order | /private/cancel-order     (need the trade permission)
    POST /private/get-order-detail | /private/get-open-orders | /private/get-accounts
    GET  /public/get-instruments                           (public)

Answers where the docs are silent (see constants.py): an order id the key does not own, or never issued, is 40401
NOT_FOUND; a cancel of a final order is 316 NO_ACTIVE_ORDER; a key without trade permission gets 40104
USER_TIER_INVALID on create/cancel. Cancels take effect at once unless a `pending` fault delays them (Crypto.com's
cancel is asynchronous).

Control surface: simkit's /_control routes (unsigned; never serve it where real keys are used). `venue_error` takes
simkit's symbolic names or a raw code such as "316".
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import string
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.crypto_com.auth import now_ms, sign
from ordergate.venues.crypto_com.constants import NONCE_WINDOW_MS, ORDER_ID_MAX, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

# code → (HTTP status, message code), from the v1 "Response and Reason Codes" table.
_CODES: dict[int, tuple[int, str]] = {
    202: (400, "ACCOUNT_IS_SUSPENDED"),
    209: (400, "INVALID_INSTRUMENT"),
    212: (500, "INVALID_ORDERID"),
    213: (400, "INVALID_ORDERQTY"),
    218: (400, "INVALID_ORDTYPE"),
    220: (400, "INVALID_SIDE"),
    307: (500, "INVALID_ORDSTATUS"),
    308: (400, "INVALID_PRICE"),
    316: (500, "NO_ACTIVE_ORDER"),
    40001: (400, "BAD_REQUEST"),
    40002: (400, "METHOD_NOT_FOUND"),
    40003: (400, "INVALID_REQUEST"),
    40004: (400, "MISSING_OR_INVALID_ARGUMENT"),
    40006: (400, "DUPLICATE_REQUEST"),
    40101: (401, "UNAUTHORIZED"),
    40102: (400, "INVALID_NONCE"),
    40103: (401, "IP_ILLEGAL"),
    40104: (401, "USER_TIER_INVALID"),
    40401: (200, "NOT_FOUND"),
    40801: (408, "REQUEST_TIMEOUT"),
    42901: (429, "TOO_MANY_REQUESTS"),
    50001: (500, "INTERNAL_SERVER_ERROR"),
}
_SYMBOLIC = {"rate_limit": 42901, "ban": 202, "auth": 40101, "permission": 40104, "unavailable": 50001}
_TRADE = frozenset({"private/create-order", "private/cancel-order"})
_LIVE = frozenset({"NEW", "PENDING", "ACTIVE"})
_HISTORY_MAX = 100  # private/get-order-history `limit`: "Default: 100. Max: 100."
_DAY_NS = 86_400 * 10**9


def _nanos(value: Any, default: int) -> int:
    """A Unix time in ms or ns (a number or a string of digits), as get-order-history takes it, in ns."""
    if value is None:
        return default
    digits = _digits(value)
    if digits is None:
        raise _Refusal(40004)
    number = int(digits)
    return number if number >= 10**17 else number * 1_000_000


_INSTRUMENTS = {"BTC_USDT": ("BTC", "USDT"), "ETH_USDT": ("ETH", "USDT"), "BTC_USD": ("BTC", "USD")}
_ALNUM = string.ascii_letters + string.digits
_MARKET_PRICE = Decimal("30000")


class _Refusal(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    op: str
    params: dict[str, Any]
    code: int


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    uuid: str
    can_trade: bool


@dataclass(slots=True)
class _Order:
    order_id: str
    client_oid: str
    api_key: str
    instrument: str
    side: str
    order_type: str
    quantity: Decimal
    price: Decimal
    time_in_force: str = "GOOD_TILL_CANCEL"
    status: str = "ACTIVE"
    cum_qty: Decimal = Decimal(0)
    cum_value: Decimal = Decimal(0)
    cum_fee: Decimal = Decimal(0)
    created_ns: int = field(default_factory=time.time_ns)
    updated: int = 0

    @property
    def created(self) -> int:
        return self.created_ns // 1_000_000

    def as_detail(self, account_uuid: str) -> dict[str, Any]:
        base, quote = _INSTRUMENTS[self.instrument]
        return {
            "account_id": account_uuid, "order_id": self.order_id, "client_oid": self.client_oid,
            "order_type": self.order_type, "time_in_force": self.time_in_force, "side": self.side,
            "exec_inst": [], "quantity": f"{self.quantity:f}", "limit_price": f"{self.price:f}",
            "order_value": f"{self.quantity * self.price:f}", "maker_fee_rate": "0.000250",
            "taker_fee_rate": "0.000400",
            "avg_price": f"{self.cum_value / self.cum_qty:f}" if self.cum_qty else "0",
            "cumulative_quantity": f"{self.cum_qty:f}", "cumulative_value": f"{self.cum_value:f}",
            "cumulative_fee": f"{self.cum_fee:f}", "status": self.status, "update_user_id": account_uuid,
            "order_date": "2024-01-01", "instrument_name": self.instrument,
            "fee_instrument_name": base if self.side == "BUY" else quote,
            "create_time": self.created, "create_time_ns": str(self.created_ns),
            "update_time": self.updated or self.created,
        }  # fmt: skip


def _digits(value: Any) -> str | None:
    """A JSON long sent as a number or a string of digits, as the server reads it; None otherwise."""
    if type(value) is int and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        return str(int(value))
    return None


class CryptoComSimulator(SimulatorBase):
    """`clock` is the simulated server time in ms: the nonce window is checked against it."""

    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], int] = now_ms) -> None:
        super().__init__(jitter_s=jitter_s)
        self.clock = clock
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._last_ns = 0
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        self._handlers: dict[str, Callable[[_Account, dict[str, Any], Fault | None, str], dict[str, Any]]] = {
            "private/create-order": self._create,
            "private/cancel-order": self._cancel,
            "private/get-order-detail": self._detail,
            "private/get-open-orders": self._open_orders,
            "private/get-order-history": self._order_history,
            "private/get-accounts": self._get_accounts,
        }
        routes = [Route(f"/{method}", self._endpoint, methods=["POST"]) for method in self._handlers]
        routes += [Route("/public/get-instruments", self._instruments, methods=["GET"]), *self.control_routes()]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Crypto.com's shapes: 22-character alphanumeric key and secret (as seen in ccxt's verbose logs).
        api_key = "".join(secrets.choice(_ALNUM) for _ in range(22))
        secret = "".join(secrets.choice(_ALNUM) for _ in range(22))
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, str(uuid.uuid4()), can_trade)
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        return self.place_order(account.api_key, quantity=volume, price=price), {}

    def place_order(
        self,
        api_key: str,
        *,
        instrument: str = "BTC_USDT",
        side: str = "BUY",
        quantity: str = "1",
        price: str = "30000",
    ) -> str:
        qty, limit = _decimal(quantity), _decimal(price)
        if api_key not in self._accounts or instrument not in _INSTRUMENTS or side not in ("BUY", "SELL"):
            raise ValueError("unknown api key, instrument or side")
        if qty is None or limit is None:
            raise ValueError("quantity and price must be positive numbers")
        with self._lock:
            return self._new_order(api_key, instrument, side, "LIMIT", qty, limit, "").order_id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in _LIVE:
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in _LIVE and order.cum_qty:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            order = self._orders[order_id]
            return order.as_detail(self._accounts[order.api_key].uuid)

    def render_venue_error(self, error: str) -> Response:
        code = _SYMBOLIC.get(error) or (int(error) if error.isdigit() else 50001)
        http, message = _CODES.get(code, (500, "ERROR"))
        return JSONResponse({"code": code, "message": message}, status_code=http)

    # -- protocol ----------------------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response:
        method = venue_path(request).lstrip("/")
        raw = await request.body()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else {}
        api_key = body.get("api_key") if isinstance(body.get("api_key"), str) else ""

        def process(fault: Fault | None) -> Response:
            return self._process(method, body if parsed is body else None, raw, api_key, fault)

        return await self.serve_op(request, method, api_key, process)

    def _process(
        self, method: str, body: dict[str, Any] | None, raw: bytes, api_key: str, fault: Fault | None
    ) -> Response:
        params: dict[str, Any] = {}
        with self._lock:
            try:
                if body is None:
                    raise _Refusal(40001)
                account = self._authenticate(method, body)
                params = body.get("params") or {}
                if not isinstance(params, dict):
                    raise _Refusal(40003)
                if method in _TRADE and not account.can_trade:
                    raise _Refusal(40104)
                result, code = self._handlers[method](account, params, fault, str(body.get("nonce"))), 0
            except _Refusal as refusal:
                result, code = None, refusal.code
                self.errors[str(code)] += 1
            self.seen.append(SeenRequest(api_key, method, params, code))
        answer: dict[str, Any] = {"id": (body or {}).get("id", -1), "method": method, "code": code}
        if code == 0:
            answer["result"] = result
            return JSONResponse(answer)
        http, message = _CODES[code]
        answer["message"] = message
        answer["original"] = raw.decode(errors="replace")
        return JSONResponse(answer, status_code=http)

    def _authenticate(self, method: str, body: dict[str, Any]) -> _Account:
        request_id, nonce = _digits(body.get("id")), _digits(body.get("nonce"))
        if request_id is None or body.get("method") != method:
            raise _Refusal(40003)
        account = self._accounts.get(str(body.get("api_key", "")))
        if account is None:
            raise _Refusal(40101)
        if nonce is None or abs(int(nonce) - self.clock()) > NONCE_WINDOW_MS:
            raise _Refusal(40102)
        params = body.get("params") if isinstance(body.get("params"), dict) else {}
        expected = sign(account.secret, method, request_id, account.api_key, params, nonce)
        sig = body.get("sig")
        # The venue's SigningUtil compares with equalsIgnoreCase.
        if not isinstance(sig, str) or not hmac.compare_digest(expected, sig.lower()):
            raise _Refusal(40101)
        return account

    def _new_order(
        self, api_key: str, instrument: str, side: str, kind: str, qty: Decimal, price: Decimal, client_oid: str
    ) -> _Order:
        order_id = str(10**18 + secrets.randbelow(ORDER_ID_MAX - 10**18))  # 19 digits, within int64
        order = _Order(order_id, client_oid or order_id, api_key, instrument, side, kind, qty, price)
        # Distinct creation times, so that paging by create_time_ns (as the docs advise) meets no ties.
        order.created_ns = self._last_ns = max(order.created_ns, self._last_ns + 1)
        self._orders[order_id] = order
        if kind == "MARKET":
            self._fill_locked(order, None)
        return order

    def _create(self, account: _Account, params: dict[str, Any], _fault: Fault | None, nonce: str) -> dict[str, Any]:
        instrument, side, kind = params.get("instrument_name"), params.get("side"), params.get("type")
        if instrument not in _INSTRUMENTS:
            raise _Refusal(209)
        if side not in ("BUY", "SELL"):
            raise _Refusal(220)
        if kind not in ("LIMIT", "MARKET"):
            raise _Refusal(218)
        qty = _decimal(params.get("quantity"))
        if qty is None:
            raise _Refusal(213)
        price = _decimal(params.get("price")) if kind == "LIMIT" else _MARKET_PRICE
        if price is None:
            raise _Refusal(308)
        # Without client_oid, "will be the nonce in the request".
        client_oid = str(params.get("client_oid") or nonce)[:36]
        order = self._new_order(account.api_key, str(instrument), str(side), str(kind), qty, price, client_oid)
        if params.get("time_in_force") in ("IMMEDIATE_OR_CANCEL", "FILL_OR_KILL"):
            order.time_in_force = str(params["time_in_force"])
        return {"order_id": order.order_id, "client_oid": order.client_oid}

    def _find(self, account: _Account, params: dict[str, Any]) -> _Order | None:
        order_id, client_oid = params.get("order_id"), params.get("client_oid")
        if order_id is None and not client_oid:
            raise _Refusal(40004)
        mine = [o for o in self._orders.values() if o.api_key == account.api_key]
        if order_id is not None:  # order_id wins when both are sent
            wanted = _digits(order_id)
            return next((o for o in mine if o.order_id == wanted), None)
        return next((o for o in reversed(mine) if o.client_oid == client_oid), None)

    def _cancel(self, account: _Account, params: dict[str, Any], fault: Fault | None, _nonce: str) -> dict[str, Any]:
        order = self._find(account, params)
        if order is None:
            raise _Refusal(40401)
        if order.status not in _LIVE:
            raise _Refusal(316)
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.order_id)
        else:
            self._cancel_locked(order)
        return {"client_oid": order.client_oid, "order_id": order.order_id}

    def _settle_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status in _LIVE:  # a fill may have won the race meanwhile
                self._cancel_locked(order)

    def _detail(self, account: _Account, params: dict[str, Any], _fault: Fault | None, _nonce: str) -> dict[str, Any]:
        order = self._find(account, params)
        if order is None:
            raise _Refusal(40401)
        return order.as_detail(account.uuid)

    def _open_orders(self, account: _Account, params: dict[str, Any], _f: Fault | None, _n: str) -> dict[str, Any]:
        wanted = params.get("instrument_name")
        live = [
            o.as_detail(account.uuid)
            for o in self._orders.values()
            if o.api_key == account.api_key and o.status in _LIVE and wanted in (None, o.instrument)
        ]
        return {"data": live}

    def _order_history(self, account: _Account, params: dict[str, Any], _f: Fault | None, _n: str) -> dict[str, Any]:
        # Final orders only ("PENDING, ACTIVE can only be found in private/get-open-orders"), the newest `limit`
        # created in [start_time, end_time); times in ms or ns, start_time defaulting to end_time - 1 day.
        wanted = params.get("instrument_name")
        end = _nanos(params.get("end_time"), time.time_ns())
        start = _nanos(params.get("start_time"), end - _DAY_NS)
        limit = params.get("limit", 100)
        if type(limit) is not int or not 0 < limit <= _HISTORY_MAX:
            raise _Refusal(40004)
        final = [
            o for o in self._orders.values()
            if o.api_key == account.api_key and o.status not in _LIVE and wanted in (None, o.instrument)
            and start <= o.created_ns < end
        ]  # fmt: skip
        final.sort(key=lambda o: o.created_ns, reverse=True)
        return {"data": [o.as_detail(account.uuid) for o in final[:limit]]}

    def set_created(self, order_id: str, unix_s: int) -> None:
        """Backdate an order, as if it had been placed at `unix_s`."""
        with self._lock:
            order = self._orders[order_id]
            order.created_ns = unix_s * 1_000_000_000 + order.created_ns % 1_000_000_000

    def _get_accounts(self, account: _Account, _params: dict[str, Any], _f: Fault | None, _n: str) -> dict[str, Any]:
        master = {
            "uuid": account.uuid, "user_uuid": account.uuid, "enabled": True, "tradable": True, "name": "Simulator",
            "country_code": "", "phone_country_code": "", "incorp_country_code": "", "margin_access": "DEFAULT",
            "derivatives_access": "DEFAULT", "create_time": 1656445188000, "update_time": 1660794567262,
            "two_fa_enabled": True, "kyc_level": "ADVANCED", "suspended": False, "terminated": False,
            "spot_enabled": True, "margin_enabled": False, "derivatives_enabled": False,
        }  # fmt: skip
        return {"master_account": master, "sub_account_list": []}

    async def _instruments(self, _request: Request) -> Response:
        data = [
            {"symbol": name, "inst_type": "CCY_PAIR", "display_name": f"{base}/{quote}", "base_ccy": base,
             "quote_ccy": quote, "quote_decimals": 2, "quantity_decimals": 5, "price_tick_size": "0.01",
             "qty_tick_size": "0.00001", "max_leverage": "50", "tradable": True, "expiry_timestamp_ms": 0,
             "beta_product": False, "margin_buy_enabled": False, "margin_sell_enabled": False}
            for name, (base, quote) in _INSTRUMENTS.items()
        ]  # fmt: skip
        return JSONResponse({"id": 1, "method": "public/get-instruments", "code": 0, "result": {"data": data}})

    def _cancel_locked(self, order: _Order) -> None:
        order.status = "CANCELED"
        order.updated = self.clock()

    def _fill_locked(self, order: _Order, qty: Decimal | None) -> None:
        remaining = order.quantity - order.cum_qty
        step = remaining if qty is None or qty >= remaining else qty
        order.cum_qty += step
        order.cum_value += step * order.price
        order.cum_fee += step * Decimal("0.0004") * (1 if order.side == "BUY" else order.price)
        order.status = "FILLED" if order.cum_qty >= order.quantity else "ACTIVE"
        order.updated = self.clock()
