"""A local api.bybit.com for the v5 spot calls ordergate and pybit make.

Protocol as Bybit speaks it: X-BAPI-* headers, the HMAC-SHA256 signature checked over the exact query string or
body received, the timestamp window server_time - recv_window <= ts < server_time + 1000, and HTTP 200 with
`{"retCode", "retMsg", "result", "retExtInfo", "time"}` for business errors. Every private answer carries
X-Bapi-Limit / X-Bapi-Limit-Status / X-Bapi-Limit-Reset-Timestamp (counted, not enforced).

    POST /v5/order/create | /v5/order/cancel           (ops "create", "cancel"; need trade permission)
    POST /v5/order/cancel-all                           (op "cancel-all": every open spot order of the account,
                                                         or of `symbol`; answers `{"list": [{orderId,
                                                         orderLinkId}], "success": "1"}`)
    POST /v5/order/cancel-batch                         (op "cancel-batch"; spot 1..10 orders; `result.list` and
                                                         `retExtInfo.list` one entry per order, in order)
    GET  /v5/order/realtime | /v5/order/history         (ops "realtime", "history"; newest first, `limit` 1..50,
                                                         `cursor` = nextPageCursor; history: `orderStatus`, and
                                                         `startTime`+`endTime` (<= 7 days, default the last 7))
    GET  /v5/user/query-api                             (op "query-api")
    GET  /v5/market/time                                (public)

Answers follow Bybit's: a cancel of an order that is unknown, foreign, on another symbol or already final is
retCode 170213 "Order does not exist."; /realtime by orderId also returns closed orders until `restart()` (after a
Bybit restart they are only in /history); a key without trade permission gets 10005 on create/cancel.

Control surface (unsigned JSON; never serve it where real keys are used): simkit's /_control routes, plus
    POST /_control/restart  -> {"forgotten": n}   closed orders drop out of /realtime, as after a Bybit restart
Faults and accounting come from simkit; `venue_error` takes simkit's symbolic names, "ip_limit" (HTTP 403
"access too frequent"), "geo_block" (CloudFront's 403 for blocked countries) or a raw retCode such as "110001".
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import secrets
import string
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import count
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.bybit.auth import now_ms, sign
from ordergate.venues.bybit.constants import (
    HEADER_KEY,
    HEADER_RECV_WINDOW,
    HEADER_SIGN,
    HEADER_TIMESTAMP,
    STATUS_MAP,
    normalize_symbol,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, control_endpoint
from ordergate.venues.simkit import positive_decimal as _decimal

RATE_LIMIT_RESET_MS = 3000  # how far ahead the `rate_limit` fault puts X-Bapi-Limit-Reset-Timestamp
_POST_OPS = frozenset({"create", "cancel", "cancel-all", "cancel-batch"})
# Spot, per UID and second (cancel-batch: 10/s, ccxt bybit rateLimits cost 5 at 50/s).
_LIMITS = {
    "create": 20,
    "cancel": 20,
    "cancel-all": 20,
    "cancel-batch": 10,
    "realtime": 50,
    "history": 50,
    "query-api": 10,
}
_MESSAGES = {
    10001: "params error",
    10003: "API key is invalid.",
    10005: "Permission denied, please check your API key permissions.",
    10006: "Too many visits!",
    10009: "IP has been banned.",
    10016: "Server error.",
    10024: "Compliance rules triggered",
    110001: "order not exists or too late to cancel",
    170213: "Order does not exist.",
}
_SYMBOLIC = {"rate_limit": 10006, "ban": 10009, "auth": 10003, "permission": 10005, "unavailable": 10016,
             "restricted": 10024}  # fmt: skip
_CLOUDFRONT_403 = (
    "<HTML><HEAD><TITLE>ERROR: The request could not be satisfied</TITLE></HEAD><BODY><H1>403 ERROR</H1>"
    "The Amazon CloudFront distribution is configured to block access from your country.</BODY></HTML>"
)
_LIVE = frozenset({"New", "PartiallyFilled"})
_HISTORY_WINDOW_MS = 7 * 24 * 3600 * 1000
_TOKEN = re.compile(r"page_token=([0-9]{1,20})&")
_ALNUM = string.ascii_letters + string.digits


_EXT_INFO = "_retExtInfo"
BATCH_MAX_SPOT = 10


class _Refusal(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message or _MESSAGES.get(code, "error")


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    op: str
    params: dict[str, Any]
    ret_code: int


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    uid: int
    can_trade: bool


_SEQ = count()


@dataclass(slots=True)
class _Order:
    order_id: str
    api_key: str
    symbol: str
    side: str
    order_type: str
    qty: Decimal
    price: Decimal
    link_id: str = ""
    time_in_force: str = "GTC"
    status: str = "New"
    cum_qty: Decimal = Decimal(0)
    cum_value: Decimal = Decimal(0)
    cum_fee: Decimal = Decimal(0)
    created: int = field(default_factory=now_ms)
    updated: int = 0
    in_realtime: bool = True  # False once a simulated restart has dropped a closed order from /realtime
    # Creation order within one millisecond: Bybit's lists are newest first by creation, and orders placed in the
    # same millisecond must still come back in the order they were placed, not by their (random) ids.
    seq: int = field(default_factory=lambda: next(_SEQ))

    def as_bybit(self) -> dict[str, Any]:
        fee_coin = self.symbol[:-4] if self.side == "Buy" else self.symbol[-4:]  # simulator pairs end in USDT
        return {
            "orderId": self.order_id, "orderLinkId": self.link_id, "blockTradeId": "", "symbol": self.symbol,
            "price": f"{self.price:f}", "qty": f"{self.qty:f}", "side": self.side, "isLeverage": "0",
            "positionIdx": 0, "orderStatus": self.status,
            "cancelType": "CancelByUser" if "Cancel" in self.status else "UNKNOWN", "rejectReason": "EC_NoError",
            "avgPrice": f"{self.cum_value / self.cum_qty:f}" if self.cum_qty else "",
            "leavesQty": f"{self.qty - self.cum_qty:f}" if self.status in _LIVE else "0",
            "leavesValue": f"{(self.qty - self.cum_qty) * self.price:f}" if self.status in _LIVE else "0",
            "cumExecQty": f"{self.cum_qty:f}", "cumExecValue": f"{self.cum_value:f}", "cumExecFee": "",
            "cumFeeDetail": {fee_coin: f"{self.cum_fee:f}"} if self.cum_fee else {},
            "timeInForce": self.time_in_force, "orderType": self.order_type, "stopOrderType": "",
            "orderIv": "", "marketUnit": "", "triggerPrice": "0", "takeProfit": "0", "stopLoss": "0",
            "tpslMode": "", "tpLimitPrice": "0", "slLimitPrice": "0", "triggerDirection": 0,
            "triggerBy": "", "basePrice": f"{self.price:f}", "reduceOnly": False, "closeOnTrigger": False,
            "placeType": "", "smpType": "None", "smpGroup": 0, "smpOrderId": "",
            "createdTime": str(self.created), "updatedTime": str(self.updated or self.created),
        }  # fmt: skip


class BybitSimulator(SimulatorBase):
    """`clock` is the simulated server time in ms: the timestamp window and X-Bapi-* stamps are checked against it."""

    def __init__(self, *, jitter_s: float = 0.0, clock: Callable[[], int] = now_ms) -> None:
        super().__init__(jitter_s=jitter_s)
        self.clock = clock
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._hits: defaultdict[tuple[str, str], deque[int]] = defaultdict(deque)
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        private = [
            ("/v5/order/create", "create", self._create, True),
            ("/v5/order/cancel", "cancel", self._cancel, True),
            ("/v5/order/cancel-all", "cancel-all", self._cancel_all, True),
            ("/v5/order/cancel-batch", "cancel-batch", self._cancel_batch, True),
            ("/v5/order/realtime", "realtime", self._realtime, False),
            ("/v5/order/history", "history", self._history, False),
            ("/v5/user/query-api", "query-api", self._query_api, False),
        ]
        routes = [
            Route(path, self._endpoint(op, handler, trade), methods=["POST" if op in _POST_OPS else "GET"])
            for path, op, handler, trade in private
        ]
        routes += [
            Route("/v5/market/time", self._time, methods=["GET"]),
            Route(
                "/_control/restart", control_endpoint(lambda _p, _b: {"forgotten": self.restart()}), methods=["POST"]
            ),
            *self.control_routes(),
        ]
        self.app = WithAbort(Starlette(routes=routes))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Bybit's shapes: an 18-character key and a 36-character secret, both alphanumeric.
        api_key = "".join(secrets.choice(_ALNUM) for _ in range(18))
        secret = "".join(secrets.choice(_ALNUM) for _ in range(36))
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, 10_000_000 + len(self._accounts), can_trade)
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        return self.place_order(account.api_key, qty=volume, price=price), {"symbolPair": "BTCUSDT"}

    def place_order(
        self,
        api_key: str,
        *,
        symbol: str = "BTCUSDT",
        side: str = "Buy",
        qty: str = "1",
        price: str = "30000",
        created_ms: int | None = None,
    ) -> str:
        """A resting Limit order; `created_ms` backdates it (for listings over time)."""
        qty_d, price_d = _decimal(qty), _decimal(price)
        if api_key not in self._accounts or side not in ("Buy", "Sell") or not (qty_d and price_d):
            raise ValueError("unknown api key, or invalid side, qty or price")
        if normalize_symbol(symbol) != symbol or not symbol.endswith("USDT"):
            raise ValueError("the simulator trades USDT pairs named like BTCUSDT")
        with self._lock:
            order = self._new_order(api_key, symbol, side, "Limit", qty_d, price_d, "", "GTC")
            if created_ms is not None:
                order.created = created_ms
            return order.order_id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in _LIVE:
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            return STATUS_MAP[self._orders[order_id].status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_bybit()

    def restart(self) -> int:
        """What a Bybit release does to /realtime: closed orders are then only found in /history."""
        with self._lock:
            closed = [o for o in self._orders.values() if o.status not in _LIVE and o.in_realtime]
            for order in closed:
                order.in_realtime = False
            return len(closed)

    def render_venue_error(self, error: str) -> Response:
        if error == "ip_limit":
            return Response("403, access too frequent", status_code=403)
        if error == "geo_block":
            return HTMLResponse(_CLOUDFRONT_403, status_code=403)
        code = _SYMBOLIC.get(error) or (int(error) if error.isdigit() else 10016)
        headers = {}
        if code == 10006:
            reset = self.clock() + RATE_LIMIT_RESET_MS
            headers = {"X-Bapi-Limit": "20", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(reset)}
        return JSONResponse(self._body(code, _MESSAGES.get(code, error), {}), headers=headers)

    # -- protocol ----------------------------------------------------------------------------------------
    def _body(self, code: int, message: str, result: dict[str, Any]) -> dict[str, Any]:
        return {"retCode": code, "retMsg": message, "result": result, "retExtInfo": {}, "time": self.clock()}

    def _endpoint(self, op: str, handler: Callable[..., dict[str, Any]], trade: bool) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get(HEADER_KEY, "")

            async def process(fault: Fault | None) -> Response:
                # Bybit signs the query string exactly as it appears in the URL, or the raw body.
                payload = await request.body() if request.method == "POST" else request.scope["query_string"]
                body, headers = self._process(op, handler, trade, api_key, request.headers, payload, fault)
                return JSONResponse(body, headers=headers)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _process(
        self,
        op: str,
        handler: Callable[..., dict[str, Any]],
        trade: bool,
        api_key: str,
        headers: Mapping[str, str],
        payload: bytes,
        fault: Fault | None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        params: dict[str, Any] = {}
        with self._lock:
            limit_headers = self._limit_headers(api_key, op) if api_key in self._accounts else {}
            try:
                account = self._authenticate(api_key, headers, payload)
                params = _params(payload, post=op in _POST_OPS)
                if trade and not account.can_trade:
                    raise _Refusal(10005)
                result, code, message = handler(account, params, fault), 0, "OK"
            except _Refusal as refusal:
                result, code, message = {}, refusal.code, refusal.message
                self.errors[str(code)] += 1
            self.seen.append(SeenRequest(api_key, op, params, code))
            body = self._body(code, message, result)
            if _EXT_INFO in result:  # a batch's per-order codes
                body["retExtInfo"] = {"list": result.pop(_EXT_INFO)}
            return body, limit_headers

    def _authenticate(self, api_key: str, headers: Mapping[str, str], payload: bytes) -> _Account:
        account = self._accounts.get(api_key)
        if account is None:
            raise _Refusal(10003)
        stamp, window = headers.get(HEADER_TIMESTAMP, ""), headers.get(HEADER_RECV_WINDOW, "5000")
        now = self.clock()
        if not (stamp.isdigit() and window.isdigit()) or not now - int(window) <= int(stamp) < now + 1000:
            raise _Refusal(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{stamp}],server_timestamp[{now}],recv_window[{window}]",
            )
        expected = sign(account.secret, stamp, api_key, window, payload)
        # Bybit compares the hex digest case-insensitively.
        if not hmac.compare_digest(expected, headers.get(HEADER_SIGN, "").lower()):
            origin = f"{stamp}{api_key}{window}{payload.decode(errors='replace')}"
            raise _Refusal(10004, f"error sign! origin_string[{origin}]")
        return account

    def _limit_headers(self, api_key: str, op: str) -> dict[str, str]:
        now, hits = self.clock(), self._hits[(api_key, op)]
        while hits and hits[0] <= now - 1000:
            hits.popleft()
        hits.append(now)
        remaining = max(0, _LIMITS[op] - len(hits))
        return {"X-Bapi-Limit": str(_LIMITS[op]), "X-Bapi-Limit-Status": str(remaining),
                "X-Bapi-Limit-Reset-Timestamp": str(now)}  # fmt: skip

    def _new_order(
        self, api_key: str, symbol: str, side: str, kind: str, qty: Decimal, price: Decimal, link: str, tif: str
    ) -> _Order:
        order_id = str(10**18 + secrets.randbelow(9 * 10**18))  # spot order ids are 19 digits
        order = _Order(order_id, api_key, symbol, side, kind, qty, price, link, tif)
        self._orders[order_id] = order
        if kind == "Market":
            self._fill_locked(order, None)
        return order

    def _create(self, account: _Account, params: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        _require_spot(params)
        symbol = normalize_symbol(str(params.get("symbol", "")))
        side, kind = params.get("side"), params.get("orderType")
        qty, price = _decimal(params.get("qty")), _decimal(params.get("price", "30000"))
        if symbol is None or not symbol.endswith("USDT"):
            raise _Refusal(170121, "Invalid symbol.")
        if side not in ("Buy", "Sell"):
            raise _Refusal(170117, "Invalid side.")
        if kind not in ("Limit", "Market"):
            raise _Refusal(170116, "Invalid orderType.")
        if qty is None or price is None or (kind == "Limit" and "price" not in params):
            raise _Refusal(170130, "Data sent for paramter 'qty' or 'price' is not valid.")
        link = str(params.get("orderLinkId") or "")
        tif = str(params.get("timeInForce") or ("IOC" if kind == "Market" else "GTC"))
        order = self._new_order(account.api_key, symbol, side, kind, qty, price, link, tif)
        return {"orderId": order.order_id, "orderLinkId": order.link_id}

    def _cancel(self, account: _Account, params: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        _require_spot(params)
        if not params.get("symbol") or not (params.get("orderId") or params.get("orderLinkId")):
            raise _Refusal(10001, "params error: symbol and orderId or orderLinkId are required")
        (order,) = self._matching(account, params) or [None]
        if order is None or order.symbol != params["symbol"] or order.status not in _LIVE:
            raise _Refusal(170213)
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.order_id)
        else:
            self._cancel_locked(order)
        return {"orderId": order.order_id, "orderLinkId": order.link_id}

    def _cancel_all(self, account: _Account, params: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        _require_spot(params)
        symbol = params.get("symbol")
        mine = [o for o in self._orders.values() if o.api_key == account.api_key and o.status in _LIVE]
        if symbol:
            mine = [o for o in mine if o.symbol == symbol]
        for order in mine:
            self._cancel_locked(order)
        return {"list": [{"orderId": o.order_id, "orderLinkId": o.link_id} for o in mine], "success": "1"}

    def _cancel_batch(self, account: _Account, params: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        requests = params.get("request")
        if not isinstance(requests, list) or not requests or not all(isinstance(r, dict) for r in requests):
            raise _Refusal(10001, "params error: request must be a list of orders")
        if len(requests) > BATCH_MAX_SPOT:
            raise _Refusal(10001, f"params error: spot allows at most {BATCH_MAX_SPOT} orders per batch")
        listed, infos = [], []
        for request in requests:
            try:
                done = self._cancel(account, {"category": "spot", **request}, fault)
                code, message = 0, "OK"
            except _Refusal as refusal:
                done, code, message = {"orderId": "", "orderLinkId": ""}, refusal.code, refusal.message
                self.errors[str(code)] += 1
            listed.append({"category": "spot", "symbol": str(request.get("symbol", "")), **done})
            infos.append({"code": code, "msg": message})
        return {"list": listed, _EXT_INFO: infos}

    def _settle_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status in _LIVE:  # a fill may have won the race meanwhile
                self._cancel_locked(order)

    def _realtime(self, account: _Account, params: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        _require_spot(params)
        by_id = params.get("orderId") or params.get("orderLinkId")
        orders = [o for o in self._matching(account, params) if o.status in _LIVE or o.in_realtime]
        if not by_id:  # openOnly is ignored when querying by id
            closed = str(params.get("openOnly", "0")) == "1"
            orders = [o for o in orders if (o.status not in _LIVE) == closed]
        return self._page(orders, params)

    def _history(self, account: _Account, params: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        _require_spot(params)
        orders = self._matching(account, params)
        if not (params.get("orderId") or params.get("orderLinkId")):
            start, end = params.get("startTime"), params.get("endTime")
            if (start is None) != (end is None):
                raise _Refusal(10001, "params error: startTime and endTime must be passed together")
            if start is None:
                end = self.clock()
                start = end - _HISTORY_WINDOW_MS
            elif (
                not (str(start).isdigit() and str(end).isdigit())
                or not 0 <= int(end) - int(start) <= _HISTORY_WINDOW_MS
            ):
                raise _Refusal(10001, "params error: the time range must be within 7 days")
            orders = [o for o in orders if int(start) <= o.created <= int(end)]
            if params.get("orderStatus"):
                orders = [o for o in orders if o.status == params["orderStatus"]]
        return self._page(orders, params)

    def _query_api(self, account: _Account, _params: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        return {
            "id": str(account.uid), "note": "simulator", "apiKey": account.api_key,
            "readOnly": 0 if account.can_trade else 1, "secret": "",
            "permissions": {"ContractTrade": [], "Spot": ["SpotTrade"] if account.can_trade else [], "Wallet": [],
                            "Options": [], "Derivatives": [], "CopyTrading": [], "BlockTrade": [], "Exchange": [],
                            "NFT": [], "Affiliate": [], "Earn": []},
            "ips": ["*"], "type": 1, "deadlineDay": 90, "expiredAt": "", "createdAt": "", "unified": 0, "uta": 1,
            "userID": account.uid, "inviterID": 0, "vipLevel": "No VIP", "mktMakerLevel": "0", "affiliateID": 0,
            "rsaPublicKey": "", "isMaster": True, "parentUid": "0", "kycLevel": "LEVEL_DEFAULT", "kycRegion": "",
        }  # fmt: skip

    async def _time(self, _request: Request) -> Response:
        now = self.clock()
        return JSONResponse(self._body(0, "OK", {"timeSecond": str(now // 1000), "timeNano": str(now * 10**6)}))

    def _matching(self, account: _Account, params: dict[str, Any]) -> list[_Order]:
        """This account's orders, by Bybit's priority: orderId > orderLinkId > symbol."""
        mine = [o for o in self._orders.values() if o.api_key == account.api_key]
        if params.get("orderId"):
            return [o for o in mine if o.order_id == params["orderId"]]
        if params.get("orderLinkId"):
            return [o for o in mine if o.link_id == params["orderLinkId"]][-1:]
        return [o for o in mine if o.symbol == params["symbol"]] if params.get("symbol") else mine

    def _page(self, orders: list[_Order], params: dict[str, Any]) -> dict[str, Any]:
        """Newest first; the cursor names the last order given ("page_token=<orderId>&", URL-encoded as Bybit's)."""
        limit_text = str(params.get("limit", "20"))
        if not limit_text.isdigit() or not 1 <= int(limit_text) <= 50:
            raise _Refusal(10001, "params error: limit must be within [1, 50]")
        newest = sorted(orders, key=lambda o: (o.created, o.seq), reverse=True)
        token = params.get("cursor")
        if token:
            after = _TOKEN.fullmatch(unquote(str(token)))
            position = next((i for i, o in enumerate(newest) if after and o.order_id == after.group(1)), None)
            if position is None:
                raise _Refusal(10001, "params error: cursor is invalid")
            newest = newest[position + 1 :]
        page = newest[: int(limit_text)]
        more = len(newest) > len(page)
        following = quote(f"page_token={page[-1].order_id}&", safe="") if more else ""
        return {"category": "spot", "list": [o.as_bybit() for o in page], "nextPageCursor": following}

    def _cancel_locked(self, order: _Order) -> None:
        order.status = "PartiallyFilledCanceled" if order.cum_qty else "Cancelled"
        order.updated = self.clock()

    def _fill_locked(self, order: _Order, qty: Decimal | None) -> None:
        remaining = order.qty - order.cum_qty
        step = remaining if qty is None or qty >= remaining else qty
        order.cum_qty += step
        order.cum_value += step * order.price
        order.cum_fee += step * Decimal("0.001") * (1 if order.side == "Buy" else order.price)
        order.status = "Filled" if order.cum_qty >= order.qty else "PartiallyFilled"
        order.updated = self.clock()


def _require_spot(params: dict[str, Any]) -> None:
    if params.get("category") != "spot":
        raise _Refusal(10001, "params error: this simulator serves category=spot only")


def _params(payload: bytes, *, post: bool) -> dict[str, Any]:
    try:
        if post:
            decoded = json.loads(payload.decode() or "{}")
            if not isinstance(decoded, dict):
                raise ValueError("not an object")
            return decoded
        return dict(parse_qsl(payload.decode(), keep_blank_values=True))
    except ValueError:
        raise _Refusal(10001, "params error: the body is not a JSON object") from None
