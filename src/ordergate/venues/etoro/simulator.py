"""A local eToro Public API for the calls ordergate and etoropy make.

Every request must carry `x-api-key`, `x-user-key` and an `x-request-id` UUID. A user key belongs to one environment
(demo or real, as eToro issues them): paths of the other environment answer 401. A key created with Read permission
only answers 403 on execution writes.

    GET    /api/v1/trading/info/demo/portfolio | /api/v1/trading/info/portfolio          clientPortfolio
    GET    /api/v1/trading/info/{demo,real}/orders/{orderId}                              OrderForOpenInfoResponse
    DELETE /api/v2/trading/execution[/demo]/orders/{orderId}                              200 {"token"}
    POST   /api/v1/trading/execution[/demo]/limit-orders                                  200 {"token"}
    DELETE /api/v1/trading/execution[/demo]/limit-orders/{orderId}                        200 {"token"}
    POST   /api/v1/trading/execution[/demo]/market-open-orders/by-amount                  {"orderForOpen", "token"}
    DELETE /api/v1/trading/execution[/demo]/market-open-orders/{orderId}                  200 {"token"}

Cancels are eToro's: a pending order is cancelled and a token returned; an order already closed or cancelled gets the
same 200 ("idempotent"); an order this user does not have is a 404 ProblemDetails. Market-open orders stay pending
here, as they do at eToro while the market is closed. Writes share one quota of 20 per 60 s per user key (429 with
Retry-After and RateLimit-* headers); a write whose x-request-id was already used answers what the first one did,
since eToro keys idempotency on it.

Control surface: simkit's `/_control/…` routes. Operations: "portfolio", "info", "cancel" (v2), "cancel_v1",
"place"; `venue_error` takes a symbolic name or "<http status>:<detail>".
"""

from __future__ import annotations

import asyncio
import hmac
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
from ordergate.venues.etoro.constants import OPEN_STATUS_IDS, STATUS_MAP, WRITE_LIMIT
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, positive_decimal

SYMBOLIC_RETRY_AFTER_S = 42  # the symbolic rate_limit answer's Retry-After
_WINDOW_S = 60
_PENDING, _EXECUTED, _CANCELLED, _PARTIAL = 0, 1, 2, 4
_MARKET, _LIMIT = 1, 2  # orderType, as eToro's order-info schema numbers them
# eToro documents no lockout and no regional block for these endpoints; both are the 403 any refusal is.
_SYMBOLIC: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "Too Many Requests", "The shared rate limit (20 requests / 60s) was exceeded."),
    "ban": (403, "Forbidden", "The account is blocked."),
    "auth": (401, "Unauthorized", "Invalid or missing authentication."),
    "permission": (403, "Forbidden", "The user key has no write permission."),
    "unavailable": (500, "Internal Server Error", "An unexpected error occurred."),
    "restricted": (403, "Forbidden", "The account is restricted."),
}


class _Refusal(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers or {}


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """RFC 7807 ProblemDetails, eToro's error body."""
    body = {
        "type": f"https://tools.ietf.org/html/rfc9110#section-15.{5 if status < 500 else 6}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": None,
    }
    return JSONResponse(body, status, headers, media_type="application/problem+json")


@dataclass(slots=True)
class _Account:
    app_key: str
    user_key: str
    environment: str
    cid: int
    can_write: bool = True
    window_end: float = 0.0
    used: int = 0
    replies: dict[str, tuple[int, Any]] = field(default_factory=dict)  # x-request-id → the write's answer


@dataclass(slots=True)
class _Position:
    position_id: int
    units: Decimal
    rate: Decimal
    occurred: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(slots=True)
class _Order:
    id: int
    app_key: str
    kind: int  # _MARKET (market-open, pending) or _LIMIT (market-if-touched)
    instrument_id: int
    is_buy: bool
    leverage: int
    units: Decimal
    rate: Decimal
    reference_id: str
    status: int = _PENDING
    positions: list[_Position] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def filled(self) -> Decimal:
        return sum((p.units for p in self.positions), Decimal(0))

    def info(self, cid: int) -> dict[str, Any]:
        return {
            "token": str(uuid.uuid4()),
            "orderID": self.id,
            "CID": cid,
            "referenceID": self.reference_id,
            "statusID": self.status,
            "orderType": self.kind,
            "openActionType": 0,
            "errorCode": None,
            "errorMessage": None,
            "instrumentID": self.instrument_id,
            "amount": float(self.units * self.rate),
            "units": float(self.units),
            "requestOccurred": _iso(self.created),
            "positions": [
                {
                    "positionID": p.position_id,
                    "orderType": self.kind,
                    "occurred": _iso(p.occurred),
                    "rate": float(p.rate),
                    "units": float(p.units),
                    "conversionRate": 1.0,
                    "amount": float(p.units * p.rate),
                    "isOpen": True,
                }
                for p in self.positions
            ],
        }

    def pending(self, cid: int) -> dict[str, Any]:
        return {
            "orderID": self.id,
            "CID": cid,
            "openDateTime": _iso(self.created),
            "instrumentID": self.instrument_id,
            "isBuy": self.is_buy,
            "takeProfitRate": 0.0,
            "stopLossRate": 0.0,
            "rate": float(self.rate),
            "amount": float(self.units * self.rate),
            "leverage": self.leverage,
            "units": float(self.units),
            "isTslEnabled": False,
            "executionType": 0,
        }


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EtoroSimulator(SimulatorBase):
    def __init__(self, *, write_limit: int = WRITE_LIMIT) -> None:
        super().__init__()
        self.write_limit = write_limit
        self._accounts: dict[str, _Account] = {}  # by application key
        self._orders: dict[int, _Order] = {}
        self._next_id = 13_900_000 + secrets.randbelow(10**6)
        route = self._route
        routes: list[Route] = []
        for env, segment in (("demo", "/demo"), ("real", "")):
            execution = f"/api/v1/trading/execution{segment}"
            routes += [
                Route(f"/api/v2/trading/execution{segment}/orders/{{order_id}}", route("cancel", env, self._cancel),
                      methods=["DELETE"]),
                Route(f"/api/v1/trading/info/{env}/orders/{{order_id}}", route("info", env, self._info),
                      methods=["GET"]),
                Route(f"{execution}/limit-orders", route("place", env, self._place_limit), methods=["POST"]),
                Route(f"{execution}/limit-orders/{{order_id}}", route("cancel_v1", env, self._cancel_limit),
                      methods=["DELETE"]),
                Route(f"{execution}/market-open-orders/by-amount", route("place", env, self._place_market),
                      methods=["POST"]),
                Route(f"{execution}/market-open-orders/{{order_id}}", route("cancel_v1", env, self._cancel_market),
                      methods=["DELETE"]),
            ]  # fmt: skip
        routes += [
            Route("/api/v1/trading/info/demo/portfolio", route("portfolio", "demo", self._portfolio), methods=["GET"]),
            Route("/api/v1/trading/info/portfolio", route("portfolio", "real", self._portfolio), methods=["GET"]),
            *self.control_routes(),
        ]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True, environment: str = "demo") -> SimAccount:
        # eToro's shapes: a long application key and a longer base64url user key.
        app_key = secrets.token_urlsafe(40)
        user_key = secrets.token_urlsafe(160)
        with self._lock:
            cid = 10_000_000 + secrets.randbelow(10**7)
            self._accounts[app_key] = _Account(app_key, user_key, environment, cid, can_trade)
        return SimAccount(app_key, user_key, environment, {"environment": environment})

    def wrong_environment(self, account: SimAccount) -> SimAccount:
        other = "real" if account.passphrase == "demo" else "demo"
        return SimAccount(account.api_key, account.secret, other, {"environment": other})

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        units, rate = positive_decimal(volume), positive_decimal(price)
        if units is None or rate is None:
            raise ValueError("volume and price must be positive numbers")
        with self._lock:
            order = self._new_order(self._accounts[account.api_key], _LIMIT, 1001, True, 1, units, rate)
        return str(order.id), {"isCryptocurrency": False}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status not in OPEN_STATUS_IDS:
                raise ValueError(f"order {order_id} is not pending")
            remaining = order.units - order.filled
            step = positive_decimal(volume) if volume is not None else remaining
            step = remaining if step is None or step >= remaining else step
            order.positions.append(_Position(self._take_id(), step, order.rate))
            order.status = _EXECUTED if order.filled >= order.units else _PARTIAL

    def age(self, order_id: str, seconds: float) -> None:
        """Move an order's creation `seconds` into the past."""
        with self._lock:
            order = self._orders[int(order_id)]
            order.created -= timedelta(seconds=seconds)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            return STATUS_MAP[self._orders[int(order_id)].status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            order = self._orders[int(order_id)]
            return order.info(self._owner(order).cid)

    def render_venue_error(self, error: str) -> Response:
        if error in _SYMBOLIC:
            status, title, detail = _SYMBOLIC[error]
        else:
            code, _, detail = error.partition(":")
            status = int(code) if code.isdigit() else 400
            title, detail = "Error", detail or error
        headers: dict[str, str] = {}
        if status == 429:
            headers = {
                "Retry-After": str(SYMBOLIC_RETRY_AFTER_S),
                "RateLimit-Limit": str(self.write_limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(SYMBOLIC_RETRY_AFTER_S),
                "RateLimit-Policy": f"{self.write_limit};w={_WINDOW_S}",
            }
        return problem(status, title, detail, headers)

    # -- the HTTP API ----------------------------------------------------------------------------------
    def _route(
        self, op: str, env: str, handler: Callable[[_Account, Request, dict[str, Any], Fault | None], Any]
    ) -> Any:
        write = op in ("cancel", "cancel_v1", "place")

        async def endpoint(request: Request) -> Response:
            app_key = request.headers.get("x-api-key", "")
            body: Any = {}
            if request.method == "POST":
                try:
                    body = await request.json()
                except ValueError:
                    body = None

            async def process(fault: Fault | None) -> Response:
                try:
                    with self._lock:
                        account = self._authenticate(request, env)
                        request_id = request.headers["x-request-id"]
                        if write and request_id in account.replies:
                            status, payload = account.replies[request_id]
                            return JSONResponse(payload, status)
                        headers = self._count(account) if write else {}
                        if write and not account.can_write:
                            raise _Refusal(403, "Forbidden", "The user key has no write permission.")
                        if not isinstance(body, dict):
                            raise _Refusal(400, "Bad Request", "The request body is not a JSON object.")
                        result = handler(account, request, body, fault)
                        if write:
                            account.replies[request_id] = (200, result)
                except _Refusal as refusal:
                    self.errors[str(refusal.status)] += 1
                    return problem(refusal.status, refusal.title, refusal.detail, refusal.headers)
                return JSONResponse(result, headers=headers)

            return await self.serve_op(request, op, app_key, process)

        return endpoint

    def _authenticate(self, request: Request, env: str) -> _Account:
        request_id = request.headers.get("x-request-id", "")
        try:
            uuid.UUID(request_id)
        except ValueError:
            raise _Refusal(400, "Bad Request", "The x-request-id header must be a UUID.") from None
        account = self._accounts.get(request.headers.get("x-api-key", ""))
        user_key = request.headers.get("x-user-key", "")
        if account is None or not hmac.compare_digest(user_key.encode(), account.user_key.encode()):
            raise _Refusal(401, "Unauthorized", "Invalid or missing authentication.")
        if account.environment != env:
            raise _Refusal(401, "Unauthorized", f"The user key is not valid for the {env} environment.")
        return account

    def _count(self, account: _Account) -> dict[str, str]:
        """One fixed 60 s window per user key for every execution write, as eToro's shared quota."""
        now = time.monotonic()
        if now >= account.window_end:
            account.window_end, account.used = now + _WINDOW_S, 0
        account.used += 1
        reset = str(max(1, round(account.window_end - now)))
        headers = {
            "RateLimit-Limit": str(self.write_limit),
            "RateLimit-Remaining": str(max(0, self.write_limit - account.used)),
            "RateLimit-Reset": reset,
            "RateLimit-Policy": f"{self.write_limit};w={_WINDOW_S}",
        }
        if account.used > self.write_limit:
            raise _Refusal(
                429, "Too Many Requests", "The shared rate limit was exceeded.", {**headers, "Retry-After": reset}
            )
        return headers

    def _portfolio(self, account: _Account, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        mine = [o for o in self._orders.values() if o.app_key == account.app_key]
        positions = [
            {
                "positionID": p.position_id,
                "CID": account.cid,
                "openDateTime": _iso(p.occurred),
                "openRate": float(p.rate),
                "instrumentID": o.instrument_id,
                "isBuy": o.is_buy,
                "leverage": o.leverage,
                "takeProfitRate": 0.0,
                "stopLossRate": 0.0,
                "amount": float(p.units * p.rate),
                "orderID": o.id,
                "orderType": o.kind,
                "units": float(p.units),
            }
            for o in mine
            for p in o.positions
        ]
        pending = [o for o in mine if o.status in OPEN_STATUS_IDS]
        return {
            "clientPortfolio": {
                "positions": positions,
                "credit": 100000.0,
                "mirrors": [],
                "orders": [o.pending(account.cid) for o in pending if o.kind == _LIMIT],
                "ordersForOpen": [o.pending(account.cid) for o in pending if o.kind == _MARKET],
                "ordersForClose": [],
                "ordersForCloseMultiple": [],
                "bonusCredit": 0.0,
            }
        }

    def _info(self, account: _Account, request: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        return self._mine(account, request).info(account.cid)

    def _cancel(self, account: _Account, request: Request, _b: dict[str, Any], fault: Fault | None) -> Any:
        return self._cancel_order(self._mine(account, request), fault)

    def _cancel_limit(self, account: _Account, request: Request, _b: dict[str, Any], fault: Fault | None) -> Any:
        return self._cancel_order(self._mine(account, request, _LIMIT), fault)

    def _cancel_market(self, account: _Account, request: Request, _b: dict[str, Any], fault: Fault | None) -> Any:
        return self._cancel_order(self._mine(account, request, _MARKET), fault)

    def _cancel_order(self, order: _Order, fault: Fault | None) -> Any:
        # Closed and cancelled orders get the same 200: eToro documents the cancel as idempotent for them.
        if order.status in OPEN_STATUS_IDS:
            if fault is not None and fault.kind == "pending":
                asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.id)
            else:
                order.status = _CANCELLED
        return {"token": str(uuid.uuid4())}

    def _settle_cancel(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status in OPEN_STATUS_IDS:
                order.status = _CANCELLED

    def _place_limit(self, account: _Account, request: Request, body: dict[str, Any], _f: Fault | None) -> Any:
        rate = positive_decimal(body.get("Rate"))
        units = positive_decimal(body.get("AmountInUnits"))
        amount = positive_decimal(body.get("Amount"))
        if rate is None or (units is None) == (amount is None):
            raise _Refusal(400, "Bad Request", "Rate and exactly one of Amount or AmountInUnits are required.")
        units = units if units is not None else (amount or Decimal(0)) / rate
        order = self._order_from(account, request, body, _LIMIT, units, rate)
        return {"token": order.reference_id}

    def _place_market(self, account: _Account, request: Request, body: dict[str, Any], _f: Fault | None) -> Any:
        amount = positive_decimal(body.get("Amount"))
        if amount is None:
            raise _Refusal(400, "Bad Request", "Amount must be a positive number.")
        rate = Decimal(100)  # the simulator's one price; the order stays pending, as while the market is closed
        order = self._order_from(account, request, body, _MARKET, amount / rate, rate)
        return {
            "orderForOpen": {
                "instrumentID": order.instrument_id,
                "amount": float(amount),
                "isBuy": order.is_buy,
                "leverage": order.leverage,
                "stopLossRate": float(body.get("StopLossRate") or 0),
                "takeProfitRate": float(body.get("TakeProfitRate") or 0),
                "isTslEnabled": bool(body.get("IsTslEnabled") or False),
                "mirrorID": 0,
                "totalExternalCosts": 0.0,
                "orderID": order.id,
                "orderType": order.kind,
                "statusID": order.status,
                "CID": account.cid,
                "openDateTime": _iso(order.created),
                "lastUpdate": _iso(order.created),
            },
            "token": order.reference_id,
        }

    def _order_from(
        self, account: _Account, request: Request, body: dict[str, Any], kind: int, units: Decimal, rate: Decimal
    ) -> _Order:
        instrument, leverage, is_buy = body.get("InstrumentID"), body.get("Leverage"), body.get("IsBuy")
        if not isinstance(instrument, int) or not isinstance(leverage, int) or not isinstance(is_buy, bool):
            raise _Refusal(400, "Bad Request", "InstrumentID, IsBuy and Leverage are required.")
        return self._new_order(
            account, kind, instrument, is_buy, leverage, units, rate, request.headers["x-request-id"]
        )

    def _new_order(
        self,
        account: _Account,
        kind: int,
        instrument: int,
        is_buy: bool,
        leverage: int,
        units: Decimal,
        rate: Decimal,
        reference_id: str | None = None,
    ) -> _Order:
        order = _Order(
            self._take_id(), account.app_key, kind, instrument, is_buy, leverage, units, rate,
            reference_id or str(uuid.uuid4()),
        )  # fmt: skip
        self._orders[order.id] = order
        return order

    def _take_id(self) -> int:
        self._next_id += 1 + secrets.randbelow(7)
        return self._next_id

    def _mine(self, account: _Account, request: Request, kind: int | None = None) -> _Order:
        raw = request.path_params["order_id"]
        order = self._orders.get(int(raw)) if raw.isdigit() and len(raw) <= 19 else None
        if order is None or order.app_key != account.app_key or (kind is not None and order.kind != kind):
            raise _Refusal(404, "Not Found", f"Order {raw[:40]} was not found.")
        return order

    def _owner(self, order: _Order) -> _Account:
        return self._accounts[order.app_key]
