"""A local Public.com Trading API for the calls ordergate and publicdotcom-py make.

    POST   /userapiauthservice/personal/access-tokens   {"secret", "validityInMinutes"} → {"accessToken"} (a JWT)
    GET    /userapigateway/trading/account              {"accounts": [{accountId, accountType, …}]}
    POST   /userapigateway/trading/{accountId}/order    ApiOrderRequest (client-chosen UUID orderId) → {"orderId"}
    GET    /userapigateway/trading/{accountId}/order/{orderId}   GatewayOrder; 404 when unknown
    DELETE /userapigateway/trading/{accountId}/order/{orderId}   200, empty body: cancel submitted

Every gateway call needs `Authorization: Bearer <accessToken>`; tokens expire after their validity, are signed by
the simulator (HS256) and name the user. The token service answers Public's documented bodies
(`user_api_auth.personal.invalid_secret`); bodies the spec does not show (gateway 401/403/404, a refused cancel)
use the same `{"errorCode", "message"}` shape. A cancel settles at once (CANCELLED), or with simkit's `pending`
fault only after `seconds` (PENDING_CANCEL meanwhile). A DELETE of an order that can no longer be cancelled
(PENDING_CANCEL included) answers 400.

Requests are counted under the account number of the user's first account; the token exchange, which names no
account, under `token:<that number>`, so a test can tell exchanges from order calls.

Control surface: simkit's `/_control/…` routes. Operations: "token", "accounts", "place", "get", "cancel";
`venue_error` takes a symbolic name or `<status>:<errorCode>`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
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
from ordergate.venues.public.constants import LIVE_STATUSES, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, positive_decimal

SYMBOLIC_RETRY_AFTER_S = 30  # what the simulator's 429 says in Retry-After
_SYMBOLIC: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "user_api_gateway.too_many_requests", "Too many requests"),
    "ban": (403, "user_api_gateway.forbidden", "Account is blocked"),
    "auth": (401, "user_api_gateway.unauthorized", "Unauthorized"),
    "permission": (403, "user_api_gateway.forbidden", "Forbidden"),
    "unavailable": (503, "user_api_gateway.unavailable", "Service unavailable"),
    "restricted": (403, "user_api_gateway.forbidden", "Account is restricted"),
}
_CANCELABLE = LIVE_STATUSES - {"PENDING_CANCEL"}


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(slots=True)
class _User:
    secret: str
    accounts: list[str]
    can_trade: bool = True
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(slots=True)
class _Order:
    account_id: str
    id: str
    symbol: str
    kind: str
    side: str
    qty: Decimal
    limit_price: Decimal | None
    time_in_force: str
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "NEW"
    filled: Decimal = Decimal(0)
    average: Decimal | None = None
    closed_at: datetime | None = None

    def move(self, status: str) -> None:
        self.status = status
        if status not in LIVE_STATUSES:
            self.closed_at = datetime.now(UTC)

    def as_public(self) -> dict[str, Any]:
        def iso(when: datetime | None) -> str | None:
            return when.isoformat(timespec="milliseconds").replace("+00:00", "Z") if when else None

        body: dict[str, Any] = {
            "orderId": self.id,
            "instrument": {"symbol": self.symbol, "type": "EQUITY"},
            "createdAt": iso(self.created_at),
            "type": self.kind,
            "side": self.side,
            "status": self.status,
            "quantity": _text(self.qty),
            "expiration": {"timeInForce": self.time_in_force},
            "closedAt": iso(self.closed_at),
            "openCloseIndicator": None,
            "legs": None,
            "rejectReason": None,
        }
        if self.limit_price is not None:
            body["limitPrice"] = _text(self.limit_price)
        if self.filled:
            body["filledQuantity"], body["averagePrice"] = _text(self.filled), _text(self.average)
        return body


def _text(number: Decimal | None) -> str | None:
    return None if number is None else f"{number.normalize():f}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PublicSimulator(SimulatorBase):
    def __init__(self, *, market_price: str = "100") -> None:
        super().__init__()
        self.market_price = Decimal(market_price)
        self._signing_key = secrets.token_bytes(32)
        self._users: dict[str, _User] = {}  # user id → user
        self._by_secret: dict[str, str] = {}
        self._owner: dict[str, str] = {}  # account id → user id
        self._orders: dict[str, _Order] = {}
        self.tokens_issued = 0
        route = self._route
        starlette = Starlette(
            routes=[
                Route("/userapiauthservice/personal/access-tokens", self._token, methods=["POST"]),
                Route("/userapigateway/trading/account", route("accounts", self._accounts), methods=["GET"]),
                Route("/userapigateway/trading/{account_id}/order", route("place", self._place), methods=["POST"]),
                Route(
                    "/userapigateway/trading/{account_id}/portfolio/v2",
                    route("portfolio", self._portfolio),
                    methods=["GET"],
                ),
                Route(
                    "/userapigateway/trading/{account_id}/order/{order_id}", route("get", self._get), methods=["GET"]
                ),
                Route(
                    "/userapigateway/trading/{account_id}/order/{order_id}",
                    route("cancel", self._cancel),
                    methods=["DELETE"],
                ),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view ---------------------------------------------------------------------
    def new_account(self, *, can_trade: bool = True, accounts: int = 1) -> SimAccount:
        """A Public user with its API secret and `accounts` brokerage accounts; the SimAccount is the first."""
        secret = secrets.token_urlsafe(32)
        numbers = [
            f"5{secrets.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{secrets.randbelow(10**7):07d}" for _ in range(accounts)
        ]
        with self._lock:
            user = _User(secret, numbers, can_trade)
            self._users[user.id], self._by_secret[secret] = user, user.id
            for number in numbers:
                self._owner[number] = user.id
        return SimAccount(numbers[0], secret, extras={"accountId": numbers[0]})

    def accounts_of(self, account: SimAccount) -> list[str]:
        with self._lock:
            return list(self._users[self._owner[account.api_key]].accounts)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        body = {
            "orderId": str(uuid.uuid4()),
            "instrument": {"symbol": "AAPL", "type": "EQUITY"},
            "orderSide": "BUY",
            "orderType": "LIMIT",
            "expiration": {"timeInForce": "DAY"},
            "quantity": volume,
            "limitPrice": price,
        }
        with self._lock:
            order = self._new_order(account.api_key, body)
        return order.id, {"isCryptocurrency": False}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in _CANCELABLE:
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill(order, positive_decimal(volume) if volume is not None else None)

    def set_status(self, order_id: str, status: str) -> None:
        if status not in STATUS_MAP:
            raise ValueError(f"not a Public order status: {status}")
        with self._lock:
            self._orders[order_id].move(status)

    def backdate(self, order_id: str, seconds: float) -> None:
        with self._lock:
            self._orders[order_id].created_at -= timedelta(seconds=seconds)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES and order.filled > 0:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_public()

    def render_venue_error(self, error: str) -> Response:
        if error in _SYMBOLIC:
            status, code, message = _SYMBOLIC[error]
        else:
            status_text, _, code = error.partition(":")
            status = int(status_text) if status_text.isdigit() else 400
            code, message = code or "user_api_gateway.error", error
        headers = {"Retry-After": str(SYMBOLIC_RETRY_AFTER_S)} if status == 429 else {}
        return JSONResponse({"errorCode": code, "message": message}, status, headers)

    # -- the token service -----------------------------------------------------------------------------
    async def _token(self, request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        secret = body.get("secret") if isinstance(body, dict) else None
        validity = body.get("validityInMinutes", 15) if isinstance(body, dict) else None
        with self._lock:
            user = self._users.get(self._by_secret.get(secret, "")) if isinstance(secret, str) else None
        count_as = f"token:{user.accounts[0]}" if user else "token:"

        async def process(_fault: Fault | None) -> Response:
            if not isinstance(secret, str) or len(secret) < 5 or validity is None:
                return JSONResponse({"errorCode": "user_api_auth.validation", "message": "Invalid request"}, 400)
            if not isinstance(validity, int) or isinstance(validity, bool) or not 5 <= validity <= 1440:
                return JSONResponse({"errorCode": "user_api_auth.validation", "message": "Invalid validity"}, 400)
            if user is None:
                self.errors["invalid_secret"] += 1
                message = {"errorCode": "user_api_auth.personal.invalid_secret", "message": "Invalid secret"}
                return JSONResponse(message, 401)
            with self._lock:
                self.tokens_issued += 1
            return JSONResponse({"accessToken": self._jwt(user, validity * 60)})

        return await self.serve_op(request, "token", count_as, process)

    def _jwt(self, user: _User, lifetime_s: int) -> str:
        now = int(time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {"sub": user.id, "iat": now, "exp": now + lifetime_s, "jti": secrets.token_hex(8)}
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        return f"{header}.{payload}.{_b64(signature)}"

    def _bearer_user(self, request: Request) -> _User | None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        parts = token.split(".")
        if scheme.lower() != "bearer" or len(parts) != 3:
            return None
        expected = hmac.new(self._signing_key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_b64(expected), parts[2]):
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return None
        if not isinstance(claims, dict) or int(claims.get("exp", 0)) <= time.time():
            return None
        with self._lock:
            return self._users.get(str(claims.get("sub")))

    def revoke(self, account: SimAccount) -> None:
        """Every access token issued so far stops working (the user rotated the signing of their session)."""
        with self._lock:
            user = self._users[self._owner[account.api_key]]
            old_id, user.id = user.id, str(uuid.uuid4())
            del self._users[old_id]
            self._users[user.id] = user
            self._by_secret[user.secret] = user.id
            for number in user.accounts:
                self._owner[number] = user.id

    # -- the gateway -----------------------------------------------------------------------------------
    def _route(self, op: str, handler: Callable[[_User, Request, dict[str, Any], Fault | None], Any]) -> Any:
        async def endpoint(request: Request) -> Response:
            user = self._bearer_user(request)
            count_as = user.accounts[0] if user else ""

            async def process(fault: Fault | None) -> Response:
                try:
                    if user is None:
                        raise _Refusal(401, "user_api_gateway.unauthorized", "Unauthorized")
                    body = await request.json() if request.method == "POST" else {}
                    with self._lock:
                        result = handler(user, request, body if isinstance(body, dict) else {}, fault)
                except _Refusal as refusal:
                    self.errors[refusal.code] += 1
                    return JSONResponse({"errorCode": refusal.code, "message": refusal.message}, refusal.status)
                except ValueError:
                    return JSONResponse({"errorCode": "user_api_gateway.validation", "message": "Bad JSON"}, 400)
                return Response(status_code=200) if result is None else JSONResponse(result)

            return await self.serve_op(request, op, count_as, process)

        return endpoint

    def _account(self, user: _User, request: Request) -> str:
        account_id = request.path_params["account_id"]
        if account_id not in user.accounts:
            raise _Refusal(404, "user_api_gateway.account_not_found", "Account not found")
        return account_id

    def _accounts(self, user: _User, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        return {
            "accounts": [
                {
                    "accountId": number,
                    "accountType": "BROKERAGE",
                    "optionsLevel": "NONE",
                    "brokerageAccountType": "CASH",
                    "tradePermissions": "BUY_AND_SELL" if user.can_trade else "RESTRICTED_NO_TRADING",
                }
                for number in user.accounts
            ]
        }

    def _place(self, user: _User, request: Request, body: dict[str, Any], _f: Fault | None) -> Any:
        account_id = self._account(user, request)
        if not user.can_trade:
            raise _Refusal(403, "user_api_gateway.forbidden", "Forbidden")
        existing = self._orders.get(str(body.get("orderId")))
        if existing is not None and existing.account_id == account_id:
            return {"orderId": existing.id}  # the orderId is the deduplication key
        return {"orderId": self._new_order(account_id, body).id}

    def _portfolio(self, user: _User, request: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        """The portfolio snapshot: its `orders` are the account's open orders (publicdotcom-py get_portfolio:
        "positions, equity breakdown, buying power, and open orders"); closed orders appear nowhere as orders."""
        account_id = self._account(user, request)
        mine = [o for o in self._orders.values() if o.account_id == account_id and o.status in LIVE_STATUSES]
        return {
            "accountId": account_id,
            "accountType": "BROKERAGE",
            "buyingPower": {"cashOnlyBuyingPower": "1000", "buyingPower": "1000", "optionsBuyingPower": "1000"},
            "equity": [{"type": "CASH", "value": "1000", "percentageOfPortfolio": "100"}],
            "positions": [],
            "orders": [o.as_public() for o in mine],
        }

    def _get(self, user: _User, request: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        return self._mine(user, request).as_public()

    def _cancel(self, user: _User, request: Request, _b: dict[str, Any], fault: Fault | None) -> Any:
        order = self._mine(user, request)
        if not user.can_trade:
            raise _Refusal(403, "user_api_gateway.forbidden", "Forbidden")
        if order.status not in _CANCELABLE:
            raise _Refusal(400, "user_api_gateway.order_not_cancellable", f"Order is {order.status}")
        if fault is not None and fault.kind == "pending":
            order.move("PENDING_CANCEL")
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        else:
            order.move("CANCELLED")
        return None

    def _settle(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status == "PENDING_CANCEL":
                order.move("CANCELLED")

    def _mine(self, user: _User, request: Request) -> _Order:
        account_id = self._account(user, request)
        try:
            order_id = str(uuid.UUID(request.path_params["order_id"]))
        except ValueError:
            raise _Refusal(400, "user_api_gateway.validation", "orderId must be a UUID") from None
        order = self._orders.get(order_id)
        if order is None or order.account_id != account_id:
            raise _Refusal(404, "user_api_gateway.order_not_found", "Order not found")
        return order

    def _new_order(self, account_id: str, body: dict[str, Any]) -> _Order:
        instrument = body.get("instrument") if isinstance(body.get("instrument"), dict) else {}
        expiration = body.get("expiration") if isinstance(body.get("expiration"), dict) else {}
        kind, side = str(body.get("orderType", "")), str(body.get("orderSide", ""))
        qty, limit = positive_decimal(body.get("quantity")), positive_decimal(body.get("limitPrice"))
        try:
            order_id = str(uuid.UUID(str(body.get("orderId"))))
        except ValueError:
            raise _Refusal(400, "user_api_gateway.validation", "orderId must be a UUID") from None
        if not instrument.get("symbol") or side not in ("BUY", "SELL") or kind not in ("MARKET", "LIMIT"):
            raise _Refusal(400, "user_api_gateway.validation", "Order validation failed")
        if qty is None or (kind == "LIMIT" and limit is None):
            raise _Refusal(400, "user_api_gateway.validation", "quantity and limitPrice are required")
        tif = str(expiration.get("timeInForce") or "DAY")
        order = _Order(account_id, order_id, str(instrument["symbol"]), kind, side, qty, limit, tif)
        # createdAt has millisecond precision: orders placed within one millisecond get the next ones, so that
        # every order's place in time is its own (the listing pages by it).
        latest = max((o.created_at for o in self._orders.values()), default=None)
        if latest is not None and order.created_at <= latest + timedelta(microseconds=999):
            order.created_at = latest + timedelta(milliseconds=1)
        self._orders[order.id] = order
        if kind == "MARKET":
            self._fill(order, None)
        return order

    def _fill(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.qty - order.filled
        step = remaining if volume is None or volume >= remaining else volume
        price = order.limit_price or self.market_price
        total = order.filled + step
        order.average = ((order.average or Decimal(0)) * order.filled + price * step) / total
        order.filled = total
        order.move("FILLED" if total >= order.qty else "PARTIALLY_FILLED")
