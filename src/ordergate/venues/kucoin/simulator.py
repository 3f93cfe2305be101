"""A local api.kucoin.com for the Spot REST calls ordergate and KuCoin's own SDK make.

Protocol as KuCoin speaks it: KC-API-KEY / KC-API-SIGN / KC-API-TIMESTAMP / KC-API-PASSPHRASE checked with
KuCoin's recipe over the exact path, un-URL-encoded query and body received (extra query parameters, such as the
`orderId` the official SDK repeats in the query, are signed and otherwise ignored), a 5 s timestamp window,
the passphrase HMAC'd for key versions 2 and 3 and plain for version 1, and `{"code", "msg"|"data"}` bodies in
which only "200000" is success. Every private answer carries the `gw-ratelimit-*` headers of a real 30 s
resource pool per UID; a used-up pool answers HTTP 429 / 429000.

    GET    /api/v1/timestamp                                     (public)
    GET    /api/v1/hf/accounts/opened | /api/v1/user/api-key
    POST   /api/v1/orders | /api/v1/hf/orders                    (limit orders)
    DELETE|GET /api/v1/orders/{orderId}                          (classic accounts)
    DELETE|GET /api/v1/hf/orders/{orderId}?symbol=               (HF accounts; HF orders need an HF account)
    GET    /api/v1/orders?status=active|done&currentPage&pageSize (classic listing, newest first, pageSize 10..500)
    GET    /api/v1/hf/orders/active?symbol=                      (HF open orders of a symbol, all at once)
    GET    /api/v1/hf/orders/done?symbol=&lastId=&limit=         (HF done orders, newest first, limit 1..100)
    DELETE /api/v1/orders?symbol=&tradeType=                     (classic: cancel all, symbol optional)
    DELETE /api/v1/hf/orders?symbol= | /api/v1/hf/orders/cancelAll (HF: cancel all of a symbol | of every symbol)
    GET    /api/v1/hf/orders/active/symbols                      (HF: the symbols with open orders)

Answers follow observed KuCoin behaviour: a classic cancel of an unknown, foreign, filled or cancelled order is
HTTP 200 `400100 order_not_exist_or_not_allow_to_cancel`; HF cancels and lookups of such orders answer 400100
"The order does not exist.", classic lookups 400100 "order not exist.". Both cancels only acknowledge (the
order is cancelled at once unless a `pending` fault delays it). HTTP statuses of gateway errors (401 for the
400001-400006 family, 403 for 400007 / 400301 / 411100) are this simulator's choice: KuCoin does not document
them, and ordergate reads the body's code whatever the status.

Control surface (unsigned JSON, for tests, the sandbox and curl; never serve it where real keys are used):
    POST /_control/accounts  {"hf"?, "canTrade"?, "apiKey"?, "secret"?, "passphrase"?}
                             -> {"apiKey", "secret", "passphrase", "hf"}
    POST /_control/orders    {"apiKey", "symbol"?, "side"?, "volume"?, "price"?}
                             -> {"orderId", "cancelFields", "order"}
    GET  /_control/orders/{id} ; POST /_control/orders/{id}/fill {"volume"?}
    POST /_control/faults ; GET /_control/stats
`venue_error` faults take simkit's symbolic names or a KuCoin code, optionally "CODE:message"; "429000" carries the
rate-limit headers (reset 12345 ms), "429000:<message>" is the header-less overload variant.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.kucoin.auth import sign, signed_passphrase
from ordergate.venues.kucoin.constants import SUCCESS_CODE, TIMESTAMP_WINDOW_MS, order_status
from ordergate.venues.kucoin.simbook import (
    Account,
    Order,
    Pool,
    new_api_key,
    new_order_id,
    new_secret,
    now_ms,
    positive,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, required_text, venue_path

_ERRORS: dict[str, tuple[int, str]] = {
    "400001": (401, "Please check the header of your request for KC-API-KEY, KC-API-SIGN, KC-API-TIMESTAMP."),
    "400002": (401, "Invalid KC-API-TIMESTAMP"),
    "400003": (401, "KC-API-KEY not exists"),
    "400004": (401, "Invalid KC-API-PASSPHRASE"),
    "400005": (401, "Invalid KC-API-SIGN"),
    "400006": (401, "Invalid request ip, the current clientIp is:127.0.0.1"),
    "400007": (403, "Access denied, require more permission."),
    "400100": (200, "Parameter Error"),
    "400301": (403, "Operation restricted due to local laws, regulations, or policies"),
    "411100": (403, "User are frozen"),
    "429000": (429, "Too Many Requests"),
    "500000": (500, "Internal Server Error"),
    "126001": (200, "Users currently do not support high frequency"),
}
_SYMBOLIC = {
    "rate_limit": "429000",
    "ban": "411100",
    "auth": "400003",
    "permission": "400007",
    "unavailable": "500000",
    "restricted": "400301",
}
_INJECTED_RATE_LIMIT = {"gw-ratelimit-limit": "4000", "gw-ratelimit-remaining": "0", "gw-ratelimit-reset": "12345"}
_CANCEL_REFUSED = "order_not_exist_or_not_allow_to_cancel"
_HF_NOT_FOUND = "The order does not exist."
_CLASSIC_NOT_FOUND = "order not exist."


class _Refusal(Exception):
    def __init__(self, code: str, msg: str | None = None) -> None:
        super().__init__(code)
        self.code, self.msg = code, msg or _ERRORS.get(code, (200, "simulated"))[1]


@dataclass(frozen=True, slots=True)
class SeenRequest:
    api_key: str
    op: str
    method: str
    endpoint: str  # path and un-encoded query, as signed
    key_version: str
    error: str | None


@dataclass(frozen=True, slots=True)
class _Spec:
    method: str
    path: str
    op: str
    pool: str  # KuCoin's resource pool: "spot" or "management"
    weight: int  # weights from the SDK's API-RATE-LIMIT-WEIGHT tables
    trade: bool  # needs the key's "Spot" (trading) permission
    handler: Callable[[Account, dict[str, Any], Fault | None], Any]


class KucoinSimulator(SimulatorBase):
    """`hf_accounts`: accounts made by `new_account` are high-frequency ("Pro") accounts."""

    def __init__(self, *, hf_accounts: bool = False, spot_quota: int = 4000, jitter_s: float = 0.0) -> None:
        super().__init__(jitter_s=jitter_s)
        self.hf_accounts = hf_accounts
        self.quotas = {"spot": spot_quota, "management": 2000}
        self._accounts: dict[str, Account] = {}
        self._orders: dict[str, Order] = {}
        self._pools: dict[tuple[int, str], Pool] = {}
        self.seen: deque[SeenRequest] = deque(maxlen=10_000)
        specs = [
            # Listings first: /hf/orders/active must not be read as an order id.
            _Spec("GET", "/api/v1/orders", "list_orders", "spot", 2, False, self._list_classic),
            _Spec("GET", "/api/v1/hf/orders/active", "hf_active_orders", "spot", 2, False, self._list_hf_active),
            _Spec("GET", "/api/v1/hf/orders/done", "hf_done_orders", "spot", 2, False, self._list_hf_done),
            _Spec("GET", "/api/v1/hf/orders/active/symbols", "hf_open_symbols", "spot", 2, False, self._open_symbols),
            _Spec("DELETE", "/api/v1/orders", "cancel_all_orders", "spot", 20, True, self._cancel_all_classic),
            _Spec("DELETE", "/api/v1/hf/orders", "cancel_hf_symbol", "spot", 2, True, self._cancel_hf_symbol),
            _Spec("DELETE", "/api/v1/hf/orders/cancelAll", "cancel_hf_all", "spot", 30, True, self._cancel_hf_all),
            _Spec("GET", "/api/v1/hf/accounts/opened", "hf_account_type", "spot", 30, False, self._account_type),
            _Spec("GET", "/api/v1/user/api-key", "api_key_info", "management", 20, False, self._api_key_info),
            _Spec("POST", "/api/v1/orders", "place_order", "spot", 2, True, self._place_classic),
            _Spec("POST", "/api/v1/hf/orders", "place_hf_order", "spot", 1, True, self._place_hf),
            _Spec("DELETE", "/api/v1/orders/{order_id}", "cancel_order", "spot", 3, True, self._cancel_classic),
            _Spec("GET", "/api/v1/orders/{order_id}", "get_order", "spot", 2, False, self._get_classic),
            _Spec("DELETE", "/api/v1/hf/orders/{order_id}", "cancel_hf_order", "spot", 1, True, self._cancel_hf),
            _Spec("GET", "/api/v1/hf/orders/{order_id}", "get_hf_order", "spot", 2, False, self._get_hf),
        ]
        routes = [Route(s.path, self._endpoint(s), methods=[s.method]) for s in specs]
        routes.append(Route("/api/v1/timestamp", self._timestamp, methods=["GET"]))
        self.app = WithAbort(Starlette(routes=[*routes, *self.control_routes()]))

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        return self.new_credentials(can_trade=can_trade)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        order_id = self.place_order(account.api_key, volume=volume, price=price)
        return order_id, ({"symbolPair": self._orders[order_id].symbol} if self._orders[order_id].hf else {})

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if not order.active:
                raise ValueError(f"order {order_id} is done")
            order.fill(positive(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            return order_status(order.active, order.cancel_exist, float(order.deal_size))

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].view()

    def render_venue_error(self, error: str) -> Response:
        code, _, msg = _SYMBOLIC.get(error, error).partition(":")
        headers = _INJECTED_RATE_LIMIT if code == "429000" and not msg else {}
        return self._error(_Refusal(code, msg or None), headers)

    # -- accounts and orders, for tests and the control surface ----------------------------------------
    def new_credentials(self, *, hf: bool | None = None, can_trade: bool = True) -> SimAccount:
        api_key, secret, passphrase = new_api_key(), new_secret(), "pp-" + new_api_key()[:10]
        hf = self.hf_accounts if hf is None else hf
        return self.add_account(api_key, secret, passphrase, hf=hf, can_trade=can_trade)

    def add_account(
        self, api_key: str, secret: str, passphrase: str, *, hf: bool, can_trade: bool = True
    ) -> SimAccount:
        with self._lock:
            self._accounts[api_key] = Account(api_key, secret, passphrase, hf, can_trade)
        return SimAccount(api_key, secret, passphrase, {"hf": hf})

    def place_order(
        self,
        api_key: str,
        *,
        symbol: str = "BTC-USDT",
        side: str = "buy",
        volume: str = "1",
        price: str = "100",
        created_ms: int | None = None,
    ) -> str:
        """A resting limit order; `created_ms` backdates it (for listings over time)."""
        size, limit = positive(volume), positive(price)
        account = self._accounts.get(api_key)
        if account is None or side not in ("buy", "sell") or not (size and limit):
            raise ValueError("unknown api key, or invalid side, volume or price")
        with self._lock:
            order = Order(new_order_id(), api_key, account.hf, symbol, side, "limit", limit, size, new_api_key())
            if created_ms is not None:
                order.created_at = order.updated_at = created_ms
            self._orders[order.id] = order
        return order.id

    # -- protocol ----------------------------------------------------------------------------------------
    def _endpoint(self, spec: _Spec) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            async def process(fault: Fault | None) -> Response:
                return self._process(spec, request, await request.body(), fault)

            return await self.serve_op(request, spec.op, request.headers.get("KC-API-KEY", ""), process)

        return endpoint

    def _process(self, spec: _Spec, request: Request, body: bytes, fault: Fault | None) -> Response:
        query = unquote(request.url.query)
        endpoint = unquote(venue_path(request)) + (f"?{query}" if query else "")
        api_key, version = request.headers.get("KC-API-KEY", ""), request.headers.get("KC-API-KEY-VERSION", "")
        headers: dict[str, str] = {}
        with self._lock:
            try:
                account = self._authenticate(request, endpoint, body)
                pool = self._pools.setdefault((account.uid, spec.pool), Pool(self.quotas[spec.pool]))
                allowed = pool.take(spec.weight, now_ms())
                headers = pool.headers(now_ms())
                if not allowed:
                    raise _Refusal("429000")
                if spec.trade and not account.can_trade:
                    raise _Refusal("400007")
                args = {**request.path_params, "query": dict(request.query_params), "body": body}
                data = spec.handler(account, args, fault)
            except _Refusal as refusal:
                self.errors[refusal.code] += 1
                self.seen.append(SeenRequest(api_key, spec.op, spec.method, endpoint, version, refusal.code))
                return self._error(refusal, headers)
            self.seen.append(SeenRequest(api_key, spec.op, spec.method, endpoint, version, None))
            return JSONResponse({"code": SUCCESS_CODE, "data": data}, headers=headers)

    def _authenticate(self, request: Request, endpoint: str, body: bytes) -> Account:
        h = request.headers
        key, signature, stamp, passphrase = (
            h.get(n, "") for n in ("KC-API-KEY", "KC-API-SIGN", "KC-API-TIMESTAMP", "KC-API-PASSPHRASE")
        )
        if not (key and signature and stamp and passphrase):
            raise _Refusal("400001")
        if not stamp.isdigit() or abs(now_ms() - int(stamp)) > TIMESTAMP_WINDOW_MS:
            raise _Refusal("400002")
        account = self._accounts.get(key)
        if account is None:
            raise _Refusal("400003")
        # Version 1 keys sent the passphrase in clear; versions 2 and 3 send it HMAC'd with the secret.
        hashed = h.get("KC-API-KEY-VERSION", "1") in ("2", "3")
        expected = signed_passphrase(account.secret, account.passphrase) if hashed else account.passphrase
        if not hmac.compare_digest(passphrase.encode(), expected.encode()):
            raise _Refusal("400004")
        expected = sign(account.secret, stamp, request.method, endpoint, body)
        if not hmac.compare_digest(signature.encode(), expected.encode()):
            raise _Refusal("400005")
        return account

    def _error(self, refusal: _Refusal, headers: dict[str, str]) -> Response:
        http = _ERRORS.get(refusal.code, (200, ""))[0]
        return JSONResponse({"code": refusal.code, "msg": refusal.msg}, status_code=http, headers=headers)

    async def _timestamp(self, _request: Request) -> Response:
        return JSONResponse({"code": SUCCESS_CODE, "data": now_ms()})

    # -- handlers (run under the lock) -------------------------------------------------------------------
    def _account_type(self, account: Account, _args: dict[str, Any], _fault: Fault | None) -> bool:
        return account.hf

    def _api_key_info(self, account: Account, _args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        permission = "General,Spot" if account.can_trade else "General"
        return {"remark": "simulated", "apiKey": account.api_key, "apiVersion": 3, "permission": permission,
                "ipWhitelist": "", "createdAt": now_ms(), "uid": account.uid, "isMaster": True}  # fmt: skip

    def _place(self, account: Account, args: dict[str, Any], hf: bool) -> dict[str, Any]:
        try:
            spec = json.loads(args["body"] or b"{}")
        except ValueError:
            raise _Refusal("400100") from None
        size, price = positive(spec.get("size")), positive(spec.get("price"))
        symbol, side = str(spec.get("symbol", "")), spec.get("side")
        if spec.get("type", "limit") != "limit" or side not in ("buy", "sell") or not (size and price and symbol):
            raise _Refusal("400100")
        client_oid = str(spec.get("clientOid") or new_api_key())
        tif = str(spec.get("timeInForce") or "GTC")
        order = Order(new_order_id(), account.api_key, hf, symbol, side, "limit", price, size, client_oid, tif)
        self._orders[order.id] = order
        return {"orderId": order.id, "clientOid": client_oid} if hf else {"orderId": order.id}

    def _place_classic(self, account: Account, args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        return self._place(account, args, hf=False)

    def _place_hf(self, account: Account, args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        if not account.hf:
            raise _Refusal("126001")
        return self._place(account, args, hf=True)

    def _find(self, account: Account, args: dict[str, Any], *, hf: bool, missing: str) -> Order:
        order = self._orders.get(args["order_id"])
        if hf and not args["query"].get("symbol"):
            raise _Refusal("400100")
        if order is None or order.api_key != account.api_key or order.hf != hf:
            raise _Refusal("400100", missing)
        if hf and order.symbol != args["query"]["symbol"]:
            raise _Refusal("400100", missing)
        return order

    def _cancel(self, order: Order, fault: Fault | None, refused: str) -> None:
        if not order.active:
            raise _Refusal("400100", refused)
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order.id)
            return
        order.cancel()

    def _settle_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.active:
                order.cancel()

    def _cancel_classic(self, account: Account, args: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        self._cancel(self._find(account, args, hf=False, missing=_CANCEL_REFUSED), fault, _CANCEL_REFUSED)
        return {"cancelledOrderIds": [args["order_id"]]}

    def _cancel_hf(self, account: Account, args: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        self._cancel(self._find(account, args, hf=True, missing=_HF_NOT_FOUND), fault, _HF_NOT_FOUND)
        return {"orderId": args["order_id"]}

    def _cancel_every(self, account: Account, symbol: str | None, *, hf: bool, fault: Fault | None) -> list[str]:
        mine = [o for o in self._orders.values() if o.api_key == account.api_key and o.hf == hf and o.active]
        chosen = sorted((o for o in mine if symbol in (None, o.symbol)), key=lambda o: o.seq)
        for order in chosen:
            self._cancel(order, fault, _CANCEL_REFUSED)
        return [o.id for o in chosen]

    def _cancel_all_classic(self, account: Account, args: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        if args["query"].get("tradeType", "TRADE") != "TRADE":
            return {"cancelledOrderIds": []}  # margin orders are not simulated
        return {"cancelledOrderIds": self._cancel_every(account, args["query"].get("symbol"), hf=False, fault=fault)}

    def _cancel_hf_symbol(self, account: Account, args: dict[str, Any], fault: Fault | None) -> str:
        symbol = args["query"].get("symbol")
        if not symbol:
            raise _Refusal("400100", "symbol can not be empty")
        self._cancel_every(account, symbol, hf=True, fault=fault)
        return "success"

    def _cancel_hf_all(self, account: Account, _args: dict[str, Any], fault: Fault | None) -> dict[str, Any]:
        mine = (o for o in self._orders.values() if o.api_key == account.api_key and o.hf and o.active)
        symbols = sorted({o.symbol for o in mine})
        self._cancel_every(account, None, hf=True, fault=fault)
        return {"succeedSymbols": symbols, "failedSymbols": []}

    def _open_symbols(self, account: Account, _args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        mine = (o for o in self._orders.values() if o.api_key == account.api_key and o.hf and o.active)
        return {"symbols": sorted({o.symbol for o in mine})}

    def _get_classic(self, account: Account, args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        return self._find(account, args, hf=False, missing=_CLASSIC_NOT_FOUND).view()

    def _get_hf(self, account: Account, args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        return self._find(account, args, hf=True, missing=_HF_NOT_FOUND).view()

    def _listed(self, account: Account, query: dict[str, str], *, hf: bool) -> list[Order]:
        numbers = {n: query[n] for n in ("startAt", "endAt") if n in query}
        if any(not v.isdigit() for v in numbers.values()):
            raise _Refusal("400100")
        start, end = int(numbers.get("startAt", 0)), int(numbers.get("endAt", 2**63))
        return [
            o
            for o in self._orders.values()
            if o.api_key == account.api_key
            and o.hf == hf
            and query.get("symbol") in (None, o.symbol)
            and query.get("side") in (None, o.side)
            and query.get("type") in (None, o.type)
            and start <= o.created_at <= end
        ]

    def _list_classic(self, account: Account, args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        query = args["query"]
        status = query.get("status", "done")  # "done as default"
        page, size = query.get("currentPage", "1"), query.get("pageSize", "50")
        if status not in ("active", "done") or not (page.isdigit() and size.isdigit()) or int(page) < 1:
            raise _Refusal("400100")
        if not 10 <= int(size) <= 500:
            raise _Refusal("400100", "pageSize must be between 10 and 500")
        if query.get("tradeType", "TRADE") != "TRADE":
            raise _Refusal("400100")
        rows = [o for o in self._listed(account, query, hf=False) if o.active == (status == "active")]
        rows.sort(key=lambda o: (o.created_at, o.seq), reverse=True)
        first = (int(page) - 1) * int(size)
        return {
            "currentPage": int(page),
            "pageSize": int(size),
            "totalNum": len(rows),
            "totalPage": -(-len(rows) // int(size)),
            "items": [o.view() for o in rows[first : first + int(size)]],
        }

    def _list_hf_active(self, account: Account, args: dict[str, Any], _fault: Fault | None) -> list[dict[str, Any]]:
        if not args["query"].get("symbol"):
            raise _Refusal("400100", "symbol can not be empty")
        rows = [o for o in self._listed(account, args["query"], hf=True) if o.active]
        rows.sort(key=lambda o: (o.updated_at, o.seq), reverse=True)  # "by the latest update time"
        return [o.view() for o in rows]

    def _list_hf_done(self, account: Account, args: dict[str, Any], _fault: Fault | None) -> dict[str, Any]:
        query = args["query"]
        if not query.get("symbol"):
            raise _Refusal("400100", "symbol can not be empty")
        limit, last_id = query.get("limit", "20"), query.get("lastId")
        if not limit.isdigit() or not 1 <= int(limit) <= 100 or (last_id is not None and not last_id.isdigit()):
            raise _Refusal("400100")
        rows = [o for o in self._listed(account, query, hf=True) if not o.active]
        rows = [o for o in rows if last_id is None or o.seq < int(last_id)]
        rows.sort(key=lambda o: o.seq, reverse=True)
        page = rows[: int(limit)]
        return {"lastId": page[-1].seq if page else 0, "items": [o.view() for o in page]}

    # -- control surface ---------------------------------------------------------------------------------
    def _c_account(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        hf = bool(body.get("hf", self.hf_accounts))
        can_trade = bool(body.get("canTrade", True))
        if "apiKey" in body or "secret" in body or "passphrase" in body:
            names = ("apiKey", "secret", "passphrase")
            account = self.add_account(*(required_text(body, n) for n in names), hf=hf, can_trade=can_trade)
        else:
            account = self.new_credentials(hf=hf, can_trade=can_trade)
        return {"apiKey": account.api_key, "secret": account.secret, "passphrase": account.passphrase, "hf": hf}

    def _c_place(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        options = {name: str(body[name]) for name in ("symbol", "side", "volume", "price") if name in body}
        order_id = self.place_order(required_text(body, "apiKey"), **options)
        order = self._orders[order_id]
        fields = {"symbolPair": order.symbol} if order.hf else {}
        return {"orderId": order_id, "cancelFields": fields, "order": self.describe(order_id)}
