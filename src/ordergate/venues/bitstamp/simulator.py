"""A local www.bitstamp.net for the HTTP API v2 calls ordergate and ccxt make.

Protocol as Bitstamp speaks it: the v2 `X-Auth*` headers checked with the recipe over the Host the request came to,
the path and query, the Content-Type as received (none allowed on an empty body: API0020) and the exact body; the
timestamp within 150 s (API0017) and each nonce used once per key within 150 s (API0004); errors as
`{"status": "error", "reason": …, "code": "API00xx"}` (HTTP 403) or `{…, "response_code": "404.002"}` (the HTTP
status is the code's class); answers to authenticated requests signed with X-Server-Auth-Signature; a key without
the trading permission refused with API0003 on order entry and cancels. "Order not found" on a cancel covers unknown,
foreign, filled and cancelled orders alike, as Bitstamp's does.

    GET  /api/v2/markets/                                    (public)
    POST /api/v2/account_balances/                           account_balances
    POST /api/v2/buy/{pair}/ | /api/v2/sell/{pair}/           place_order
    POST /api/v2/open_orders/all/                            open_orders
    POST /api/v2/order_status/       id=                     order_status
    POST /api/v2/cancel_order/       id=                     cancel_order

Control surface (unsigned) and faults come from `ordergate.venues.simkit`; `venue_error` takes a symbolic name, an
`API00xx` code, a response code such as `500.016`, a reason text, or `"<HTTP status>:<reason>"`.
"""

from __future__ import annotations

import hmac
import itertools
import random
import secrets
import string
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.bitstamp.auth import answer_signature, sign, string_to_sign
from ordergate.venues.bitstamp.constants import (
    AUTH_VERSION,
    FORM,
    HEADER_AUTH,
    HEADER_NONCE,
    HEADER_SERVER_SIGNATURE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    HEADER_VERSION,
    LIVE_STATUSES,
    STATUS_MAP,
    WINDOW_MS,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, venue_path
from ordergate.venues.simkit import positive_decimal as _decimal

MARKETS = {"btcusd": ("BTC", "USD", "Bitcoin / U.S. dollar"), "ethusd": ("ETH", "USD", "Ether / U.S. dollar")}

# The authentication errors (www.bitstamp.net/api "Possible authentication errors"): code → reason.
AUTH_ERRORS = {
    "API0001": "API key not found",
    "API0002": "IP address not allowed",
    "API0003": "No permission found",
    "API0004": "Invalid nonce",
    "API0005": "Invalid signature",
    "API0006": "Your account is frozen",
    "API0009": "Please update your profile with your FATCA information, before using API.",
    "API0010": "Invalid version",
    "API0011": "Wrong API key format",
    "API0012": "X-Auth header is required",
    "API0013": "X-Auth-Signature header is required",
    "API0014": "X-Auth-Nonce header is required",
    "API0015": "X-Auth-Timestamp header is required",
    "API0016": "X-Auth-Version header is required",
    "API0017": "X-Auth-Timestamp header is out of boundaries",
    "API0018": "X-Auth-Timestamp header is invalid",
    "API0019": "Content-Type header is not accepted",
    "API0020": "Content-Type header should not be present",
}
# Response codes (www.bitstamp.net/api "Response codes") the simulator answers with.
RESPONSE_ERRORS = {
    "400.002": "Request rejected due to exceeded rate limit.",
    "400.035": "POST parameter(s) is missing from request: id.",
    "400.036": "POST parameter(s) is malformed: id.",
    "404.002": "Order not found for corresponding request.",
    "500.002": "One of Bitstamp internal services failed to process request.",
    "500.016": "Timeout on matching engine.",
}
_SYMBOLIC = {
    "rate_limit": "400.002",
    "ban": "API0006",  # Bitstamp documents no temporary ban; a frozen account is its lockout
    "auth": "API0001",
    "permission": "API0003",
    "unavailable": "500.002",
    "restricted": "API0009",
}
_TRADE_OPS = frozenset({"place_order", "cancel_order"})


def auth_error(code: str) -> JSONResponse:
    return JSONResponse({"status": "error", "reason": AUTH_ERRORS[code], "code": code}, status_code=403)


def coded_error(response_code: str, reason: str | None = None) -> JSONResponse:
    body = {"status": "error", "reason": reason or RESPONSE_ERRORS[response_code], "response_code": response_code}
    return JSONResponse(body, status_code=int(response_code.partition(".")[0]))


class _Refusal(Exception):
    def __init__(self, response: JSONResponse, name: str) -> None:
        super().__init__(name)
        self.response, self.name = response, name


def _auth_refusal(code: str) -> _Refusal:
    return _Refusal(auth_error(code), code)


def _not_found(reason: str) -> _Refusal:
    return _Refusal(coded_error("404.002", reason), reason)


@dataclass(slots=True)
class _Account:
    api_key: str
    secret: str
    can_trade: bool
    nonces: OrderedDict[str, int] = field(default_factory=OrderedDict)  # nonce → when it was used (ms)


@dataclass(slots=True)
class _Order:
    id: int
    owner: str
    pair: str
    side: str  # "0" buy, "1" sell
    amount: Decimal
    price: Decimal
    client_order_id: str = ""
    status: str = "Open"
    remaining: Decimal = Decimal(0)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    created: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def market(self) -> str:
        base, quote, _ = MARKETS[self.pair]
        return f"{base}/{quote}"

    def as_status(self) -> dict[str, Any]:
        """order_status's answer."""
        return {
            "id": self.id,
            "datetime": _stamp(self.created),
            "type": self.side,
            "status": self.status,
            "market": self.market,
            "transactions": list(self.transactions),
            "amount_remaining": f"{self.remaining:.8f}",
            "client_order_id": self.client_order_id,
        }

    def as_open(self) -> dict[str, Any]:
        """An entry of open_orders, and the answer to buy/sell."""
        return {
            "id": str(self.id),
            "datetime": _stamp(self.created),
            "type": self.side,
            "price": f"{self.price:.2f}",
            "amount": f"{self.remaining:.8f}",
            "amount_at_create": f"{self.amount:.8f}",
            "currency_pair": self.market,
            "market": self.market,
            "client_order_id": self.client_order_id,
        }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class BitstampSimulator(SimulatorBase):
    def __init__(self, *, jitter_s: float = 0.0, clock: Any = _now_ms) -> None:
        super().__init__(jitter_s=jitter_s)
        self._accounts: dict[str, _Account] = {}
        self._orders: dict[str, _Order] = {}
        self._clock = clock
        # Bitstamp ids are large integers; start somewhere random so two simulators do not share ids.
        self._ids = itertools.count(1_450_000_000_000_000 + random.randrange(10**12))  # noqa: S311 - not security
        self._tids = itertools.count(300_000_000)
        starlette = Starlette(
            routes=[
                Route("/api/v2/markets/", lambda _r: JSONResponse(_markets()), methods=["GET"]),
                Route(
                    "/api/v2/account_balances/", self._endpoint("account_balances", self._balances), methods=["POST"]
                ),
                Route("/api/v2/buy/{pair}/", self._endpoint("place_order", self._place("0")), methods=["POST"]),
                Route("/api/v2/sell/{pair}/", self._endpoint("place_order", self._place("1")), methods=["POST"]),
                Route("/api/v2/open_orders/all/", self._endpoint("open_orders", self._open_orders), methods=["POST"]),
                Route("/api/v2/order_status/", self._endpoint("order_status", self._order_status), methods=["POST"]),
                Route("/api/v2/cancel_order/", self._endpoint("cancel_order", self._cancel), methods=["POST"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        # Bitstamp's shapes: a 32-character key and secret of letters and digits.
        alphabet = string.ascii_letters + string.digits
        key = "".join(secrets.choice(alphabet) for _ in range(32))
        secret = "".join(secrets.choice(alphabet) for _ in range(32))
        with self._lock:
            self._accounts[key] = _Account(key, secret, can_trade)
        return SimAccount(key, secret)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        amount, limit = _decimal(volume), _decimal(price)
        if account.api_key not in self._accounts or amount is None or limit is None:
            raise ValueError("unknown api key, or invalid volume or price")
        with self._lock:
            order = self._new_order(account.api_key, "btcusd", "0", amount, limit, "")
        return str(order.id), {}  # Bitstamp's cancel needs nothing but the id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status not in LIVE_STATUSES:
                raise ValueError(f"order {order_id} is {order.status}")
            step = _decimal(volume) if volume is not None else None
            self._fill_locked(order, step)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES and order.transactions:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_status()

    def render_venue_error(self, error: str) -> Response:
        name = _SYMBOLIC.get(error, error)
        if name in AUTH_ERRORS:
            return auth_error(name)
        if name in RESPONSE_ERRORS:
            return coded_error(name)
        status_text, sep, reason = name.partition(":")
        if sep and status_text.isdigit():  # "<HTTP status>:<reason>", e.g. an error inside HTTP 200
            return JSONResponse({"status": "error", "reason": reason}, status_code=int(status_text))
        return JSONResponse({"status": "error", "reason": name}, status_code=400)

    def _new_order(self, owner: str, pair: str, side: str, amount: Decimal, price: Decimal, client: str) -> _Order:
        order = _Order(next(self._ids), owner, pair, side, amount, price, client, remaining=amount)
        self._orders[str(order.id)] = order
        return order

    def _fill_locked(self, order: _Order, volume: Decimal | None) -> None:
        step = order.remaining if volume is None or volume >= order.remaining else volume
        base, quote, _ = MARKETS[order.pair]
        order.transactions.append(
            {"tid": next(self._tids), "price": f"{order.price:.2f}", base.lower(): f"{step:.8f}",
             quote.lower(): f"{step * order.price:.8f}", "fee": f"{step * order.price * Decimal('0.003'):.5f}",
             "datetime": _stamp(datetime.now(UTC)), "type": 2}
        )  # fmt: skip
        order.remaining -= step
        if order.remaining <= 0:
            order.status = "Finished"

    # -- HTTP ------------------------------------------------------------------------------------------
    def _endpoint(self, op: str, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            api_key = request.headers.get(HEADER_AUTH, "").removeprefix("BITSTAMP ")

            async def process(fault: Fault | None) -> Response:
                body = await request.body()
                with self._lock:
                    try:
                        account = self._authenticate(request, body)
                    except _Refusal as refusal:
                        self.errors[refusal.name] += 1
                        return refusal.response  # nobody to sign for
                    try:
                        if op in _TRADE_OPS and not account.can_trade:
                            raise _auth_refusal("API0003")
                        params = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
                        response: Response = JSONResponse(handler(account, request, params))
                    except _Refusal as refusal:
                        self.errors[refusal.name] += 1
                        response = refusal.response
                    return _signed(response, account, request)

            return await self.serve_op(request, op, api_key, process)

        return endpoint

    def _authenticate(self, request: Request, body: bytes) -> _Account:
        headers = request.headers
        for header, code in ((HEADER_AUTH, "API0012"), (HEADER_SIGNATURE, "API0013"), (HEADER_NONCE, "API0014"),
                             (HEADER_TIMESTAMP, "API0015"), (HEADER_VERSION, "API0016")):  # fmt: skip
            if not headers.get(header):
                raise _auth_refusal(code)
        if not headers[HEADER_AUTH].startswith("BITSTAMP "):
            raise _auth_refusal("API0011")
        if headers[HEADER_VERSION] != AUTH_VERSION:
            raise _auth_refusal("API0010")
        account = self._accounts.get(headers[HEADER_AUTH].removeprefix("BITSTAMP "))
        if account is None:
            raise _auth_refusal("API0001")
        stamp = headers[HEADER_TIMESTAMP]
        if not stamp.isdigit():
            raise _auth_refusal("API0018")
        now = self._clock()
        if abs(int(stamp) - now) > WINDOW_MS:
            raise _auth_refusal("API0017")
        content_type = headers.get("content-type")
        if body and content_type != FORM:
            raise _auth_refusal("API0019")
        if not body and content_type is not None:
            raise _auth_refusal("API0020")
        nonce = headers[HEADER_NONCE]
        query = request.scope.get("query_string", b"").decode()
        message = string_to_sign(
            account.api_key, request.method, headers.get("host", ""), venue_path(request), "?" + query if query else "",
            content_type or "", nonce, stamp, body,
        )  # fmt: skip
        # Bitstamp's own Java example sends the hex in upper case: the comparison ignores case.
        if not hmac.compare_digest(sign(account.secret, message), headers[HEADER_SIGNATURE].lower()):
            raise _auth_refusal("API0005")
        self._remember_nonce(account, nonce, now)
        return account

    def _remember_nonce(self, account: _Account, nonce: str, now: int) -> None:
        while account.nonces and next(iter(account.nonces.values())) < now - WINDOW_MS:
            account.nonces.popitem(last=False)
        if len(nonce) != 36 or nonce in account.nonces:
            raise _auth_refusal("API0004")
        account.nonces[nonce] = now

    def _mine(self, account: _Account, params: dict[str, str], invalid: str) -> _Order:
        raw = params.get("id")
        if raw is None:
            raise _Refusal(coded_error("400.035", "Missing id POST param."), "400.035")
        if not raw.isdigit() or int(raw) <= 0:
            raise _Refusal(coded_error("400.036", invalid), "400.036")
        order = self._orders.get(str(int(raw)))
        if order is None or order.owner != account.api_key:
            raise _not_found("Order not found.")
        return order

    def _balances(self, account: _Account, _request: Request, _params: dict[str, str]) -> Any:
        return [
            {"currency": c, "total": bal, "available": bal, "reserved": "0.00000000"}
            for c, bal in (("usd", "100000.00"), ("btc", "10.00000000"), ("eth", "100.00000000"))
        ]

    def _place(self, side: str) -> Any:
        def handler(account: _Account, request: Request, params: dict[str, str]) -> Any:
            pair = request.path_params["pair"]
            if pair not in MARKETS:
                raise _Refusal(coded_error("404.007", "Market not found for corresponding request."), "404.007")
            amount, price = _decimal(params.get("amount")), _decimal(params.get("price"))
            if amount is None or price is None:
                raise _Refusal(coded_error("400.004", "Missing amount and/or price POST parameters"), "400.004")
            order = self._new_order(account.api_key, pair, side, amount, price, params.get("client_order_id", ""))
            return order.as_open()

        return handler

    def backdate(self, order_id: str, seconds: float) -> None:
        """The order was placed `seconds` earlier than it was (listing tests with `since`)."""
        with self._lock:
            self._orders[order_id].created -= timedelta(seconds=seconds)

    def _open_orders(self, account: _Account, _request: Request, _params: dict[str, str]) -> Any:
        return [o.as_open() for o in self._orders.values() if o.owner == account.api_key and o.status in LIVE_STATUSES]

    def _order_status(self, account: _Account, _request: Request, params: dict[str, str]) -> Any:
        return self._mine(account, params, "Invalid order id").as_status()

    def _cancel(self, account: _Account, _request: Request, params: dict[str, str]) -> Any:
        try:
            order = self._mine(account, params, "Invalid id POST param.")
        except _Refusal as refusal:
            if refusal.name == "Order not found.":
                raise _not_found("Order not found") from None  # cancel_order's wording has no full stop
            raise
        if order.status not in LIVE_STATUSES:
            # "Order with that id was not found in orderbook. Order might already be filled or canceled."
            raise _not_found("Order not found")
        order.status = "Canceled"
        return {"id": order.id, "amount": f"{order.remaining:.8f}", "price": f"{order.price:.2f}",
                "type": int(order.side), "market": order.market}  # fmt: skip


def _signed(response: Response, account: _Account, request: Request) -> Response:
    """X-Server-Auth-Signature over nonce + timestamp + the answer's Content-Type + its body."""
    content_type = response.headers.get("content-type", "")
    response.headers[HEADER_SERVER_SIGNATURE] = answer_signature(
        account.secret, request.headers[HEADER_NONCE], request.headers[HEADER_TIMESTAMP], content_type, response.body
    )
    return response


def _markets() -> list[dict[str, Any]]:
    return [
        {"name": f"{base}/{quote}", "market_symbol": symbol, "base_currency": base, "base_decimals": 8,
         "counter_currency": quote, "counter_decimals": 2, "minimum_order_value": "10", "trading": "Enabled",
         "instant_order_counter_decimals": 2, "instant_and_market_orders": "Enabled", "description": description,
         "market_type": "SPOT"}
        for symbol, (base, quote, description) in MARKETS.items()
    ]  # fmt: skip
