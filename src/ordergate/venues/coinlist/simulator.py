"""A local trade-api.coinlist.co for the REST calls ordergate and ccxt's `coinlist` make.

Protocol as CoinList speaks it (sources in constants.py): CL-ACCESS-KEY / -SIG / -TIMESTAMP checked with the recipe
over the exact path, query and body received (timestamp in seconds, within 30 s), JSON answers, errors as
`{"status", "message", "message_code"}`, orders scoped to the key's trader, order ids that are UUIDs, and
asynchronous acknowledgements: a new order or a cancel is "request received" (HTTP 202). Statuses are CoinList's:
pending, accepted (also while partly filled), done (filled), canceled, rejected. A cancel of an order that is not
this trader's or does not exist is ORDER_REJECT_NOT_FOUND; of a final one ORDER_REJECT_BAD_STATUS; a GET of an order
the trader does not have is a 404 with an empty body, as ccxt documents.

    GET    /v1/time | /v1/symbols | /v1/assets        (public)
    GET    /v1/accounts                              GetAccounts
    POST   /v1/orders                                CreateOrder
    GET    /v1/orders/{order_id}                     GetOrder
    DELETE /v1/orders/{order_id}                     CancelOrder

Control surface (unsigned, for tests and curl) and faults come from `ordergate.venues.simkit`; `venue_error` takes a
symbolic name or a CoinList message code (rendered with its usual status). Wording not recorded by ccxt (the 401,
403 and 429 messages) is the simulator's own.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.coinlist.auth import sign
from ordergate.venues.coinlist.constants import (
    CANCEL_ACK_MESSAGE,
    HEADER_KEY,
    HEADER_SIGN,
    HEADER_TIMESTAMP,
    LIST_MAX_COUNT,
    LIVE_STATUSES,
    STATUS_MAP,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

TIMESTAMP_WINDOW_S = 30
SYMBOLS = {"BTC-USDT": ("0.01", "0.0001"), "ETH-USDT": ("0.01", "0.0001"), "ETH-BTC": ("0.00001", "0.0001")}
# message code → (HTTP status, message). The messages in ccxt's samples are CoinList's; the others are ours.
CODES: dict[str, tuple[int, str]] = {
    "AUTH_SIG_INVALID": (400, "invalid signature"),
    "ORDER_REJECT_NOT_FOUND": (404, "The order to modify or cancel was not found."),
    "ORDER_REJECT_BAD_STATUS": (400, "The order has a status that makes it not cancelable or modifyable."),
    "ORDER_REJECT_FROZEN_ORDER": (400, "This operation is currently not allowed on this order at this time."),
    "DENIED_MAINTENANCE": (503, "The system is under active maintenance."),
    "ORDER_VALIDATE_SYMBOL_NOT_FOUND": (400, "symbol not found"),
    "ORDER_REJECT_PARSE_ERROR": (400, "The request failed to parse."),
}
# Answers that come without a message code.
PLAIN: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "Unauthorized: unknown API key"),
    "forbidden": (403, "Forbidden: this API key may not trade"),
    "rate_limit": (429, "Too Many Requests"),
    "invalid_guid": (400, '"order_id" must be a valid GUID'),  # ccxt's sample, without a message code
    # ccxt's sample (which came with HTTP 401 in its "status" field; 400 here).
    "bad_date": (400, '"end_time" fails to match the JsonSchema date-time format pattern'),
    "bad_query": (400, '"count" must be an integer between 1 and 500, "status" one of the order statuses'),
}
_SYMBOLIC = {"rate_limit": "rate_limit", "auth": "AUTH_SIG_INVALID", "permission": "forbidden",
             "unavailable": "DENIED_MAINTENANCE"}  # fmt: skip
_TRADE_OPS = frozenset({"CreateOrder", "CancelOrder"})


def error(name: str) -> JSONResponse:
    if name in PLAIN:
        status, message = PLAIN[name]
        return JSONResponse({"status": status, "message": message}, status_code=status)
    status, message = CODES.get(name, (400, name))
    return JSONResponse({"status": status, "message": message, "message_code": name}, status_code=status)


class _Refusal(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@dataclass(slots=True)
class _Account:
    api_key: str
    secret_b64: str
    can_trade: bool
    trader_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(slots=True)
class _Order:
    order_id: str
    trader_id: str
    symbol: str
    side: str
    type: str
    size: Decimal
    price: Decimal
    client_id: str | None = None
    status: str = "accepted"
    size_filled: Decimal = Decimal(0)
    fill_value: Decimal = Decimal(0)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_coinlist(self) -> dict[str, Any]:
        average = self.fill_value / self.size_filled if self.size_filled else None
        return {
            "order_id": self.order_id, "client_id": self.client_id, "symbol": self.symbol, "type": self.type,
            "side": self.side, "size": f"{self.size:.4f}", "price": f"{self.price:.8f}", "stop_price": None,
            "cost": f"{self.fill_value:.8f}", "average_fill_price": f"{average:.8f}" if average else None,
            "fill_fees": f"{self.fill_value * Decimal('0.0025'):.8f}", "size_filled": f"{self.size_filled:.4f}",
            "trader_id": self.trader_id, "status": self.status, "created_at": _iso(self.created_at),
            "epoch_timestamp": _iso(self.updated_at), "post_only": False, "self_trade_prevention": None,
            "origin": "api",
        }  # fmt: skip


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _Refusal("bad_date") from None
    if moment.tzinfo is None:
        raise _Refusal("bad_date")
    return _ms(moment)


def _ms(moment: datetime) -> datetime:
    """CoinList's times have millisecond precision; so are orders compared with the bounds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


class CoinlistSimulator(SimulatorBase):
    """`clock` is the simulated server time in seconds: the timestamp window is checked against it."""

    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._clock = clock
        starlette = Starlette(
            routes=[
                Route("/v1/time", self._time, methods=["GET"]),
                Route("/v1/symbols", lambda _r: JSONResponse({"symbols": _symbols()}), methods=["GET"]),
                Route("/v1/assets", lambda _r: JSONResponse({"assets": _assets()}), methods=["GET"]),
                Route("/v1/accounts", self._endpoint("GetAccounts", self._accounts_of), methods=["GET"]),
                Route("/v1/orders", self._endpoint("CreateOrder", self._create), methods=["POST"]),
                Route("/v1/orders", self._endpoint("ListOrders", self._list), methods=["GET"]),
                Route("/v1/orders/{order_id}", self._endpoint("GetOrder", self._get), methods=["GET"]),
                Route("/v1/orders/{order_id}", self._endpoint("CancelOrder", self._cancel), methods=["DELETE"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        account = _Account(str(uuid.uuid4()), base64.b64encode(os.urandom(32)).decode(), can_trade)
        with self._lock:
            self._accounts[account.api_key] = account
        return SimAccount(account.api_key, account.secret_b64)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        size, limit = _decimal(volume), _decimal(price)
        owner = self._accounts.get(account.api_key)
        if owner is None or size is None or limit is None:
            raise ValueError("unknown api key, or invalid volume or price")
        with self._lock:
            order = _Order(str(uuid.uuid4()), owner.trader_id, "BTC-USDT", "buy", "limit", size, limit)
            self._orders[order.order_id] = order
        return order.order_id, {}  # CoinList cancels by id alone

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in LIVE_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES and order.size_filled:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_coinlist()

    def render_venue_error(self, error_name: str) -> Response:
        return error(_SYMBOLIC.get(error_name, error_name))

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.size - order.size_filled
        step = remaining if volume is None or volume >= remaining else volume
        order.size_filled += step
        order.fill_value += step * order.price
        order.updated_at = datetime.now(UTC)
        if order.size_filled >= order.size:
            order.status = "done"

    # -- HTTP ------------------------------------------------------------------------------------------
    async def _time(self, _request: Request) -> Response:
        now = self._clock()
        return JSONResponse({"epoch": round(now, 3), "iso": _iso(datetime.fromtimestamp(now, UTC))})

    def _endpoint(self, op: str, handler: Callable[..., tuple[int, Any]]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get(HEADER_KEY, "")

            async def process(fault: Fault | None) -> Response:
                body = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request, body)
                        if op in _TRADE_OPS and not account.can_trade:
                            raise _Refusal("forbidden")
                        status, answer = handler(account, request, body, fault)
                    except _Refusal as refusal:
                        self.errors[refusal.name] += 1
                        if refusal.name == "empty_404":
                            return Response(b"", status_code=404)
                        return error(refusal.name)
                return JSONResponse(answer, status_code=status)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, body: bytes) -> _Account:
        account = self._accounts.get(request.headers.get(HEADER_KEY, ""))
        if account is None:
            raise _Refusal("unauthorized")
        stamp, signature = request.headers.get(HEADER_TIMESTAMP, ""), request.headers.get(HEADER_SIGN, "")
        if not stamp.isdigit() or abs(int(stamp) - self._clock()) > TIMESTAMP_WINDOW_S:
            raise _Refusal("AUTH_SIG_INVALID")
        query = request.scope.get("query_string", b"").decode()
        target = venue_path(request) + ("?" + query if query else "")
        expected = sign(account.secret_b64, stamp, request.method, target, body)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise _Refusal("AUTH_SIG_INVALID")
        return account

    def _accounts_of(self, account: _Account, _request: Request, _body: bytes, _f: Fault | None) -> tuple[int, Any]:
        return 200, {"accounts": [{"trader_id": account.trader_id, "name": "CoinList Pro trading account"}]}

    def _create(self, account: _Account, _request: Request, body: bytes, _f: Fault | None) -> tuple[int, Any]:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise _Refusal("ORDER_REJECT_PARSE_ERROR") from None
        if not isinstance(params, dict) or params.get("symbol") not in SYMBOLS:
            raise _Refusal("ORDER_VALIDATE_SYMBOL_NOT_FOUND")
        kind, side, size = params.get("type", "limit"), params.get("side"), _decimal(params.get("size"))
        price = _decimal(params.get("price")) if kind == "limit" else Decimal("30000")
        if side not in ("buy", "sell") or kind not in ("limit", "market") or size is None or price is None:
            raise _Refusal("ORDER_REJECT_PARSE_ERROR")
        order = _Order(str(uuid.uuid4()), account.trader_id, params["symbol"], side, kind, size, price)
        order.client_id = params.get("client_id")
        self._orders[order.order_id] = order
        if kind == "market":
            self._fill_locked(order, None)
        answer = {"symbol": order.symbol, "type": kind, "side": side, "size": params["size"],
                  "order_id": order.order_id, "trader_id": account.trader_id}  # fmt: skip
        return 202, {"message": "New order request received.", "order": answer, "timestamp": _iso(order.created_at)}

    def _list(self, account: _Account, request: Request, _body: bytes, _f: Fault | None) -> tuple[int, Any]:
        # ccxt 4.4.88 fetch_orders: symbol, status (one or more), start_time and end_time (ISO 8601), count (default
        # 200, max 500). Newest first; both time bounds inclusive (our choice, see constants.py).
        params = request.query_params
        statuses = {s for v in params.getlist("status") for s in v.split(",")} or set(STATUS_MAP)
        count = params.get("count", "200")
        if not statuses <= set(STATUS_MAP) or not count.isdigit() or not 0 < int(count) <= LIST_MAX_COUNT:
            raise _Refusal("bad_query")
        start, end = _moment(params.get("start_time")), _moment(params.get("end_time"))
        symbol = params.get("symbol")
        rows = [
            o for o in self._orders.values()
            if o.trader_id == account.trader_id and o.status in statuses and symbol in (None, o.symbol)
            and (start is None or _ms(o.created_at) >= start) and (end is None or _ms(o.created_at) <= end)
        ]  # fmt: skip
        rows.sort(key=lambda o: o.created_at, reverse=True)
        return 200, {"orders": [o.as_coinlist() for o in rows[: int(count)]]}

    def set_created(self, order_id: str, unix_s: float) -> None:
        """Backdate an order, as if it had been placed at `unix_s`."""
        with self._lock:
            self._orders[order_id].created_at = datetime.fromtimestamp(unix_s, UTC)

    def _mine(self, account: _Account, order_id: str) -> _Order | None:
        order = self._orders.get(order_id)
        return order if order is not None and order.trader_id == account.trader_id else None

    def _get(self, account: _Account, request: Request, _body: bytes, _f: Fault | None) -> tuple[int, Any]:
        order_id = request.path_params["order_id"]
        if not _is_uuid(order_id):
            raise _Refusal("invalid_guid")
        order = self._mine(account, order_id)
        if order is None:
            raise _Refusal("empty_404")
        return 200, order.as_coinlist()

    def _cancel(self, account: _Account, request: Request, _body: bytes, fault: Fault | None) -> tuple[int, Any]:
        order_id = request.path_params["order_id"]
        if not _is_uuid(order_id):
            raise _Refusal("invalid_guid")
        order = self._mine(account, order_id)
        if order is None:
            raise _Refusal("ORDER_REJECT_NOT_FOUND")
        if order.status not in LIVE_STATUSES:
            raise _Refusal("ORDER_REJECT_BAD_STATUS")
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.order_id)
        else:
            self._cancel_locked(order)
        return 202, {"message": CANCEL_ACK_MESSAGE, "order_id": order.order_id, "timestamp": _iso(datetime.now(UTC))}

    def _cancel_locked(self, order: _Order) -> None:
        order.status, order.updated_at = "canceled", datetime.now(UTC)

    def _settle_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES:
                self._cancel_locked(order)


def _symbols() -> list[dict[str, Any]]:
    return [
        {"symbol": sym, "base_currency": sym.split("-")[0], "quote_currency": sym.split("-")[1],
         "is_trader_geofenced": False, "list_time": "2021-06-15T00:00:00.000Z", "type": "spot",
         "series_code": f"{sym}-SPOT", "long_name": sym.split("-")[0], "asset_class": "CRYPTO",
         "minimum_price_increment": tick, "minimum_size_increment": step, "index_code": None,
         "price_band_threshold_market": "0.05", "price_band_threshold_limit": "0.25", "last_price": None,
         "fair_price": None, "index_price": None}
        for sym, (tick, step) in SYMBOLS.items()
    ]  # fmt: skip


def _assets() -> list[dict[str, Any]]:
    return [
        {"asset": code, "index_code": f".{code}USD", "decimal_places": places, "min_withdrawal": "1.0000",
         "is_transferable": True, "is_visible": True}
        for code, places in (("BTC", 8), ("ETH", 18), ("USDT", 6), ("USD", 2))
    ]  # fmt: skip
