"""A CEX.IO Spot Trading simulator: signed JSON POSTs per action, order state, CEX.IO's own answers.

Private actions live at `/<action>` (the simulator stands in for https://trade.cex.io/api/spot/rest), public ones
at `/public/<action>` (for .../api/spot/rest-public). What it reproduces from the docs (see constants.py): the
X-AGGR-* signature over action + timestamp + body, 200 points per key per calendar minute (429 "API rate limit
reached"), `{"ok":"ok","data":…}` answers and `{"error":…}` failures, a cancel acknowledged with
`{"ok":"ok","data":{}}` whether or not the order can be cancelled (refusals are kept in `cancel_rejects`, as the
`orderCancelReject` events CEX.IO would push), `get_my_orders` by exact orderId finding open and final orders.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.cex_io.auth import sign
from ordergate.venues.cex_io.constants import (
    CANCEL_ACTION,
    CANCEL_COST,
    NEW_ORDER_ACTION,
    OPEN_STATUSES,
    ORDERS_ACTION,
    ORDERS_COST,
    POINTS_PER_MINUTE,
    STATUS_MAP,
    VERIFY_ACTION,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort

PAIRS = {"BTC-USD": ("0.00001", "2", 1), "ETH-USD": ("0.0001", "4", 2), "BTC-USDT": ("0.00001", "2", 1)}
SUB_ACCOUNT = "ordergate"
TIMESTAMP_WINDOW_S = 30  # unverified for the signature header; the docs give 30 s for an order's `timestamp`
KEY_TEXT = "key not passed or incorrect"  # ccxt's broad AuthenticationError text
SIGNATURE_TEXT = "Signature is invalid"  # unverified wording
TIMESTAMP_TEXT = "Timestamp is not valid"  # unverified wording
PERMISSION_TEXT = "API key does not have Trade permission"  # unverified wording
RATE_LIMIT_TEXT = "API rate limit reached"  # ccxt's broad RateLimitExceeded text
_COSTS = {ORDERS_ACTION: ORDERS_COST, CANCEL_ACTION: CANCEL_COST, "get_my_wallet_balance": 5,
          "get_my_account_status_v3": 5}  # fmt: skip
_TRADE = frozenset({CANCEL_ACTION, NEW_ORDER_ACTION})
_SYMBOLIC: dict[str, tuple[int, str]] = {
    "rate_limit": (429, RATE_LIMIT_TEXT),
    "auth": (401, KEY_TEXT),
    "permission": (200, PERMISSION_TEXT),
    "unavailable": (500, "Internal Server Error"),
}


def error(status: int, text: str, code: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": text}
    if code is not None:
        body["statusCode"] = code
    return JSONResponse(body, status_code=status)


class _Refusal(Exception):
    def __init__(self, text: str, status: int = 200, code: int | None = None) -> None:
        super().__init__(text)
        self.text, self.response = text, error(status, text, code)


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool
    client_id: str
    minute: int = 0
    points: int = 0


@dataclass(slots=True)
class _Order:
    id: int
    api_key: str
    client_id: str
    account_id: str
    client_order_id: str
    pair: str
    side: str
    order_type: str
    amount: Decimal
    price: Decimal
    executed: Decimal = Decimal(0)
    status: str = "NEW"
    created_ms: int = 0
    updated_ms: int = 0

    def as_cex(self) -> dict[str, Any]:
        base, quote = self.pair.split("-")
        executed_quote = self.executed * self.price
        return {
            "orderId": str(self.id),
            "clientOrderId": self.client_order_id,
            "clientId": self.client_id,
            "accountId": self.account_id,
            "status": self.status,
            "statusIsFinal": self.status not in OPEN_STATUSES,
            "currency1": base,
            "currency2": quote,
            "side": self.side,
            "orderType": self.order_type,
            "timeInForce": "GTC" if self.order_type == "Limit" else None,
            "comment": None,
            "rejectCode": None,
            "rejectReason": None,
            "initialOnHoldAmountCcy1": f"{self.amount:.8f}" if self.side == "SELL" else None,
            "initialOnHoldAmountCcy2": f"{self.amount * self.price:.8f}" if self.side == "BUY" else None,
            "executedAmountCcy1": f"{self.executed:.8f}" if self.executed else None,
            "executedAmountCcy2": f"{executed_quote:.8f}" if self.executed else None,
            "requestedAmountCcy1": f"{self.amount:.8f}",
            "requestedAmountCcy2": None,
            "feeAmount": f"{executed_quote * Decimal('0.0025'):.8f}" if self.executed else None,
            "feeCurrency": quote,
            "price": f"{self.price:.2f}" if self.order_type == "Limit" else None,
            "averagePrice": f"{self.price:.2f}" if self.executed else None,
            "clientCreateTimestamp": self.created_ms,
            "serverCreateTimestamp": self.created_ms,
            "lastUpdateTimestamp": self.updated_ms,
            "expireTime": None,
            "effectiveTime": None,
        }


def _decimal(value: Any) -> Decimal | None:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() and result > 0 else None


def _ms() -> int:
    return int(time.time() * 1000)


class CexIoSimulator(SimulatorBase):
    """`exact_order_open_only`: read `get_my_orders {"orderId"}` as ccxt's fetchOpenOrder/fetchClosedOrder split
    implies (the exact order only among open ones unless `archived: true`) instead of as the docs say."""

    def __init__(
        self,
        *,
        jitter_s: float = 0.0,
        clock: Callable[[], float] = time.time,
        points_per_minute: int = POINTS_PER_MINUTE,
        exact_order_open_only: bool = False,
    ) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[int, _Order] = {}
        self._clock = clock
        self.points_per_minute = points_per_minute
        self.exact_order_open_only = exact_order_open_only
        self.cancel_rejects: list[dict[str, Any]] = []  # the orderCancelReject events CEX.IO would push
        self.cancel_requests: Counter[str] = Counter()  # cancelRequestId → times seen
        private = {
            VERIFY_ACTION: self._fee_strategy,
            "get_my_wallet_balance": self._wallet_balance,
            ORDERS_ACTION: self._my_orders,
            NEW_ORDER_ACTION: self._new_order,
            CANCEL_ACTION: self._cancel,
        }
        public = {
            "get_server_time": lambda _p: {"timestamp": _ms(), "ISODate": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "get_pairs_info": self._pairs_info,
            "get_currencies_info": self._currencies_info,
            "get_processing_info": lambda _p: {},
        }
        starlette = Starlette(
            routes=[
                *(Route(f"/public/{a}", self._public(fn), methods=["POST"]) for a, fn in public.items()),
                *(Route(f"/{a}", self._endpoint(a, fn), methods=["POST"]) for a, fn in private.items()),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # The docs' placeholders: "base64_string_key", "base64_string_secret".
        api_key = base64.b64encode(secrets.token_bytes(24)).decode()
        secret = base64.b64encode(secrets.token_bytes(24)).decode()
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, can_trade, "up" + str(secrets.randbelow(10**9)))
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        amount, limit = _decimal(volume), _decimal(price)
        if account.api_key not in self._accounts or amount is None or limit is None:
            raise ValueError("unknown api key, or invalid volume or price")
        with self._lock:
            order = self._add(self._accounts[account.api_key], "BTC-USD", "BUY", "Limit", amount, limit, "")
        return str(order.id), {}

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status not in OPEN_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}")
            remaining = order.amount - order.executed
            step = _decimal(volume) if volume is not None else None
            order.executed += remaining if step is None or step >= remaining else step
            order.status = "FILLED" if order.executed >= order.amount else "PARTIALLY_FILLED"
            order.updated_ms = _ms()

    def age(self, order_id: str, *, seconds: float) -> None:
        """Move an order's timestamps into the past (an order placed or closed earlier)."""
        with self._lock:
            order = self._orders[int(order_id)]
            order.created_ms -= int(seconds * 1000)
            order.updated_ms -= int(seconds * 1000)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status in OPEN_STATUSES and order.executed:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[int(order_id)].as_cex()

    def render_venue_error(self, error_name: str) -> Response:
        status, text = _SYMBOLIC.get(error_name, (0, error_name))
        if not status:
            code, sep, rest = error_name.partition(":")
            status, text = (int(code), rest) if sep and code.isdigit() else (200, error_name)
        return error(status, text)

    # -- orders ----------------------------------------------------------------------------------------
    def _add(
        self, account: _Account, pair: str, side: str, kind: str, amount: Decimal, price: Decimal, client_oid: str
    ) -> _Order:
        order_id = secrets.randbelow(9 * 10**9) + 10**9
        while order_id in self._orders:
            order_id = secrets.randbelow(9 * 10**9) + 10**9
        now = _ms()
        order = _Order(order_id, account.api_key, account.client_id, SUB_ACCOUNT, client_oid or str(now), pair, side,
                       kind, amount, price, created_ms=now, updated_ms=now)  # fmt: skip
        self._orders[order_id] = order
        return order

    def _settle(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status == "PENDING_CANCEL":
                order.status, order.updated_ms = "CANCELLED", _ms()

    # -- HTTP ------------------------------------------------------------------------------------------
    def _public(self, handler: Callable[[dict[str, Any]], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                params = json.loads(await request.body() or b"{}")
            except ValueError:
                return error(400, "Bad Request")
            return JSONResponse({"ok": "ok", "data": handler(params if isinstance(params, dict) else {})})

        return endpoint

    def _endpoint(self, action: str, handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get("X-AGGR-KEY", "")

            async def process(fault: Fault | None) -> Response:
                body = await request.body()
                with self._lock:
                    try:
                        account, params = self._authenticate(request, action, body)
                        self._charge(account, action)
                        if action in _TRADE and not account.can_trade:
                            raise _Refusal(PERMISSION_TEXT)
                        return JSONResponse({"ok": "ok", "data": handler(account, params, fault)})
                    except _Refusal as refusal:
                        self.errors[refusal.text] += 1
                        return refusal.response

            return await self.serve_op(request, action, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, action: str, body: bytes) -> tuple[_Account, dict[str, Any]]:
        account = self._accounts.get(request.headers.get("X-AGGR-KEY", ""))
        if account is None:
            raise _Refusal(KEY_TEXT, 401)
        ts = request.headers.get("X-AGGR-TIMESTAMP", "")
        if not ts.isdigit() or abs(int(ts) - self._clock()) > TIMESTAMP_WINDOW_S:
            raise _Refusal(TIMESTAMP_TEXT, 401)
        expected = sign(action, ts, body, account.secret)
        if not hmac.compare_digest(expected.encode(), request.headers.get("X-AGGR-SIGNATURE", "").encode()):
            raise _Refusal(SIGNATURE_TEXT, 401)
        try:
            params = json.loads(body)
        except ValueError:
            raise _Refusal("Bad Request", 400) from None
        if not isinstance(params, dict):
            raise _Refusal("Bad Request", 400)
        return account, params

    def _charge(self, account: _Account, action: str) -> None:
        minute = int(self._clock() // 60)
        if account.minute != minute:
            account.minute, account.points = minute, 0
        cost = _COSTS.get(action, 1)
        if account.points + cost > self.points_per_minute:
            raise _Refusal(RATE_LIMIT_TEXT, 429)
        account.points += cost

    def _fee_strategy(self, _account: _Account, _params: dict[str, Any], _f: Fault | None) -> Any:
        return {"strategyConfig": {"default": [{"fee": "0.25", "volume": 10000}, {"fee": "0.23", "volume": 100000}]}}

    def _wallet_balance(self, _account: _Account, _params: dict[str, Any], _f: Fault | None) -> Any:
        return {"BTC": {"balance": "10.00000000"}, "USD": {"balance": "100000.00"}}

    def _pairs_info(self, _params: dict[str, Any]) -> Any:
        return [
            {
                "base": pair.split("-")[0],
                "quote": pair.split("-")[1],
                "baseMin": base_min,
                "baseMax": "1000",
                "baseLotSize": base_min,
                "quoteMin": "10",
                "quoteMax": "1000000",
                "quoteLotSize": "0.01",
                "basePrecision": 8,
                "quotePrecision": 8,
                "pricePrecision": precision,
                "minPrice": "1",
                "maxPrice": "1000000",
            }  # fmt: skip
            for pair, (base_min, _, precision) in PAIRS.items()
        ]

    def _currencies_info(self, _params: dict[str, Any]) -> Any:
        return [
            {
                "currency": c,
                "walletDeposit": True,
                "walletWithdrawal": True,
                "fiat": c == "USD",
                "precision": 8,
                "walletPrecision": 2 if c == "USD" else 8,
            }  # fmt: skip
            for c in ("BTC", "ETH", "USD", "USDT")
        ]

    def _my_orders(self, account: _Account, params: dict[str, Any], _f: Fault | None) -> Any:
        archived = params.get("archived", False)
        if not isinstance(archived, bool):
            raise _Refusal("Archived parameter should be boolean")
        page_size = params.get("pageSize", 1000)
        if not isinstance(page_size, int) or page_size > 1000:
            raise _Refusal("Page size is limited to 1000 items")
        mine = [o for o in self._orders.values() if o.api_key == account.api_key]
        client_oid, order_id = params.get("clientOrderId"), params.get("orderId")
        if client_oid is not None:
            found = [o for o in mine if o.client_order_id == str(client_oid)]
        elif order_id is not None:
            if not isinstance(order_id, int) or isinstance(order_id, bool):
                raise _Refusal("orderId should be a number", 422, 422)
            found = [o for o in mine if o.id == order_id]
            if self.exact_order_open_only:
                found = [o for o in found if (o.status not in OPEN_STATUSES) == archived]
        else:
            since = params.get("serverCreateTimestampFrom")
            if archived and not isinstance(since, int):
                raise _Refusal("serverCreateTimestampFrom is mandatory for archived orders", 422, 422)
            found = [o for o in mine if (o.status not in OPEN_STATUSES) == archived]
            found = [o for o in found if not isinstance(since, int) or o.created_ms >= since]
            if params.get("pair"):
                found = [o for o in found if o.pair == params["pair"]]
            if params.get("side"):
                found = [o for o in found if o.side == params["side"]]
        descending = params.get("sortOrder", "DESC") != "ASC"
        if descending:  # orders created in one millisecond still come newest first (the sort keeps ties in place)
            found.reverse()
        found.sort(key=lambda o: o.created_ms, reverse=descending)
        page = params.get("pageNumber", 0)
        page = page if isinstance(page, int) and page >= 0 else 0
        return [o.as_cex() for o in found[page * page_size : (page + 1) * page_size]]

    def _new_order(self, account: _Account, params: dict[str, Any], _f: Fault | None) -> Any:
        if not params.get("accountId"):
            raise _Refusal("API orders from Main account are not allowed")
        pair = f"{params.get('currency1')}-{params.get('currency2')}"
        if pair not in PAIRS:
            raise _Refusal(f"Unsupported pair {pair}", 422, 422)
        side, kind = params.get("side"), params.get("orderType")
        if side not in ("BUY", "SELL"):
            raise _Refusal("Mandatory parameter side should be one of BUY,SELL", 422, 422)
        if kind not in ("Limit", "Market"):
            raise _Refusal("Mandatory parameter orderType should be one of Limit,Market", 422, 422)
        stamp = params.get("timestamp")
        if not isinstance(stamp, int) or abs(stamp / 1000 - self._clock()) > TIMESTAMP_WINDOW_S:
            raise _Refusal("Mandatory parameter timestamp is missing or out of the allowed window", 422, 422)
        amount = _decimal(params.get("amountCcy1"))
        if amount is None:
            raise _Refusal("Mandatory parameter amountCcy1 is missing", 422, 422)
        price = _decimal(params.get("price")) if kind == "Limit" else Decimal(30000)
        if price is None:
            raise _Refusal("Mandatory parameter price is missing", 422, 422)
        order = self._add(account, pair, side, kind, amount, price, str(params.get("clientOrderId") or ""))
        order.account_id = str(params["accountId"])
        if kind == "Market":
            order.executed, order.status = amount, "FILLED"
        report = order.as_cex()
        report.update({"messageType": "executionReport", "executionType": "New" if kind == "Limit" else "Trade",
                       "executionId": f"{order.created_ms}_0_{order.id}", "transactTime": None})  # fmt: skip
        return report

    def _cancel(self, account: _Account, params: dict[str, Any], fault: Fault | None) -> Any:
        has_id, has_client = "orderId" in params, "clientOrderId" in params
        if has_id and has_client:
            raise _Refusal("Only one of the fields ClientOrderId or orderId should be specified, not both", 422, 422)
        if not (has_id or has_client):
            raise _Refusal("ClientOrderId or orderId should be specified", 422, 422)
        for name, kind in (("cancelRequestId", str), ("timestamp", int)):
            if not isinstance(params.get(name), kind) or isinstance(params.get(name), bool):
                raise _Refusal(f"Mandatory parameter {name} is missing", 422, 422)
        self.cancel_requests[params["cancelRequestId"]] += 1
        order = next(
            (o for o in self._orders.values() if o.api_key == account.api_key and (
                o.id == params["orderId"] if has_id else o.client_order_id == str(params["clientOrderId"]))),
            None,
        )  # fmt: skip
        if order is None or order.status not in OPEN_STATUSES:
            # Acknowledged all the same; the refusal is an orderCancelReject event (WebSocket), not this answer.
            reason = "unknown_order" if order is None else "too_late_to_cancel"
            self.cancel_rejects.append({"orderId": str(order.id) if order else "NONE", "cancelRejectReason": reason,
                                        "cancelRequestId": params["cancelRequestId"]})  # fmt: skip
            return {}
        if fault is not None and fault.kind == "pending":
            order.status, order.updated_ms = "PENDING_CANCEL", _ms()
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        else:
            order.status, order.updated_ms = "CANCELLED", _ms()
        return {}
