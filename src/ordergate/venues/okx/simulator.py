"""A local www.okx.com for the v5 REST calls ordergate and python-okx make.

Protocol as OKX speaks it: `OK-ACCESS-*` headers checked with OKX's recipe over the exact path, query string and
body received; timestamps outside 30 s rejected (50102); the passphrase checked (50105); demo keys only with
`x-simulated-trading: 1` and live keys only without it (50101). Answers are `{"code", "msg", "data"}`: HTTP 200
with `code: "1"` and `data[].sCode` when a cancel or placement fails, and the HTTP status of OKX's error table for
request-level errors (401 for auth, 429 for 50011, 503 for 50001).

    POST /api/v5/trade/order          place (limit, post_only, market, ioc, fok)      op "place-order"
    POST /api/v5/trade/cancel-order   cancel; 51400 for filled, cancelled or unknown  op "cancel-order"
    POST /api/v5/trade/cancel-batch-orders  1-20 cancels, one data item each, in order; code "0" all cancelled,
                                      "2" some, "1" none                              op "cancel-batch-orders"
    GET  /api/v5/trade/order          order details; 51603 for unknown                op "order"
    GET  /api/v5/account/config       uid and key permissions                         op "account-config"
    GET  /api/v5/trade/orders-pending live orders, newest first, after/before/limit    op "orders-pending"
    GET  /api/v5/trade/orders-history final orders of the last 7 days, begin/end too  op "orders-history"
    GET  /api/v5/public/time          unauthenticated

Control surface and faults come from `ordergate.venues.simkit` (`POST /_control/accounts` also takes "demo").
`venue_error` takes simkit's symbolic names or an OKX code, optionally with a message: "51024:…country…".
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import secrets
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.okx.auth import sign
from ordergate.venues.okx.constants import (
    CANCEL_BATCH_MAX,
    CANCEL_BATCH_PATH,
    CANCEL_PATH,
    CODE_INFO,
    DEMO_HEADER,
    HISTORY_PATH,
    LIVE_STATES,
    ORDER_PATH,
    PENDING_PATH,
    STATUS_MAP,
    TIME_PATH,
    VERIFY_PATH,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

# simkit's symbolic errors as OKX codes.
_SYMBOLIC = {
    "rate_limit": "50011",
    "ban": "50100",
    "auth": "50111",
    "permission": "50120",
    "unavailable": "50001",
    "restricted": "51155",
}
_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_INST_ID = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)+$")
_FINAL_STATES = frozenset({"filled", "canceled", "mmp_canceled"})
_HISTORY_MS = 7 * 24 * 3600 * 1000
_ORD_TYPES = frozenset({"limit", "post_only", "market", "ioc", "fok"})


def _ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    op: str
    method: str
    target: str  # path plus query string, as received
    body: bytes
    demo: bool
    error: str | None


class _Refusal(Exception):
    """An OKX error answer; `item` set means a per-order failure (`code: "1"` with `data[].sCode`)."""

    def __init__(self, code: str, param: str = "", item: dict[str, str] | None = None, msg: str | None = None):
        super().__init__(code)
        status, text = CODE_INFO.get(code, (200, ""))
        self.code, self.status, self.item = code, status, item
        self.msg = msg if msg is not None else text.replace("{0}", param)

    def response(self) -> Response:
        if self.item is not None:
            entry = {**self.item, "sCode": self.code, "sMsg": self.msg, "ts": str(_ms())}
            return JSONResponse({"code": "1", "msg": "All operations failed", "data": [entry], **_times()})
        return JSONResponse({"code": self.code, "msg": self.msg, "data": []}, status_code=self.status)


def _times() -> dict[str, str]:
    now_us = str(time.time_ns() // 1000)
    return {"inTime": now_us, "outTime": now_us}


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    passphrase: str
    can_trade: bool
    demo: bool
    uid: str = field(default_factory=lambda: str(secrets.randbelow(9 * 10**14) + 10**14))


@dataclass(slots=True)
class _Order:
    ord_id: str
    api_key: str
    inst_id: str
    side: str
    ord_type: str
    sz: Decimal
    px: Decimal
    cl_ord_id: str = ""
    state: str = "live"
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    c_time: int = field(default_factory=_ms)
    u_time: int = field(default_factory=_ms)

    def close(self, state: str) -> None:
        self.state, self.u_time = state, _ms()

    def as_okx(self) -> dict[str, Any]:
        avg = f"{self.notional / self.filled:f}" if self.filled else ""
        base = self.inst_id.split("-")[0]
        return {
            "accFillSz": f"{self.filled:f}",
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoOrds": [],
            "avgPx": avg,
            "cTime": str(self.c_time),
            "cancelSource": "1" if self.state == "canceled" else "",
            "category": "normal",
            "clOrdId": self.cl_ord_id,
            "fee": f"{-self.filled * Decimal('0.001'):f}" if self.filled else "0",
            "feeCcy": base,
            "fillPx": avg,
            "fillSz": f"{self.filled:f}" if self.filled else "0",
            "instId": self.inst_id,
            "instType": "SPOT",
            "ordId": self.ord_id,
            "ordType": self.ord_type,
            "px": "" if self.ord_type == "market" else f"{self.px:f}",
            "side": self.side,
            "state": self.state,
            "sz": f"{self.sz:f}",
            "tdMode": "cash",
            "tgtCcy": "base_ccy" if self.ord_type == "market" else "",
            "uTime": str(self.u_time),
        }


class OkxSimulator(SimulatorBase):
    """`max_skew_s`: how far OK-ACCESS-TIMESTAMP may be from the simulator's clock (OKX: 30 s)."""

    def __init__(self, *, jitter_s: float = 0.0, max_skew_s: float = 30.0) -> None:
        super().__init__(jitter_s=jitter_s)
        self.max_skew_s = max_skew_s
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._last_id = secrets.randbelow(10**17) + 5 * 10**17
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        starlette = Starlette(
            routes=[
                Route(CANCEL_PATH, self._route("cancel-order", self._cancel), methods=["POST"]),
                Route(CANCEL_BATCH_PATH, self._route("cancel-batch-orders", None), methods=["POST"]),
                Route(ORDER_PATH, self._order_route, methods=["GET", "POST"]),
                Route(VERIFY_PATH, self._route("account-config", self._config), methods=["GET"]),
                Route(PENDING_PATH, self._route("orders-pending", self._pending), methods=["GET"]),
                Route(HISTORY_PATH, self._route("orders-history", self._history), methods=["GET"]),
                Route(TIME_PATH, lambda _r: JSONResponse({"code": "0", "msg": "", "data": [{"ts": str(_ms())}]})),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True, demo: bool = False) -> SimAccount:
        return SimAccount(*self.new_credentials(can_trade=can_trade, demo=demo))

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        return self.place_order(account.api_key, sz=volume, px=price), {"symbolPair": "BTC-USDT"}

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            return OrderStatus.partiallyFilled if order.state == "live" and order.filled else STATUS_MAP[order.state]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_okx()

    def render_venue_error(self, error: str) -> Response:
        code, _, msg = _SYMBOLIC.get(error, error).partition(":")
        # Trade-class codes come per order (`data[].sCode`), except those OKX's table lists with an HTTP error.
        per_order = code.startswith("51") and CODE_INFO.get(code, (200, ""))[0] == 200
        item = {"clOrdId": "", "ordId": ""} if per_order else None
        return _Refusal(code, "ordId", item=item, msg=msg or None).response()

    def add_account(self, api_key: str, secret: str, passphrase: str, *, can_trade: bool = True, demo: bool = False):
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret, passphrase, can_trade, demo)

    def new_credentials(self, *, can_trade: bool = True, demo: bool = False) -> tuple[str, str, str]:
        # OKX's shapes: a UUID key, a 32-character upper-case hex secret, a passphrase the user chose.
        api_key, secret, passphrase = str(uuid.uuid4()), secrets.token_hex(16).upper(), "Pp-" + secrets.token_hex(6)
        self.add_account(api_key, secret, passphrase, can_trade=can_trade, demo=demo)
        return api_key, secret, passphrase

    def place_order(
        self,
        api_key: str,
        *,
        inst_id: str = "BTC-USDT",
        side: str = "buy",
        ord_type: str = "limit",
        sz: str = "1",
        px: str = "30000",
        cl_ord_id: str = "",
        c_time: int | None = None,
    ) -> str:
        """A resting order; `c_time` (ms) backdates it, for listings over time."""
        sz_d, px_d = _decimal(sz), _decimal(px)
        if api_key not in self._accounts or side not in ("buy", "sell") or not (sz_d and px_d):
            raise ValueError("unknown api key, or invalid side, size or price")
        with self._lock:
            order = self._new_order(api_key, inst_id, side, ord_type, sz_d, px_d, cl_ord_id)
            if c_time is not None:
                order.c_time = order.u_time = c_time
            return order.ord_id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.state not in LIVE_STATES:
                raise ValueError(f"order {order_id} is {order.state}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def _c_account(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        account = self.new_account(can_trade=bool(body.get("canTrade", True)), demo=bool(body.get("demo", False)))
        return {"apiKey": account.api_key, "secret": account.secret, "passphrase": account.passphrase}

    # -- protocol ------------------------------------------------------------------------------------------
    async def _order_route(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._route("place-order", self._place)(request)
        return await self._route("order", self._lookup)(request)

    def _route(self, op: str, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get("OK-ACCESS-KEY", "")

            async def process(fault: Fault | None) -> Response:
                return self._process(op, request, api_key, await request.body(), handler, fault)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _process(
        self, op: str, request: Request, api_key: str, body: bytes, handler: Any, fault: Fault | None
    ) -> Response:
        query = request.scope.get("query_string", b"").decode("latin-1")
        target = venue_path(request) + (f"?{query}" if query else "")
        demo = request.headers.get(DEMO_HEADER) == "1"
        with self._lock:
            try:
                account = self._authenticate(request, target, body, demo)
                if handler is None:
                    return self._cancel_batch(account, api_key, target, body, demo, fault)
                params = dict(request.query_params) if request.method == "GET" else _json_params(body)
                data = handler(account, {k: str(v) for k, v in params.items() if v not in (None, "")}, fault)
            except _Refusal as refusal:
                self.errors[refusal.code] += 1
                self.seen.append(SeenRequest(api_key, op, request.method, target, body, demo, refusal.code))
                return refusal.response()
            self.seen.append(SeenRequest(api_key, op, request.method, target, body, demo, None))
            return JSONResponse({"code": "0", "msg": "", "data": data, **_times()})

    def _authenticate(self, request: Request, target: str, body: bytes, demo: bool) -> _Account:
        headers = request.headers
        fields = {name: headers.get(f"OK-ACCESS-{name}", "") for name in ("KEY", "PASSPHRASE", "SIGN", "TIMESTAMP")}
        for name, code in (("KEY", "50103"), ("PASSPHRASE", "50104"), ("SIGN", "50106"), ("TIMESTAMP", "50107")):
            if not fields[name]:
                raise _Refusal(code)
        ts = fields["TIMESTAMP"]
        if not _TS.match(ts):
            raise _Refusal("50112")
        try:
            sent = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()
        except ValueError:  # the right shape, but no such moment (month 13, second 61)
            raise _Refusal("50112") from None
        if abs(time.time() - sent) > self.max_skew_s:
            raise _Refusal("50102")
        account = self._accounts.get(fields["KEY"])
        if account is None:
            raise _Refusal("50111")
        if account.demo != demo:
            raise _Refusal("50101")
        if not hmac.compare_digest(fields["PASSPHRASE"].encode(), account.passphrase.encode()):
            raise _Refusal("50105")
        expected = sign(ts, request.method, target, body, account.secret)
        if not hmac.compare_digest(expected.encode(), fields["SIGN"].encode()):
            raise _Refusal("50113")
        return account

    def _find(self, account: _Account, params: dict[str, str]) -> _Order | None:
        inst_id, ord_id, cl_ord_id = params.get("instId"), params.get("ordId"), params.get("clOrdId")
        if ord_id:
            order = self._orders.get(ord_id)
        else:
            mine = [o for o in self._orders.values() if o.api_key == account.api_key and o.cl_ord_id == cl_ord_id]
            order = mine[-1] if mine else None  # "only the latest one will be returned"
        if order is None or order.api_key != account.api_key or order.inst_id != inst_id:
            return None
        return order

    def _cancel_batch(
        self, account: _Account, api_key: str, target: str, body: bytes, demo: bool, fault: Fault | None
    ) -> Response:
        try:
            orders = json.loads(body or b"null")
        except ValueError:
            raise _Refusal("50002") from None
        if not isinstance(orders, list) or not orders or not all(isinstance(o, dict) for o in orders):
            raise _Refusal("50002")
        if len(orders) > CANCEL_BATCH_MAX:
            raise _Refusal("51000", "Number of orders")  # python-okx and ccxt never send more; OKX checks anyway
        data: list[dict[str, Any]] = []
        for order in orders:
            params = {k: str(v) for k, v in order.items() if v not in (None, "")}
            try:
                data += self._cancel(account, params, fault)
            except _Refusal as refusal:
                if refusal.item is None:  # a request-level error stops the whole batch, as at OKX
                    raise
                self.errors[refusal.code] += 1
                data.append({**refusal.item, "sCode": refusal.code, "sMsg": refusal.msg, "ts": str(_ms())})
        failed = sum(1 for item in data if item["sCode"] != "0")
        code, msg = ("0", "") if not failed else ("1", "All operations failed")
        if failed and failed < len(data):
            code, msg = "2", "Bulk operation partially succeeded"
        self.seen.append(SeenRequest(api_key, "cancel-batch-orders", "POST", target, body, demo, None))
        return JSONResponse({"code": code, "msg": msg, "data": data, **_times()})

    def _cancel(self, account: _Account, params: dict[str, str], fault: Fault | None) -> list[dict[str, Any]]:
        if not params.get("instId"):
            raise _Refusal("50014", "instId")
        if not account.can_trade:
            raise _Refusal("50120")
        echo = {"clOrdId": params.get("clOrdId", ""), "ordId": params.get("ordId", "")}
        if not (params.get("ordId") or params.get("clOrdId")):
            raise _Refusal("51003", item=echo)
        if not _INST_ID.match(params["instId"]):
            raise _Refusal("51001", item=echo)
        order = self._find(account, params)
        if order is None or order.state not in LIVE_STATES:
            raise _Refusal("51400", item=echo)
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.ord_id)
        else:
            order.close("canceled")
        return [{"clOrdId": order.cl_ord_id, "ordId": order.ord_id, "ts": str(_ms()), "sCode": "0", "sMsg": ""}]

    def _settle_cancel(self, ord_id: str) -> None:
        with self._lock:
            order = self._orders[ord_id]
            if order.state in LIVE_STATES:
                order.close("canceled")

    def _lookup(self, account: _Account, params: dict[str, str], _fault: Fault | None) -> list[dict[str, Any]]:
        if not params.get("instId"):
            raise _Refusal("50014", "instId")
        if not (params.get("ordId") or params.get("clOrdId")):
            raise _Refusal("51003")
        order = self._find(account, params)
        if order is None:
            raise _Refusal("51603")
        return [order.as_okx()]

    def _pending(self, account: _Account, params: dict[str, str], _fault: Fault | None) -> list[dict[str, Any]]:
        return self._listing(account, params, LIVE_STATES, None)

    def _history(self, account: _Account, params: dict[str, str], _fault: Fault | None) -> list[dict[str, Any]]:
        if not params.get("instType"):
            raise _Refusal("50014", "instType")
        return self._listing(account, params, _FINAL_STATES, _ms() - _HISTORY_MS)

    def _listing(
        self, account: _Account, params: dict[str, str], states: frozenset[str], oldest: int | None
    ) -> list[dict[str, Any]]:
        """Newest first (by ordId, which grows with time), as both OKX listings answer."""
        if params.get("instType", "SPOT") != "SPOT":
            return []  # the simulator keeps spot orders only
        numbers = {name: params[name] for name in ("after", "before", "begin", "end", "limit") if name in params}
        for name, text in numbers.items():
            if not text.isdigit():
                raise _Refusal("51000", name)
        limit = int(numbers.get("limit", "100"))
        if not 1 <= limit <= 100:
            raise _Refusal("51000", "limit")
        state = params.get("state")
        if state is not None and state not in states:
            raise _Refusal("51000", "state")
        rows = [
            o
            for o in self._orders.values()
            if o.api_key == account.api_key
            and o.state in states
            and (state is None or o.state == state)
            and params.get("instId") in (None, o.inst_id)
            and params.get("ordType") in (None, o.ord_type)
            and (oldest is None or o.c_time >= oldest)
            and ("after" not in numbers or int(o.ord_id) < int(numbers["after"]))
            and ("before" not in numbers or int(o.ord_id) > int(numbers["before"]))
            and ("begin" not in numbers or o.c_time >= int(numbers["begin"]))
            and ("end" not in numbers or o.c_time <= int(numbers["end"]))
        ]
        rows.sort(key=lambda o: int(o.ord_id), reverse=True)
        return [o.as_okx() for o in rows[:limit]]

    def _config(self, account: _Account, _params: dict[str, str], _fault: Fault | None) -> list[dict[str, Any]]:
        perm = "read_only,trade" if account.can_trade else "read_only"
        config = {"uid": account.uid, "mainUid": account.uid, "acctLv": "1", "posMode": "net_mode", "level": "Lv1"}
        return [{**config, "autoLoan": False, "label": "ordergate-simulator", "ip": "", "perm": perm, "kycLv": "2"}]

    def _place(self, account: _Account, params: dict[str, str], _fault: Fault | None) -> list[dict[str, Any]]:
        if not params.get("instId"):
            raise _Refusal("50014", "instId")
        if not account.can_trade:
            raise _Refusal("50120")
        cl_ord_id = params.get("clOrdId", "")
        echo = {"clOrdId": cl_ord_id, "ordId": "", "tag": params.get("tag", "")}
        side, ord_type, sz = params.get("side"), params.get("ordType", ""), _decimal(params.get("sz"))
        px = _decimal(params["px"]) if "px" in params else None
        if not _INST_ID.match(params["instId"]):
            raise _Refusal("51001", item=echo)
        for name, bad in (("side", side not in ("buy", "sell")), ("ordType", ord_type not in _ORD_TYPES)):
            if bad:
                raise _Refusal("51000", name, item=echo)
        if sz is None or (ord_type != "market" and px is None):
            raise _Refusal("51000", "sz" if sz is None else "px", item=echo)
        if cl_ord_id and any(o.cl_ord_id == cl_ord_id and o.state in LIVE_STATES for o in self._orders.values()):
            raise _Refusal("51016", item=echo, msg="Client order ID already exists.")
        order = self._new_order(account.api_key, params["instId"], side, ord_type, sz, px or Decimal(30000), cl_ord_id)  # type: ignore[arg-type]
        return [{**echo, "ordId": order.ord_id, "ts": str(_ms()), "sCode": "0", "sMsg": "Order placed", "subCode": ""}]

    def _new_order(
        self, api_key: str, inst_id: str, side: str, ord_type: str, sz: Decimal, px: Decimal, cl_ord_id: str
    ) -> _Order:
        # OKX ordIds are 18-19 digit numbers that grow with time: `after` pages by them.
        self._last_id += 1 + secrets.randbelow(1000)
        ord_id = str(self._last_id)
        order = self._orders[ord_id] = _Order(ord_id, api_key, inst_id, side, ord_type, sz, px, cl_ord_id)
        if ord_type == "market":
            self._fill_locked(order, None)
        elif ord_type in ("ioc", "fok"):
            order.close("canceled")  # nothing rests in the simulator's book to take
        return order

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.sz - order.filled
        step = remaining if volume is None or volume >= remaining else volume
        order.filled += step
        order.notional += step * order.px
        order.state, order.u_time = ("filled" if order.filled >= order.sz else "partially_filled"), _ms()


def _json_params(body: bytes) -> dict[str, Any]:
    if not body:
        raise _Refusal("50000")
    try:
        decoded = json.loads(body)
    except ValueError:
        raise _Refusal("50002") from None
    if not isinstance(decoded, dict):
        raise _Refusal("50002")
    return decoded
