"""A local Client Portal Gateway (one logged-in user holding several accounts) for the calls ordergate and ibind make.

Under /v1/api:
    GET|POST /iserver/auth/status            {"authenticated", "competing", "connected", …}
    GET|POST /tickle                         {"session", "iserver": {"authStatus": {…}}, …}
    GET      /iserver/accounts               {"accounts": [...], "selectedAccount", "aliases", "isPaper", …}
    POST     /iserver/auth/ssodh/init        re-opens the brokerage session
    POST     /iserver/account/{acct}/orders  {"orders": [{conid, side, quantity, orderType, price, tif, …}]}
    GET      /iserver/account/order/status/{id}
    GET      /iserver/account/orders?filters=submitted,filled,…&accountId=&force=
                                             {"orders": [...], "snapshot": true}: the session's orders, every account
                                             unless accountId names one; force=true clears the cache: "orders": []
    DELETE   /iserver/account/{acct}/order/{id}   {"msg": "Request was submitted", …}; id -1 cancels every open order

No request carries a credential, as at a real gateway: the session is the gateway's. `expire_session()` logs it out
(401 {"error": "not authenticated"}), `drop_bridge()` loses the brokerage session (400 "Bad Request: no bridge")
until /iserver/accounts or ssodh/init runs again. An account the login does not hold answers 401; an account
without trading permission 403. With `requests_per_second` set, going over it puts the caller in the penalty box
(429) for `penalty_s`. Requests are counted under the account a path names, else under GATEWAY.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.ibkr.constants import API_PREFIX, LIVE_STATUSES, PENALTY_BOX_S, STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, positive_decimal

GATEWAY = "gateway"  # the key requests that name no account are counted under
_CONID = 265598  # AAPL's contract id, as in IBKR's examples
# simkit's symbolic errors as this simulator answers them [unverified wording, see constants].
_SYMBOLIC: dict[str, tuple[int, str]] = {
    "rate_limit": (429, "Too Many Requests"),
    "ban": (429, "Too Many Requests"),
    "auth": (401, "Account is not authorized for this session"),
    "permission": (403, "Trading permission is not granted for this account"),
    "unavailable": (503, "Service Unavailable"),
    "restricted": (403, "Trading permission is not granted for this account"),
}


class _Refusal(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


@dataclass(slots=True)
class _Order:
    id: str
    account: str
    side: str
    quantity: Decimal
    order_type: str
    price: Decimal | None
    tif: str
    status: str = "Submitted"
    filled: Decimal = Decimal(0)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_live(self) -> dict[str, Any]:
        """A row of /iserver/account/orders (camelCase, unlike the status endpoint)."""
        stamp_ms = int(self.created.timestamp() * 1000)  # no execution times are kept: the order's own time
        return {
            "acct": self.account,
            "conidex": str(_CONID),
            "conid": _CONID,
            "orderId": int(self.id),
            "cashCcy": "USD",
            "sizeAndFills": f"{self.filled:f}/{self.quantity:f}",
            "orderDesc": f"{'Buy' if self.side == 'BUY' else 'Sell'} {self.quantity:f} AAPL",
            "description1": "AAPL",
            "ticker": "AAPL",
            "secType": "STK",
            "listingExchange": "NASDAQ.NMS",
            "remainingQuantity": float(self.quantity - self.filled),
            "filledQuantity": float(self.filled),
            "totalSize": float(self.quantity),
            "companyName": "APPLE INC",
            "status": self.status,
            "order_ccp_status": self.status,
            "avgPrice": f"{self.price:f}" if self.filled and self.price is not None else None,
            "origOrderType": "LIMIT" if self.order_type == "LMT" else "MARKET",
            "orderType": "Limit" if self.order_type == "LMT" else "Market",
            "price": f"{self.price:f}" if self.price is not None else None,
            "timeInForce": self.tif,
            "lastExecutionTime": self.created.strftime("%y%m%d%H%M%S"),
            "lastExecutionTime_r": stamp_ms,
            "side": self.side,
        }

    def as_status(self) -> dict[str, Any]:
        final = self.status not in LIVE_STATUSES
        kind = "Limit" if self.order_type == "LMT" else "Market"
        return {
            "sub_type": None,
            "request_id": "209",
            "server_id": "0",
            "order_id": int(self.id),
            "conidex": str(_CONID),
            "conid": _CONID,
            "symbol": "AAPL",
            "side": "B" if self.side == "BUY" else "S",
            "contract_description_1": "AAPL",
            "listing_exchange": "NASDAQ.NMS",
            "company_name": "APPLE INC",
            "size": f"{self.quantity - self.filled:f}",
            "total_size": f"{self.quantity:f}",
            "currency": "USD",
            "account": self.account,
            "order_type": kind,
            "limit_price": f"{self.price:f}" if self.price is not None else "",
            "stop_price": "",
            "cum_fill": f"{self.filled:f}",
            "order_status": self.status,
            "order_ccp_status": self.status,
            "order_status_description": f"Order {self.status}",
            "tif": self.tif,
            "order_not_editable": final,
            "cannot_cancel_order": final,
            "sec_type": "STK",
            "avg_price": f"{self.price:f}" if self.filled and self.price is not None else "0.0",
            "order_time": self.created.strftime("%y%m%d-%H:%M:%S"),
        }


# The `filters` values of /iserver/account/orders (CP reference, as ibind's live_orders lists them) → order_status.
_FILTERS = {
    "inactive": "Inactive",
    "pending_submit": "PendingSubmit",
    "pre_submitted": "PreSubmitted",
    "submitted": "Submitted",
    "filled": "Filled",
    "pending_cancel": "PendingCancel",
    "cancelled": "Cancelled",
}


class IbkrSimulator(SimulatorBase):
    def __init__(self, *, paper: bool = True, requests_per_second: int | None = None, penalty_s: int = PENALTY_BOX_S):
        super().__init__()
        self.paper, self.requests_per_second, self.penalty_s = paper, requests_per_second, penalty_s
        self.authenticated, self.bridge = True, True
        self._accounts: dict[str, bool] = {}  # account id → may trade
        self._orders: dict[str, _Order] = {}
        self._ids = itertools.count(1_000_000_000 + secrets.randbelow(10**8))
        self._window: tuple[int, int] = (0, 0)  # (second, requests in it)
        self._penalty_until = 0.0
        r = self._route
        api = [
            Route("/iserver/auth/status", r("auth_status", self._auth_status, session=False), methods=["GET", "POST"]),
            Route("/tickle", r("tickle", self._tickle, session=False), methods=["GET", "POST"]),
            Route("/iserver/accounts", r("accounts", self._list_accounts, bridge=False), methods=["GET"]),
            Route("/iserver/auth/ssodh/init", r("init", self._init, bridge=False), methods=["POST"]),
            Route("/iserver/account/{account}/orders", r("place", self._place), methods=["POST"]),
            Route("/iserver/account/orders", r("orders", self._live_orders), methods=["GET"]),
            Route("/iserver/account/order/status/{order_id}", r("status", self._status), methods=["GET"]),
            Route("/iserver/account/{account}/order/{order_id}", r("cancel", self._cancel), methods=["DELETE"]),
        ]
        self.app = WithAbort(Starlette(routes=[Mount(API_PREFIX, routes=api), *self.control_routes()]))

    # -- the conformance kit's view --------------------------------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        account = ("DU" if self.paper else "U") + str(1_000_000 + secrets.randbelow(9_000_000))
        with self._lock:
            self._accounts[account] = can_trade
        return SimAccount(account, "", extras={"account": account})

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        with self._lock:
            order = self._new_order(account.api_key, {"side": "BUY", "quantity": volume, "price": price})
        return order.id, {"isCryptocurrency": False}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in LIVE_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}")
            step = positive_decimal(volume) if volume is not None else None
            remaining = order.quantity - order.filled
            order.filled += remaining if step is None or step >= remaining else step
            if order.filled >= order.quantity:
                order.status = "Filled"

    def backdate(self, order_id: str, seconds: float) -> None:
        with self._lock:
            self._orders[order_id].created -= timedelta(seconds=seconds)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES and order.filled > 0:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_status()

    def render_venue_error(self, error: str) -> Response:
        status, text = _SYMBOLIC.get(error, (400, error))
        return JSONResponse({"error": text, "statusCode": status}, status)

    def expire_session(self) -> None:
        with self._lock:
            self.authenticated = False

    def drop_bridge(self) -> None:
        with self._lock:
            self.bridge = False

    # -- the HTTP API ----------------------------------------------------------------------------------
    def _route(
        self, op: str, handler: Callable[[Request, dict[str, Any], Fault | None], Any], *, session: bool = True,
        bridge: bool = True,
    ) -> Any:  # fmt: skip
        async def endpoint(request: Request) -> Response:
            key = request.path_params.get("account") or request.query_params.get("accountId") or GATEWAY

            async def process(fault: Fault | None) -> Response:
                try:
                    body = await request.json() if request.method == "POST" and await request.body() else {}
                    with self._lock:
                        self._pace()
                        if session and not self.authenticated:
                            raise _Refusal(401, "not authenticated")
                        if session and bridge and not self.bridge:
                            raise _Refusal(400, "Bad Request: no bridge")
                        result = handler(request, body if isinstance(body, dict) else {}, fault)
                except _Refusal as refusal:
                    self.errors[refusal.text] += 1
                    return JSONResponse({"error": refusal.text, "statusCode": refusal.status}, refusal.status)
                except ValueError:
                    return JSONResponse({"error": "Bad Request", "statusCode": 400}, 400)
                return JSONResponse(result)

            return await self.serve_op(request, op, key, process)

        return endpoint

    def _pace(self) -> None:
        """IBKR's global limit per gateway; going over it puts the caller in the penalty box."""
        if self.requests_per_second is None:
            return
        now = time.monotonic()
        if now < self._penalty_until:
            raise _Refusal(429, "Too Many Requests")
        second, used = self._window
        used = used + 1 if second == int(now) else 1
        self._window = (int(now), used)
        if used > self.requests_per_second:
            self._penalty_until = now + self.penalty_s
            raise _Refusal(429, "Too Many Requests")

    def _auth_status(self, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        return {
            "authenticated": self.authenticated,
            "competing": False,
            "connected": True,
            "message": "",
            "MAC": "00:11:22:33:44:55",
            "serverInfo": {"serverName": "simulator", "serverVersion": "Build 10.25.0"},
            "fail": "",
        }

    def _tickle(self, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        return {
            "session": secrets.token_hex(16),
            "ssoExpires": 300_000,
            "collission": False,
            "userId": 12345678,
            "hmds": {"error": "no bridge"},
            "iserver": {"authStatus": self._auth_status(_r, _b, _f)},
        }

    def _list_accounts(self, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        self.bridge = True  # listing the accounts initialises the brokerage session
        accounts = list(self._accounts)
        return {
            "accounts": accounts,
            "acctProps": {a: {"hasChildAccounts": False, "supportsCashQty": True} for a in accounts},
            "aliases": {a: a for a in accounts},
            "allowFeatures": {"allowCrypto": False, "allowedAssetTypes": "STK"},
            "selectedAccount": accounts[0] if accounts else "",
            "isFT": False,
            "isPaper": self.paper,
        }

    def _init(self, _r: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        self.bridge = True
        return {"authenticated": True, "competing": False, "connected": True}

    def _held(self, request: Request, *, trade: bool) -> str:
        account = request.path_params["account"]
        if account not in self._accounts:
            raise _Refusal(401, f"Account {account} is not authorized for this session")
        if trade and not self._accounts[account]:
            raise _Refusal(403, "Trading permission is not granted for this account")
        return account

    def _live_orders(self, request: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        if request.query_params.get("force") == "true":
            return {"orders": [], "snapshot": False}  # the cache is cleared: the next call fills it again
        account = request.query_params.get("accountId")
        if account and account not in self._accounts:
            raise _Refusal(401, f"Account {account} is not authorized")
        filters = {f.strip() for f in request.query_params.get("filters", "").split(",") if f.strip()}
        wanted = {_FILTERS[f] for f in filters if f in _FILTERS}
        rows = [
            o.as_live()
            for o in self._orders.values()
            if (not account or o.account == account) and (not wanted or o.status in wanted)
        ]
        return {"orders": rows, "snapshot": True}

    def _place(self, request: Request, body: dict[str, Any], _f: Fault | None) -> Any:
        account = self._held(request, trade=True)
        orders = body.get("orders")
        if not isinstance(orders, list) or len(orders) != 1 or not isinstance(orders[0], dict):
            raise _Refusal(400, "Bad Request: orders must hold one order")
        order = self._new_order(account, orders[0])
        return [{"order_id": order.id, "order_status": order.status, "encrypt_message": "1"}]

    def _status(self, request: Request, _b: dict[str, Any], _f: Fault | None) -> Any:
        order = self._orders.get(request.path_params["order_id"])
        if order is None:
            raise _Refusal(400, f"OrderID {request.path_params['order_id']} doesn't exist")
        return order.as_status()

    def _cancel(self, request: Request, _b: dict[str, Any], fault: Fault | None) -> Any:
        account = self._held(request, trade=True)
        order_id = request.path_params["order_id"]
        if order_id == "-1":  # IBKR: every open order of the account
            for order in self._orders.values():
                if order.account == account and order.status in LIVE_STATUSES:
                    order.status = "Cancelled"
            return {"msg": "Request was submitted", "order_id": -1, "account": account}
        order = self._orders.get(order_id)
        if order is None or order.account != account:
            raise _Refusal(400, f"OrderID {order_id} doesn't exist")
        if order.status not in LIVE_STATUSES or order.status == "PendingCancel":
            raise _Refusal(400, f"OrderID {order_id} cannot be cancelled, status: {order.status}")
        if fault is not None and fault.kind == "pending":
            order.status = "PendingCancel"
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        else:
            order.status = "Cancelled"
        return {"msg": "Request was submitted", "order_id": int(order.id), "conid": _CONID, "account": account}

    def _settle(self, order_id: str) -> None:
        with self._lock:
            if self._orders[order_id].status == "PendingCancel":
                self._orders[order_id].status = "Cancelled"

    def _new_order(self, account: str, spec: dict[str, Any]) -> _Order:
        side, kind = str(spec.get("side", "")).upper(), str(spec.get("orderType", "LMT")).upper()
        quantity, price = positive_decimal(spec.get("quantity")), positive_decimal(spec.get("price"))
        if side not in ("BUY", "SELL") or kind not in ("LMT", "MKT") or quantity is None:
            raise _Refusal(400, "Bad Request: side, orderType and quantity are required")
        if kind == "LMT" and price is None:
            raise _Refusal(400, "Bad Request: a limit order needs a price")
        order = _Order(str(next(self._ids)), account, side, quantity, kind, price, str(spec.get("tif") or "DAY"))
        self._orders[order.id] = order
        if kind == "MKT":
            order.filled, order.status = quantity, "Filled"
        return order
