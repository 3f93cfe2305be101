"""A local api.kraken.com for the Spot REST calls ordergate and common SDKs make.

Protocol as Kraken speaks it: form-encoded POST bodies (JSON accepted too), `API-Key` / `API-Sign` checked
with Kraken's HMAC-SHA512 recipe over the exact bytes received, nonces strictly increasing per key, `otp` for
keys with 2FA, and HTTP 200 with `{"error": ["E…"]}` for failures (no `result` then, as Kraken's docs say).

    POST /0/private/AddOrder | CancelOrder | CancelOrderBatch | CancelAll | CancelAllOrdersAfter | QueryOrders |
                    OpenOrders | ClosedOrders | Balance

CancelAll cancels every open order of the key and answers `{"count": n}`. CancelAllOrdersAfter `timeout` (seconds,
0..86400) arms the key's timer (a later call pushes it back, 0 disarms) and answers `{"currentTime", "triggerTime"}`;
when it fires, every open order of the key is cancelled and the timer stays disabled until armed again.
CancelOrderBatch takes a JSON body `{"nonce", "orders": [txid, …]}` (2 to 50) and answers `{"count": n}`, the
orders it cancelled; a txid that is unknown, another key's or already final is skipped, not an error (Kraken does
not document this case; the adapter also handles a whole-batch error).

OpenOrders answers every open order of the key (`{"open": {txid: order}}`, no paging); ClosedOrders answers 50
closed orders at a time, most recent first, from `ofs`, within `start` (exclusive) and `end` (inclusive), each a
Unix time or a txid standing for that order's opentm, applied to `closetime` open, close or both (the default),
with `count` the number of matching orders (omitted with `without_count`).
    GET|POST /0/public/Time

Answers follow observed Kraken behaviour: CancelOrder on an order that existed but is final gives
`EOrder:Unknown order`, on a txid never minted for the key `EOrder:Invalid order`; QueryOrders on an unknown
txid gives `EOrder:Invalid order`; a missing otp gives `EGeneral:Permission denied`; a wrong otp, or an otp
sent for a key without 2FA, gives `EAPI:Invalid signature`.

Control surface (unsigned JSON, for tests, the sandbox and curl; never serve it where real keys are used):

    POST /_control/accounts  {"apiKey"?, "secret"?, "otp"?, "canTrade"?, "canQuery"?} -> {"apiKey", "secret"}
                             (a key pair is generated when apiKey and secret are both omitted)
    POST /_control/orders    {"apiKey", "pair"?, "side"?, "ordertype"?, "volume"?, "price"?}
                             -> {"txid", "order"}
    GET  /_control/orders/{txid}                     -> {"txid", "order"}
    POST /_control/orders/{txid}/fill  {"volume"?}   -> {"txid", "order"}  (everything left when omitted)
    POST /_control/orders/{txid}/expire              -> {"txid", "order"}
    POST /_control/faults    {"kind", "method", "apiKey"?, "seconds"?, "status"?, "error"?, "process"?}
    GET  /_control/stats     -> {"total", "byKeyMethod": [{"apiKey", "method", "count"}], "errors",
                                 "faultsQueued"}
Errors: 400 (bad input) or 404 (unknown txid) with {"error": "..."}.

Faults (delay_before, delay_after, http_error, venue_error, reset, pending) and request accounting come from
`ordergate.venues.simkit`; `venue_error` takes a Kraken error string or one of simkit's symbolic names.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.kraken.auth import sign
from ordergate.venues.kraken.constants import STATUS_MAP
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, control_endpoint, required_text

# simkit's symbolic errors in Kraken's words.
_SYMBOLIC_ERRORS = {
    "rate_limit": "EAPI:Rate limit exceeded",
    "ban": "EGeneral:Temporary lockout",
    "auth": "EAPI:Invalid key",
    "permission": "EGeneral:Permission denied",
    "unavailable": "EService:Unavailable",
}

_TRADE_METHODS = frozenset({"AddOrder", "CancelOrder", "CancelOrderBatch", "CancelAll", "CancelAllOrdersAfter"})
_MAX_TIMEOUT_S = 86_400
_LIVE = frozenset({"pending", "open"})
_TXID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # real txids use base32 letters, e.g. OG5IL4-6AR7I-ZAPZEZ


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    method: str
    params: dict[str, str]
    otp_verified: bool
    error: str | None


class _Refusal(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(slots=True)
class _Account:
    api_key: str
    secret_b64: str
    otp: str | None
    can_trade: bool
    can_query: bool
    last_nonce: int = 0
    balance: dict[str, str] = field(default_factory=lambda: {"ZUSD": "100000.0000", "XXBT": "10.0000000000"})


@dataclass(slots=True)
class _Order:
    txid: str
    api_key: str
    pair: str
    side: str
    ordertype: str
    volume: Decimal
    price: Decimal
    userref: int = 0
    cl_ord_id: str | None = None
    status: str = "open"
    vol_exec: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    opentm: float = field(default_factory=lambda: _opentm())
    closetm: float | None = None
    reason: str | None = None

    def close(self, status: str, reason: str | None = None) -> None:
        self.status, self.reason, self.closetm = status, reason, time.time()

    def as_kraken(self) -> dict[str, Any]:
        avg = self.cost / self.vol_exec if self.vol_exec else Decimal(0)
        order = {
            "refid": None,
            "userref": self.userref,
            "status": self.status,
            "opentm": self.opentm,
            "starttm": 0,
            "expiretm": 0,
            "descr": {
                "pair": self.pair,
                "type": self.side,
                "ordertype": self.ordertype,
                "price": f"{self.price:f}",
                "price2": "0",
                "leverage": "none",
                "order": _describe(self.side, self.volume, self.pair, self.ordertype, self.price),
                "close": "",
            },
            "vol": f"{self.volume:.8f}",
            "vol_exec": f"{self.vol_exec:.8f}",
            "cost": f"{self.cost:.5f}",
            "fee": "0.00000",
            "price": f"{avg:.5f}",
            "stopprice": "0.00000",
            "limitprice": "0.00000",
            "misc": "",
            "oflags": "fciq",
        }
        if self.cl_ord_id is not None:
            order["cl_ord_id"] = self.cl_ord_id
        if self.closetm is not None:
            order["closetm"], order["reason"] = self.closetm, self.reason
        return order


def _describe(side: str, volume: Decimal, pair: str, ordertype: str, price: Decimal) -> str:
    return f"{side} {volume:.8f} {pair} @ {ordertype} {price:f}"


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


_CLOCK = {"last": 0.0}
_CLOCK_LOCK = threading.Lock()
CLOSED_PAGE = 50  # ClosedOrders: "50 results are returned at a time, the most recent by default"


def _opentm() -> float:
    """Kraken's opentm has four decimals; two orders never share one here, so "most recent first" is one order."""
    with _CLOCK_LOCK:
        _CLOCK["last"] = max(round(time.time(), 4), round(_CLOCK["last"] + 0.0001, 4))
        return _CLOCK["last"]


def _new_txid() -> str:
    part = "".join(secrets.choice(_TXID_ALPHABET) for _ in range(16))
    return f"O{part[:5]}-{part[5:10]}-{part[10:]}"


class KrakenSimulator(SimulatorBase):
    """`jitter_s`: each private request waits a random 0..jitter_s seconds before being processed, as network
    paths do, so requests sent concurrently can reach the engine out of order (as they can at Kraken)."""

    def __init__(self, *, jitter_s: float = 0.0) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        # Armed dead-man's switches: api key -> (trigger time, the loop's timer handle).
        self._timers: dict[str, tuple[float, asyncio.TimerHandle]] = {}
        self._methods: dict[str, Callable[[_Account, dict[str, str], Fault | None], Any]] = {
            "AddOrder": self._add_order,
            "CancelOrder": self._cancel_order,
            "CancelAll": self._cancel_all,
            "CancelAllOrdersAfter": self._cancel_all_after,
            "CancelOrderBatch": self._cancel_order_batch,
            "QueryOrders": self._query_orders,
            "OpenOrders": self._open_orders,
            "ClosedOrders": self._closed_orders,
            "Balance": lambda account, _params, _fault: dict(account.balance),
        }
        starlette = Starlette(
            routes=[
                Route("/0/private/{method}", self._private, methods=["POST"]),
                Route("/0/public/Time", self._time, methods=["GET", "POST"]),
                Route("/_control/orders/{order_id}/expire", control_endpoint(self._c_expire), methods=["POST"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        api_key, secret = self.new_credentials(can_trade=can_trade)
        return SimAccount(api_key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        return self.place_order(account.api_key, volume=volume, price=price), {}

    def status(self, order_id: str) -> OrderStatus:
        order = self.order(order_id)
        if order["status"] in _LIVE and Decimal(order["vol_exec"]) > 0:
            return OrderStatus.partiallyFilled
        return STATUS_MAP[order["status"]]

    def describe(self, order_id: str) -> dict[str, Any]:
        return self.order(order_id)

    def render_venue_error(self, error: str) -> Response:
        return JSONResponse({"error": [_SYMBOLIC_ERRORS.get(error, error)]})

    def add_account(
        self,
        api_key: str,
        secret_b64: str,
        *,
        otp: str | None = None,
        can_trade: bool = True,
        can_query: bool = True,
    ) -> None:
        base64.b64decode(secret_b64, validate=True)  # fail here, not on the first signed request
        with self._lock:
            self._accounts[api_key] = _Account(api_key, secret_b64, otp, can_trade, can_query)

    def new_credentials(
        self, *, otp: str | None = None, can_trade: bool = True, can_query: bool = True
    ) -> tuple[str, str]:
        # Same shapes as Kraken's: a 56-character key and a base64 64-byte private key.
        api_key = base64.b64encode(os.urandom(42)).decode()
        secret_b64 = base64.b64encode(os.urandom(64)).decode()
        self.add_account(api_key, secret_b64, otp=otp, can_trade=can_trade, can_query=can_query)
        return api_key, secret_b64

    def place_order(
        self,
        api_key: str,
        *,
        pair: str = "XBTUSD",
        side: str = "buy",
        ordertype: str = "limit",
        volume: str = "1.0",
        price: str = "30000",
        userref: int = 0,
        cl_ord_id: str | None = None,
    ) -> str:
        volume_d, price_d = _decimal(volume), _decimal(price)
        if api_key not in self._accounts or side not in ("buy", "sell") or not (volume_d and price_d):
            raise ValueError("unknown api key, or invalid side, volume or price")
        with self._lock:
            txid = _new_txid()
            order = _Order(txid, api_key, pair, side, ordertype, volume_d, price_d, userref, cl_ord_id)
            self._orders[txid] = order
            if ordertype == "market":
                self._fill_locked(order, None)
        return txid

    def fill(self, txid: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[txid]
            if order.status not in _LIVE:
                raise ValueError(f"order {txid} is {order.status}")
            self._fill_locked(order, _decimal(volume) if volume is not None else None)

    def expire(self, txid: str) -> None:
        with self._lock:
            order = self._orders[txid]
            if order.status not in _LIVE:
                raise ValueError(f"order {txid} is {order.status}")
            order.close("expired")

    def order(self, txid: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[txid].as_kraken()

    def _c_account(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        otp = body.get("otp")
        flags = {"can_trade": bool(body.get("canTrade", True)), "can_query": bool(body.get("canQuery", True))}
        if otp is not None and not isinstance(otp, str):
            raise ValueError("otp must be a string")
        if "apiKey" not in body and "secret" not in body:
            api_key, secret = self.new_credentials(otp=otp, **flags)
        else:
            api_key, secret = required_text(body, "apiKey"), required_text(body, "secret")
            self.add_account(api_key, secret, otp=otp, **flags)
        return {"apiKey": api_key, "secret": secret}

    def _c_place(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        options = {name: str(body[name]) for name in ("pair", "side", "ordertype", "volume", "price") if name in body}
        txid = self.place_order(required_text(body, "apiKey"), **options)
        return {"txid": txid, "orderId": txid, "order": self.order(txid)}

    def _c_order(self, path: dict[str, str], _body: dict[str, Any]) -> dict[str, Any]:
        return {"txid": path["order_id"], "orderId": path["order_id"], "order": self.order(path["order_id"])}

    def _c_fill(self, path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        volume = body.get("volume")
        self.fill(path["order_id"], None if volume is None else str(volume))
        return self._c_order(path, body)

    def _c_expire(self, path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.expire(path["order_id"])
        return self._c_order(path, body)

    async def _time(self, _request: Request) -> Response:
        now = int(time.time())
        result = {"unixtime": now, "rfc1123": formatdate(now, usegmt=True)}
        return JSONResponse({"error": [], "result": result})

    async def _private(self, request: Request) -> Response:
        method = request.path_params["method"]
        api_key = request.headers.get("API-Key", "")

        async def process(fault: Fault | None) -> Response:
            body = await request.body()
            return JSONResponse(self._process(method, api_key, request.headers, body, fault))

        return await self.serve_op(request, method, api_key, process)

    def _process(
        self, method: str, api_key: str, headers: Mapping[str, str], body: bytes, fault: Fault | None
    ) -> dict[str, Any]:
        params: dict[str, str] = {}
        otp_verified = False
        with self._lock:
            try:
                params = _parse_body(body, headers.get("Content-Type", ""))
                account = self._authenticate(method, api_key, headers.get("API-Sign", ""), body, params)
                otp_verified = account.otp is not None
                handler = self._methods.get(method)
                if handler is None:
                    raise _Refusal("EGeneral:Unknown method")
                if not (account.can_trade if method in _TRADE_METHODS else account.can_query):
                    raise _Refusal("EGeneral:Permission denied")
                result = handler(account, params, fault)
            except _Refusal as refusal:
                self.errors[refusal.error] += 1
                self.seen.append(SeenRequest(api_key, method, params, otp_verified, refusal.error))
                return {"error": [refusal.error]}
            self.seen.append(SeenRequest(api_key, method, params, otp_verified, None))
            return {"error": [], "result": result}

    def _authenticate(self, method: str, api_key: str, signature: str, body: bytes, params: dict[str, str]) -> _Account:
        account = self._accounts.get(api_key)
        if account is None:
            raise _Refusal("EAPI:Invalid key")
        nonce_text = params.get("nonce", "")
        if not nonce_text.isdigit():
            raise _Refusal("EAPI:Invalid nonce")
        expected = sign(f"/0/private/{method}", body, nonce_text, account.secret_b64)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise _Refusal("EAPI:Invalid signature")
        nonce = int(nonce_text)
        if nonce <= account.last_nonce or nonce >= 2**64:
            raise _Refusal("EAPI:Invalid nonce")
        account.last_nonce = nonce
        sent_otp = params.get("otp")
        if account.otp is None and sent_otp is not None:
            raise _Refusal("EAPI:Invalid signature")
        if account.otp is not None:
            if sent_otp is None:
                raise _Refusal("EGeneral:Permission denied")
            if not hmac.compare_digest(sent_otp.encode(), account.otp.encode()):
                raise _Refusal("EAPI:Invalid signature")
        return account

    def _add_order(self, account: _Account, params: dict[str, str], _fault: Fault | None) -> dict[str, Any]:
        pair, side, ordertype = params.get("pair"), params.get("type"), params.get("ordertype")
        volume = _decimal(params.get("volume"))
        if not pair or not ordertype or side not in ("buy", "sell"):
            raise _Refusal("EGeneral:Invalid arguments")
        if volume is None:
            raise _Refusal("EGeneral:Invalid arguments:volume")
        price = _decimal(params.get("price")) if "price" in params else Decimal(30000)
        if price is None or (ordertype != "market" and "price" not in params):
            raise _Refusal("EGeneral:Invalid arguments:price")
        descr = {"order": _describe(side, volume, pair, ordertype, price)}
        if params.get("validate", "").lower() in ("true", "1"):
            return {"descr": descr}
        cl_ord_id = params.get("cl_ord_id")
        if cl_ord_id and any(o.cl_ord_id == cl_ord_id and o.status in _LIVE for o in self._orders.values()):
            raise _Refusal("EGeneral:Invalid arguments:cl_ord_id not unique")
        userref = params.get("userref", "0")
        if not re.fullmatch(r"-?\d+", userref):
            raise _Refusal("EGeneral:Invalid arguments:userref")
        order = _Order(_new_txid(), account.api_key, pair, side, ordertype, volume, price, int(userref))
        order.cl_ord_id = cl_ord_id
        self._orders[order.txid] = order
        if ordertype == "market":
            self._fill_locked(order, None)
        return {"descr": descr, "txid": [order.txid]}

    def _cancel_order(self, account: _Account, params: dict[str, str], fault: Fault | None) -> dict[str, Any]:
        txid, cl_ord_id = params.get("txid"), params.get("cl_ord_id")
        mine = [o for o in self._orders.values() if o.api_key == account.api_key]
        if txid and re.fullmatch(r"-?\d+", txid):  # Kraken reads an integer txid as a userref
            targets = [o for o in mine if o.userref == int(txid) and o.status in _LIVE]
        elif txid:
            order = self._orders.get(txid)
            if order is None or order.api_key != account.api_key:
                raise _Refusal("EOrder:Invalid order")
            targets = [order]
        elif cl_ord_id:
            targets = [o for o in mine if o.cl_ord_id == cl_ord_id]
            targets = [o for o in targets if o.status in _LIVE] or targets[-1:]
            if not targets:
                raise _Refusal("EOrder:Unknown order")
        else:
            raise _Refusal("EGeneral:Invalid arguments")
        if any(o.status not in _LIVE for o in targets):
            raise _Refusal("EOrder:Unknown order")
        if fault is not None and fault.kind == "pending":
            loop = asyncio.get_running_loop()
            for order in targets:
                loop.call_later(fault.seconds, self._settle_cancel, order.txid)
            return {"count": len(targets), "pending": True}
        for order in targets:
            order.close("canceled", "User requested")
        return {"count": len(targets)}

    def _cancel_all(self, account: _Account, _params: dict[str, str], _fault: Fault | None) -> dict[str, Any]:
        return {"count": self._cancel_all_locked(account.api_key)}

    def _cancel_all_locked(self, api_key: str) -> int:
        live = [o for o in self._orders.values() if o.api_key == api_key and o.status in _LIVE]
        for order in live:
            order.close("canceled", "User requested")
        return len(live)

    def _cancel_all_after(self, account: _Account, params: dict[str, str], _fault: Fault | None) -> dict[str, Any]:
        text = params.get("timeout", "")
        if not text.isdigit() or int(text) > _MAX_TIMEOUT_S:
            raise _Refusal("EGeneral:Invalid arguments:timeout")
        timeout, now = int(text), time.time()
        previous = self._timers.pop(account.api_key, None)
        if previous is not None:
            previous[1].cancel()
        trigger = "0"
        if timeout:
            handle = asyncio.get_running_loop().call_later(timeout, self._fire, account.api_key)
            self._timers[account.api_key] = (now + timeout, handle)
            trigger = _rfc3339(now + timeout)
        return {"currentTime": _rfc3339(now), "triggerTime": trigger}

    def _fire(self, api_key: str) -> None:
        with self._lock:
            self._timers.pop(api_key, None)  # "the timer remains disabled until the client provides a new timeout"
            self._cancel_all_locked(api_key)

    def dead_man(self, api_key: str) -> float | None:
        """When the key's dead-man's switch fires (Unix time), or None when it is not armed."""
        with self._lock:
            armed = self._timers.get(api_key)
            return armed[0] if armed else None

    def _cancel_order_batch(self, account: _Account, params: dict[str, str], _fault: Fault | None) -> dict[str, Any]:
        try:
            txids = json.loads(params.get("orders", ""))
        except ValueError:
            raise _Refusal("EGeneral:Invalid arguments:orders") from None
        if not isinstance(txids, list) or not 1 <= len(txids) <= 50 or not all(isinstance(t, str) for t in txids):
            raise _Refusal("EGeneral:Invalid arguments:orders")
        count = 0
        for txid in txids:
            order = self._orders.get(txid)
            if order is not None and order.api_key == account.api_key and order.status in _LIVE:
                order.close("canceled", "User requested")
                count += 1
        return {"count": count}

    def _settle_cancel(self, txid: str) -> None:
        with self._lock:
            order = self._orders[txid]
            if order.status in _LIVE:
                order.close("canceled", "User requested")

    def _query_orders(self, account: _Account, params: dict[str, str], _: Fault | None) -> dict[str, Any]:
        txids = [t.strip() for t in params.get("txid", "").split(",") if t.strip()]
        if not txids or len(txids) > 50:
            raise _Refusal("EGeneral:Invalid arguments")
        result = {}
        for txid in txids:
            order = self._orders.get(txid)
            if order is None or order.api_key != account.api_key:
                raise _Refusal("EOrder:Invalid order")
            result[txid] = order.as_kraken()
        return result

    def _open_orders(self, account: _Account, _params: dict[str, str], _: Fault | None) -> dict[str, Any]:
        live = {o.txid: o.as_kraken() for o in self._orders.values() if o.api_key == account.api_key}
        return {"open": {txid: order for txid, order in live.items() if order["status"] in _LIVE}}

    def _closed_orders(self, account: _Account, params: dict[str, str], _: Fault | None) -> dict[str, Any]:
        closetime = params.get("closetime", "both")
        ofs_text = params.get("ofs", "0")
        if closetime not in ("open", "close", "both") or not ofs_text.isdigit():
            raise _Refusal("EGeneral:Invalid arguments")
        start, end = self._time_bound(params.get("start")), self._time_bound(params.get("end"))
        closed = [o for o in self._orders.values() if o.api_key == account.api_key and o.status not in _LIVE]

        def times(order: _Order) -> list[float]:
            both = [order.opentm, order.closetm or order.opentm]
            return both[:1] if closetime == "open" else both[1:] if closetime == "close" else both

        def within(order: _Order) -> bool:
            return any((start is None or t > start) and (end is None or t <= end) for t in times(order))

        matching = sorted(filter(within, closed), key=lambda o: max(times(o)), reverse=True)
        ofs = int(ofs_text)
        result: dict[str, Any] = {"closed": {o.txid: o.as_kraken() for o in matching[ofs : ofs + CLOSED_PAGE]}}
        if params.get("without_count", "").lower() not in ("true", "1"):
            result["count"] = len(matching)
        return result

    def _time_bound(self, text: str | None) -> float | None:
        if text is None or text == "":
            return None
        order = self._orders.get(text)
        if order is not None:  # "If an order's tx ID is given for start or end time, the order's opentm is used"
            return order.opentm
        try:
            return float(text)
        except ValueError:
            raise _Refusal("EGeneral:Invalid arguments") from None

    def backdate(self, order_id: str, seconds: float) -> None:
        with self._lock:
            self._orders[order_id].opentm -= seconds

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.volume - order.vol_exec
        step = remaining if volume is None or volume >= remaining else volume
        order.vol_exec += step
        order.cost += step * order.price
        if order.vol_exec >= order.volume:
            order.close("closed")


def _rfc3339(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _parse_body(body: bytes, content_type: str) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
        if content_type.split(";")[0].strip().lower() == "application/json":
            decoded = json.loads(text or "{}")
            if not isinstance(decoded, dict):
                raise ValueError("not an object")
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()}
        return dict(parse_qsl(text, keep_blank_values=True))
    except ValueError:
        raise _Refusal("EGeneral:Invalid arguments") from None
