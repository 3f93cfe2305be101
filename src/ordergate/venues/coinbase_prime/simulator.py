"""A local api.prime.coinbase.com for the REST calls ordergate and Coinbase's prime-sdk-py make.

Protocol as Prime documents it: `X-CB-ACCESS-KEY/-PASSPHRASE/-SIGNATURE/-TIMESTAMP` checked with the recipe (raw
secret bytes, integer timestamp within 30 s, path without query, exact body received); keys that read one portfolio
or several; orders live in a portfolio; a key without trading rights is refused with 403; a filled or otherwise
final order cannot be cancelled (400); an order the portfolio does not have is 404. Prime publishes no error message
catalogue: the bodies here carry a `message` in Prime's field, with wording of our own (the status is what counts).

    GET  /v1/portfolios                                      GetPortfolios
    POST /v1/portfolios/{pid}/order                          CreateOrder
    GET  /v1/portfolios/{pid}/orders/{oid}                   GetOrder
    POST /v1/portfolios/{pid}/orders/{oid}/cancel            CancelOrder
    GET  /v1/portfolios/{pid}/open_orders                    ListOpenOrders  ?limit&cursor&start_date&sort_direction
    GET  /v1/portfolios/{pid}/orders                         ListOrders      + order_statuses (repeated)

Control surface (unsigned) and faults come from `ordergate.venues.simkit`; `venue_error` takes a symbolic name or
`"<status>:<message>"`.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.coinbase_prime.auth import sign
from ordergate.venues.coinbase_prime.constants import LIST_MAX_LIMIT, LIVE_STATUSES, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort
from ordergate.venues.simkit import positive_decimal as _decimal

TIMESTAMP_WINDOW_S = 30
_SYMBOLIC = {
    "rate_limit": "429:rate limit exceeded",
    "auth": "401:invalid api key",
    "permission": "403:forbidden",
    "unavailable": "503:service unavailable",
}
_SEQUENCE = itertools.count(1)  # placement order, which breaks ties between equal creation times
_TRADE_OPS = frozenset({"CreateOrder", "CancelOrder"})


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _position(order: _Order) -> int:
    """Where an order stands in a listing: creation time in microseconds, then placement."""
    return int(order.created_at.timestamp() * 1_000_000) * 10**10 + order.seq


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Refusal(400, "invalid date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    passphrase: str
    can_trade: bool
    portfolios: list[str]


@dataclass(slots=True)
class _Order:
    id: str
    portfolio_id: str
    product_id: str
    side: str
    type: str
    base_quantity: Decimal
    limit_price: Decimal
    client_order_id: str = ""
    status: str = "OPEN"
    filled_quantity: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seq: int = field(default_factory=lambda: next(_SEQUENCE))

    def as_prime(self) -> dict[str, Any]:
        average = self.filled_value / self.filled_quantity if self.filled_quantity else Decimal(0)
        return {
            "id": self.id,
            "user_id": "sim-user",
            "portfolio_id": self.portfolio_id,
            "product_id": self.product_id,
            "side": self.side,
            "client_order_id": self.client_order_id,
            "type": self.type,
            "base_quantity": f"{self.base_quantity:f}",
            "quote_value": "",
            "limit_price": f"{self.limit_price:f}" if self.type != "MARKET" else "",
            "status": self.status,
            "time_in_force": "GOOD_UNTIL_CANCELLED",
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "filled_quantity": f"{self.filled_quantity:f}",
            "filled_value": f"{self.filled_value:f}",
            "average_filled_price": f"{average:f}",
            "commission": "0",
            "post_only": False,
        }


class CoinbasePrimeSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Any = time.time) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._clock = clock
        base = "/v1/portfolios"
        starlette = Starlette(
            routes=[
                Route(base, self._endpoint("GetPortfolios", self._portfolios), methods=["GET"]),
                Route(base + "/{pid}/order", self._endpoint("CreateOrder", self._create), methods=["POST"]),
                Route(base + "/{pid}/open_orders", self._endpoint("ListOpenOrders", self._open), methods=["GET"]),
                Route(base + "/{pid}/orders", self._endpoint("ListOrders", self._history), methods=["GET"]),
                Route(base + "/{pid}/orders/{oid}", self._endpoint("GetOrder", self._get), methods=["GET"]),
                Route(
                    base + "/{pid}/orders/{oid}/cancel", self._endpoint("CancelOrder", self._cancel), methods=["POST"]
                ),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True, portfolios: int = 1) -> SimAccount:
        """A key reaching `portfolios` portfolios (1 = a key made in the Prime UI; more = an entity-level key)."""
        pids = [str(uuid.uuid4()) for _ in range(portfolios)]
        # Prime shows a base64-looking signing key, used as raw text for the HMAC.
        account = _Account(secrets.token_urlsafe(16), secrets.token_urlsafe(48), secrets.token_hex(8), can_trade, pids)
        with self._lock:
            self._accounts[account.api_key] = account
        extras: dict[str, object] = {"portfolio_id": pids[0]} if pids else {}
        return SimAccount(account.api_key, account.secret, account.passphrase, extras)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        owner, size, limit = self._accounts.get(account.api_key), _decimal(volume), _decimal(price)
        if owner is None or not owner.portfolios or size is None or limit is None:
            raise ValueError("unknown api key, or invalid volume or price")
        with self._lock:
            order = _Order(str(uuid.uuid4()), owner.portfolios[0], "BTC-USD", "BUY", "LIMIT", size, limit)
            self._orders[order.id] = order
        return order.id, {}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in LIVE_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}")
            remaining = order.base_quantity - order.filled_quantity
            wanted = _decimal(volume) if volume is not None else None
            step = remaining if wanted is None or wanted >= remaining else wanted
            order.filled_quantity += step
            order.filled_value += step * order.limit_price
            if order.filled_quantity >= order.base_quantity:
                order.status = "FILLED"

    def set_created(self, order_id: str, when: datetime) -> None:
        """Give an order another creation time, as if it had been placed then."""
        with self._lock:
            self._orders[order_id].created_at = when.astimezone(UTC)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES and order.filled_quantity:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_prime()

    def render_venue_error(self, error: str) -> Response:
        status_text, sep, message = _SYMBOLIC.get(error, error).partition(":")
        if sep and status_text.isdigit():
            return _error(int(status_text), message)
        return _error(400, error)

    # -- HTTP ------------------------------------------------------------------------------------------
    def _endpoint(self, op: str, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get("X-CB-ACCESS-KEY", "")

            async def process(fault: Fault | None) -> Response:
                body = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request, body)
                        pid = request.path_params.get("pid")
                        if pid is not None and pid not in account.portfolios:
                            raise _Refusal(403, "forbidden: the API key has no access to this portfolio")
                        if op in _TRADE_OPS and not account.can_trade:
                            raise _Refusal(403, "forbidden: the API key may not trade")
                        return JSONResponse(handler(account, request, body, fault))
                    except _Refusal as refusal:
                        self.errors[refusal.message] += 1
                        return _error(refusal.status, refusal.message)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, body: bytes) -> _Account:
        names = ("X-CB-ACCESS-KEY", "X-CB-ACCESS-PASSPHRASE", "X-CB-ACCESS-SIGNATURE", "X-CB-ACCESS-TIMESTAMP")
        if any(not request.headers.get(name) for name in names):
            raise _Refusal(401, "missing authentication headers")
        account = self._accounts.get(request.headers["X-CB-ACCESS-KEY"])
        if account is None:
            raise _Refusal(401, "invalid api key")
        stamp = request.headers["X-CB-ACCESS-TIMESTAMP"]
        if not stamp.isdigit() or abs(int(stamp) - self._clock()) > TIMESTAMP_WINDOW_S:
            raise _Refusal(401, "request timestamp expired or not integer seconds")
        path, root = request.scope["path"], request.scope.get("root_path", "")
        path = path[len(root) :] if root and path.startswith(root) else path
        expected = sign(stamp, request.method, path, body, account.secret)
        if not hmac.compare_digest(expected.encode(), request.headers["X-CB-ACCESS-SIGNATURE"].encode()):
            raise _Refusal(401, "invalid signature")
        if not hmac.compare_digest(request.headers["X-CB-ACCESS-PASSPHRASE"].encode(), account.passphrase.encode()):
            raise _Refusal(401, "invalid passphrase")
        return account

    def _order(self, request: Request) -> _Order:
        order_id = request.path_params["oid"]
        try:
            uuid.UUID(order_id)
        except ValueError:
            raise _Refusal(400, "invalid order id") from None
        order = self._orders.get(order_id)
        if order is None or order.portfolio_id != request.path_params["pid"]:
            raise _Refusal(404, "order not found")
        return order

    def _portfolios(self, account: _Account, _request: Request, _body: bytes, _f: Fault | None) -> Any:
        return {
            "portfolios": [
                {"id": pid, "name": f"Portfolio {n + 1}", "entity_id": "sim-entity", "organization_id": "sim-org",
                 "entity_name": "Simulated Prime Entity"}
                for n, pid in enumerate(account.portfolios)
            ]
        }  # fmt: skip

    def _create(self, _account: _Account, request: Request, body: bytes, _f: Fault | None) -> Any:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise _Refusal(400, "invalid request body") from None
        if not isinstance(params, dict):
            raise _Refusal(400, "invalid request body")
        kind, side, size = params.get("type"), params.get("side"), _decimal(params.get("base_quantity"))
        price = _decimal(params.get("limit_price")) if kind == "LIMIT" else Decimal(30000)
        if side not in ("BUY", "SELL") or kind not in ("LIMIT", "MARKET") or size is None or price is None:
            raise _Refusal(400, "side, type, base_quantity and limit_price (LIMIT orders) are required")
        if not params.get("product_id") or not params.get("client_order_id"):
            raise _Refusal(400, "product_id and client_order_id are required")
        pid = request.path_params["pid"]
        order = _Order(str(uuid.uuid4()), pid, str(params["product_id"]), side, kind, size, price)
        order.client_order_id = str(params["client_order_id"])
        self._orders[order.id] = order
        if kind == "MARKET":
            order.filled_quantity, order.filled_value, order.status = size, size * price, "FILLED"
        return {"order_id": order.id}

    def _open(self, _account: _Account, request: Request, _body: bytes, _f: Fault | None) -> Any:
        return self._listing(request, set(LIVE_STATUSES))

    def _history(self, _account: _Account, request: Request, _body: bytes, _f: Fault | None) -> Any:
        statuses = set(request.query_params.getlist("order_statuses"))
        if statuses - set(STATUS_MAP) - {"UNKNOWN_ORDER_STATUS"}:
            raise _Refusal(400, "invalid order_statuses")
        if not request.query_params.get("start_date"):
            raise _Refusal(400, "start_date is required")
        return self._listing(request, statuses or set(STATUS_MAP))

    def _listing(self, request: Request, statuses: set[str]) -> Any:
        """Newest first (or oldest with sort_direction=ASC); the cursor is where the next page resumes."""
        params = request.query_params
        limit, cursor, direction = (
            params.get("limit", "100"),
            params.get("cursor", ""),
            params.get("sort_direction", "DESC"),
        )
        if not limit.isdigit() or not 0 < int(limit) <= LIST_MAX_LIMIT or direction not in ("ASC", "DESC"):
            raise _Refusal(400, "invalid limit or sort_direction")
        if cursor and not cursor.isdigit():
            raise _Refusal(400, "invalid cursor")
        start = _when(params.get("start_date"))
        descending = direction == "DESC"
        mine = [
            o for o in self._orders.values()
            if o.portfolio_id == request.path_params["pid"] and o.status in statuses
            and (start is None or o.created_at >= start)
            and (not cursor or (_position(o) < int(cursor) if descending else _position(o) > int(cursor)))
        ]  # fmt: skip
        mine.sort(key=_position, reverse=descending)
        page = mine[: int(limit)]
        more = len(mine) > len(page)
        pagination = {"next_cursor": str(_position(page[-1])) if more else "", "sort_direction": direction,
                      "has_next": more}  # fmt: skip
        return {"orders": [o.as_prime() for o in page], "pagination": pagination}

    def _get(self, _account: _Account, request: Request, _body: bytes, _f: Fault | None) -> Any:
        return {"order": self._order(request).as_prime()}

    def _cancel(self, _account: _Account, request: Request, _body: bytes, fault: Fault | None) -> Any:
        order = self._order(request)
        if order.status == "FILLED":
            raise _Refusal(400, "Filled orders cannot be canceled")
        if order.status not in LIVE_STATUSES:
            raise _Refusal(400, f"order is {order.status.lower()} and cannot be canceled")
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        else:
            order.status = "CANCELLED"
        return {"id": order.id}

    def _settle(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES:
                order.status = "CANCELLED"
