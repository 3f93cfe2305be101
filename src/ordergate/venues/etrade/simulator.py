"""An E*TRADE REST v1 simulator: OAuth 1.0a checked exactly (query and form parameters in the base string, nonce
and timestamp window), request token → authorize → access token, idle and expired tokens, accounts, orders
(preview/place, list, detail, cancel), JSON or XML as the client asks.

The authorize page (`/e/t/etws/authorize?key=&token=`) stands for a user logging in and accepting: it authorizes
the request token for the simulator's demo user and shows the verifier, as E*TRADE's page does. Tests pick another
user with `POST /_control/authorize {"token", "accountIdKey"}`.

Where E*TRADE's wording is not public (refusals of a cancel, an account that may not trade, rate limits), this
simulator uses the Error envelope with codes of its own, marked below; the adapter decides nothing from them.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.etrade.auth import base_string, signature
from ordergate.venues.etrade.constants import CANCEL_ACK_CODE, STATUS_MAP
from ordergate.venues.etrade.simxml import from_xml, to_xml
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, control_endpoint, positive_decimal

_EASTERN = ZoneInfo("America/New_York")
_GP = ["GET", "POST"]
IDLE_S = 2 * 3600
TIMESTAMP_WINDOW_S = 300
REQUEST_TOKEN_TTL_S = 300
# The simulator's own codes where E*TRADE publishes none [unverified wording and numbers].
NOT_CANCELABLE = (5001, "This order is currently being executed or rejected. It cannot be cancelled.")
ALREADY_CANCELLED = (5002, "This order has already been cancelled.")
# List Orders' refusals of its parameters [unverified wording: E*TRADE publishes codes for the account key only].
INVALID_DATES = (10033, "The date range is invalid.")
INVALID_COUNT = (10034, "The count must be between 1 and 100.")
INVALID_MARKER = (10035, "The marker is invalid.")
UNKNOWN_ORDER = (5003, "The order number you have entered is invalid or the order does not exist.")
NO_TRADING = (9101, "This account is not enabled for trading through the API.")
# Documented on the Order API page.
NOT_YOUR_ACCOUNT = (100, "Account key does not belong to user.")
INVALID_ACCOUNT = (102, "Please enter valid account key.")
_SYMBOLIC: dict[str, tuple[int, int, str]] = {
    "rate_limit": (429, 429, "You have exceeded the number of requests allowed."),
    "permission": (403, NO_TRADING[0], NO_TRADING[1]),
    "unavailable": (503, 503, "The service is temporarily unavailable."),
    "ban": (403, NO_TRADING[0], NO_TRADING[1]),
    "restricted": (403, NO_TRADING[0], NO_TRADING[1]),
}


class _Refusal(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _OAuthProblem(Exception):
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass
class _Account:
    key: str  # accountIdKey
    number: str  # accountId
    user: str
    can_trade: bool = True


@dataclass
class _AccessToken:
    secret: str
    consumer: str
    user: str
    day: str  # the US Eastern date it was issued: it expires at that day's midnight
    last_used: float = field(default_factory=time.time)
    idle: bool = False
    revoked: bool = False


@dataclass
class _RequestToken:
    secret: str
    consumer: str
    created: float = field(default_factory=time.time)
    user: str | None = None
    verifier: str | None = None
    used: bool = False


@dataclass
class _Order:
    id: int
    account: str
    symbol: str
    action: str
    qty: Decimal
    price_type: str
    limit: Decimal | None
    term: str
    placed_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    filled: Decimal = Decimal(0)
    average: Decimal | None = None
    status: str = "OPEN"
    executed_ms: int | None = None


def _day_of(epoch_ms: int) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, _EASTERN).date()


def _eastern_day() -> str:
    return datetime.now(_EASTERN).date().isoformat()


def _token_text() -> str:
    # E*TRADE tokens are base64 text: '+', '/' and '=' exercise percent-encoding both ways.
    return base64.b64encode(secrets.token_bytes(24)).decode()


def _decimal_text(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class ETradeSimulator(SimulatorBase):
    def __init__(self, *, market_price: str = "100") -> None:
        super().__init__()
        self.market_price = Decimal(market_price)
        self._consumers: dict[str, str] = {}
        self._accounts: dict[str, _Account] = {}
        self._request_tokens: dict[str, _RequestToken] = {}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._orders: dict[int, _Order] = {}
        self._previews: dict[int, tuple[str, dict[str, Any]]] = {}
        self._nonces: set[tuple[str, str, str]] = set()  # (consumer, timestamp, nonce) seen inside the window
        self._ids = itertools.count(secrets.randbelow(10**6) + 10**5)  # E*TRADE numbers orders; unique here
        self.demo_user = "demo"
        self.demo_consumer = self.new_consumer()
        self._new_account(self.demo_user)
        self._new_account(self.demo_user)
        route = self._route
        starlette = Starlette(
            routes=[
                # E*TRADE documents GET; requests-oauthlib (pyetrade) fetches tokens with POST, which it accepts.
                Route("/oauth/request_token", route("request_token", self._request_token, token=False), methods=_GP),
                Route("/oauth/access_token", route("access_token", self._access_token, token=False), methods=_GP),
                Route("/oauth/renew_access_token", route("renew", self._renew, renewing=True), methods=_GP),
                Route("/oauth/revoke_access_token", route("revoke", self._revoke, renewing=True), methods=_GP),
                Route("/e/t/etws/authorize", self._authorize_page, methods=["GET"]),
                Route("/v1/accounts/list{suffix:path}", route("accounts", self._list_accounts)),
                Route("/v1/accounts/{key}/orders/preview", route("preview", self._preview), methods=["POST"]),
                Route("/v1/accounts/{key}/orders/place", route("place", self._place), methods=["POST"]),
                Route("/v1/accounts/{key}/orders/cancel", route("cancel", self._cancel), methods=["PUT"]),
                Route("/v1/accounts/{key}/orders/{order_id}", route("get", self._get), methods=["GET"]),
                Route("/v1/accounts/{key}/orders{suffix:path}", route("list", self._list_orders), methods=["GET"]),
                Route("/_control/authorize", control_endpoint(self._c_authorize), methods=["POST"]),
                Route("/_control/tokens", control_endpoint(self._c_token), methods=["POST"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- users, consumers, tokens ----------------------------------------------------------------------
    def new_consumer(self) -> tuple[str, str]:
        key, secret = secrets.token_hex(16), secrets.token_hex(32)  # E*TRADE's shapes: 32 and 64 hex digits
        with self._lock:
            self._consumers[key] = secret
        return key, secret

    def _new_account(self, user: str, can_trade: bool = True) -> _Account:
        key = base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")
        account = _Account(key, str(secrets.randbelow(9 * 10**8) + 10**8), user, can_trade)
        with self._lock:
            self._accounts[key] = account
        return account

    def issue_access_token(self, consumer_key: str, user: str) -> tuple[str, str]:
        token, secret = _token_text(), _token_text()
        with self._lock:
            self._access_tokens[token] = _AccessToken(secret, consumer_key, user, _eastern_day())
        return token, secret

    def accounts_of(self, user: str) -> list[str]:
        with self._lock:
            return [a.key for a in self._accounts.values() if a.user == user]

    def authorize(self, request_token: str, user: str | None = None) -> str:
        """What the user does on E*TRADE's page: log in, accept; the answer is the verifier."""
        with self._lock:
            pending = self._request_tokens[request_token]
            pending.user = user or self.demo_user
            pending.verifier = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(5))
            return pending.verifier

    def idle(self, token: str) -> None:
        with self._lock:
            self._access_tokens[token].idle = True

    def expire(self, token: str) -> None:
        with self._lock:
            self._access_tokens[token].day = "1970-01-01"

    def token_state(self, token: str) -> str:
        with self._lock:
            return self._state(self._access_tokens[token])

    def _state(self, token: _AccessToken) -> str:
        if token.revoked:
            return "revoked"
        if token.day != _eastern_day():
            return "expired"
        if token.idle or time.time() - token.last_used > IDLE_S:
            return "inactive"
        return "active"

    # -- the conformance kit's view --------------------------------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        """A user who brought their own consumer key, with one account and an access token."""
        consumer_key, consumer_secret = self.new_consumer()
        user = "u-" + secrets.token_hex(6)
        account = self._new_account(user, can_trade)
        token, secret = self.issue_access_token(consumer_key, user)
        return SimAccount(token, secret, f"{consumer_key}:{consumer_secret}", {"accountIdKey": account.key})

    def sandbox_login(self, _code: str) -> dict[str, Any]:
        """The sandbox's demo consumer key: `/authenticate` walks the three-legged flow with it, and the authorize page
        (under the sandbox's mount) shows the demo user's verifier, as E*TRADE's page does once the user accepts."""
        key, secret = self.demo_consumer
        return {"username": self.demo_user, "env": {"ETRADE_CONSUMER_KEY": key, "ETRADE_CONSUMER_SECRET": secret}}

    def place_demo(self, username: str, *, quantity: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        """An order on the first account of a user connected through the three-legged flow (the sandbox's demo)."""
        key = self.accounts_of(username)[0]
        with self._lock:
            order = self._new_order(key, "AAPL", "BUY", Decimal(quantity), "LIMIT", Decimal(price), "GOOD_FOR_DAY")
        return str(order.id), {"isCryptocurrency": False}

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        key = str(account.extras.get("accountIdKey") or self._first_account(account.api_key))
        with self._lock:
            order = self._new_order(key, "AAPL", "BUY", Decimal(volume), "LIMIT", Decimal(price), "GOOD_FOR_DAY")
        return str(order.id), {"isCryptocurrency": False}

    def _first_account(self, token: str) -> str:
        with self._lock:
            user = self._access_tokens[token].user
        return self.accounts_of(user)[0]

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status not in ("OPEN", "CANCEL_REQUESTED"):
                raise ValueError(f"order {order_id} is {order.status}")
            self._fill(order, positive_decimal(volume) if volume is not None else None)

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[int(order_id)]
            if order.status == "OPEN" and order.filled > 0:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._order_json(self._orders[int(order_id)])

    def render_venue_error(self, error: str) -> Response:
        if error == "auth":
            return PlainTextResponse("oauth_problem=consumer_key_rejected", 401)
        if error in _SYMBOLIC:
            status, code, message = _SYMBOLIC[error]
        else:
            code_text, _, message = error.partition(":")
            status, code = 400, int(code_text) if code_text.isdigit() else NOT_CANCELABLE[0]
            message = message or error
        return JSONResponse({"Error": {"code": code, "message": message}}, status)

    # -- HTTP plumbing ---------------------------------------------------------------------------------
    def _route(self, op: str, handler: Any, *, token: bool = True, renewing: bool = False) -> Any:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            params = _oauth_params(request.headers.get("authorization", ""))
            count_as = params.get("oauth_token") or params.get("oauth_consumer_key", "")

            async def process(fault: Fault | None) -> Response:
                wants_json = _wants_json(request)
                try:
                    with self._lock:
                        principal = self._verify(request, raw, params, token=token, renewing=renewing)
                        result = handler(request, raw, principal, fault, wants_json)
                except _OAuthProblem as exc:
                    self.errors[exc.problem] += 1
                    return PlainTextResponse(f"oauth_problem={exc.problem}", 401)
                except _Refusal as exc:
                    self.errors[str(exc.code)] += 1
                    return _render({"Error": {"code": exc.code, "message": exc.message}}, exc.status, wants_json)
                if isinstance(result, Response):
                    return result
                return _render(result, 200, wants_json)

            return await self.serve_op(request, op, count_as, process)

        return endpoint

    def _verify(self, request: Request, raw: bytes, params: dict[str, str], *, token: bool, renewing: bool) -> Any:
        """RFC 5849 §3.2, as E*TRADE applies it; answers the token's record (or the consumer key)."""
        consumer = params.get("oauth_consumer_key", "")
        if not params or consumer not in self._consumers:
            raise _OAuthProblem("consumer_key_rejected")
        if params.get("oauth_signature_method") != "HMAC-SHA1" or params.get("oauth_version", "1.0") != "1.0":
            raise _OAuthProblem("signature_method_rejected")
        stamp, nonce = params.get("oauth_timestamp", ""), params.get("oauth_nonce", "")
        if not stamp.isdigit() or abs(int(stamp) - time.time()) > TIMESTAMP_WINDOW_S:
            raise _OAuthProblem("timestamp_refused")
        if not nonce:
            raise _OAuthProblem("parameter_absent")
        token_key = params.get("oauth_token", "")
        token_secret = ""
        record: Any = consumer
        path = request.url.path
        if path.endswith("/request_token"):
            if params.get("oauth_callback") != "oob":
                raise _OAuthProblem("parameter_rejected")
        elif path.endswith("/access_token"):
            pending = self._request_tokens.get(token_key)
            if pending is None or pending.consumer != consumer:
                raise _OAuthProblem("token_rejected")
            token_secret, record = pending.secret, pending
        elif token:
            access = self._access_tokens.get(token_key)
            if access is None or access.consumer != consumer:
                raise _OAuthProblem("token_rejected")
            token_secret, record = access.secret, access
        signed = [*params.items(), *request.query_params.multi_items()]
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            signed += parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
        expected = signature(
            base_string(request.method, str(request.url), signed), self._consumers[consumer], token_secret
        )
        if not hmac.compare_digest(expected.encode(), params.get("oauth_signature", "").encode()):
            raise _OAuthProblem("signature_invalid")
        if (consumer, stamp, nonce) in self._nonces:
            raise _OAuthProblem("nonce_used")
        self._nonces.add((consumer, stamp, nonce))
        if len(self._nonces) > 50_000:  # a long sandbox run: what left the timestamp window can never match again
            oldest = time.time() - TIMESTAMP_WINDOW_S
            self._nonces = {seen for seen in self._nonces if int(seen[1]) >= oldest}
        if isinstance(record, _AccessToken) and not renewing:
            state = self._state(record)
            if state == "expired":
                raise _OAuthProblem("token_expired")
            if state != "active":
                raise _OAuthProblem("token_rejected")
            record.last_used = time.time()
        return record

    # -- OAuth endpoints -------------------------------------------------------------------------------
    def _request_token(self, _r: Request, _b: bytes, consumer: str, _f: Fault | None, _j: bool) -> Response:
        token, secret = _token_text(), _token_text()
        self._request_tokens[token] = _RequestToken(secret, consumer)
        body = urlencode({"oauth_token": token, "oauth_token_secret": secret, "oauth_callback_confirmed": "true"})
        return PlainTextResponse(body, media_type="application/x-www-form-urlencoded")

    def _access_token(self, request: Request, _b: bytes, pending: _RequestToken, _f: Fault | None, _j: bool) -> Any:
        verifier = _oauth_params(request.headers.get("authorization", "")).get("oauth_verifier", "")
        if pending.used or time.time() - pending.created > REQUEST_TOKEN_TTL_S:
            raise _OAuthProblem("token_expired")
        if pending.verifier is None or pending.user is None:
            raise _OAuthProblem("permission_unknown")
        if not hmac.compare_digest(verifier.encode(), pending.verifier.encode()):
            raise _OAuthProblem("verifier_invalid")
        pending.used = True
        token, secret = _token_text(), _token_text()
        self._access_tokens[token] = _AccessToken(secret, pending.consumer, pending.user, _eastern_day())
        body = urlencode({"oauth_token": token, "oauth_token_secret": secret})
        return PlainTextResponse(body, media_type="application/x-www-form-urlencoded")

    def _renew(self, _r: Request, _b: bytes, access: _AccessToken, _f: Fault | None, _j: bool) -> Response:
        state = self._state(access)
        if state in ("expired", "revoked"):
            raise _OAuthProblem("token_expired" if state == "expired" else "token_rejected")
        access.idle, access.last_used = False, time.time()
        return PlainTextResponse("Access Token has been renewed")

    def _revoke(self, _r: Request, _b: bytes, access: _AccessToken, _f: Fault | None, _j: bool) -> Response:
        access.revoked = True
        return PlainTextResponse("Revoked Access Token")

    async def _authorize_page(self, request: Request) -> Response:
        key, token = request.query_params.get("key", ""), request.query_params.get("token", "")
        # pyetrade puts the token into this URL unencoded, so a '+' of the base64 token arrives as a space.
        token = token.replace(" ", "+")
        with self._lock:
            pending = self._request_tokens.get(token)
            if pending is None or pending.consumer != key:
                return HTMLResponse("<html><body><p>Invalid request.</p></body></html>", 400)
        verifier = self.authorize(token)
        return HTMLResponse(
            "<html><body><p>Please enter this verification code in the application:</p>"
            f'<input type="text" value="{verifier}" readonly></body></html>'
        )

    # -- accounts and orders ---------------------------------------------------------------------------
    def _list_accounts(self, _r: Request, _b: bytes, access: _AccessToken, _f: Fault | None, _j: bool) -> Any:
        mine = [a for a in self._accounts.values() if a.user == access.user]
        entries = [
            {
                "accountId": a.number,
                "accountIdKey": a.key,
                "accountMode": "MARGIN",
                "accountDesc": "INDIVIDUAL",
                "accountName": "",
                "accountType": "INDIVIDUAL",
                "institutionType": "BROKERAGE",
                "accountStatus": "ACTIVE",
                "closedDate": 0,
            }
            for a in mine
        ]
        return {"AccountListResponse": {"Accounts": {"Account": entries}}}

    def _account(self, request: Request, access: _AccessToken) -> _Account:
        account = self._accounts.get(request.path_params["key"])
        if account is None:
            raise _Refusal(400, *INVALID_ACCOUNT)
        if account.user != access.user:
            raise _Refusal(400, *NOT_YOUR_ACCOUNT)
        return account

    def _list_orders(self, request: Request, _b: bytes, access: _AccessToken, _f: Fault | None, _j: bool) -> Any:
        account = self._account(request, access)
        params = request.query_params
        wanted = params.get("status")
        mine = [o for o in self._orders.values() if o.account == account.key and (not wanted or o.status == wanted)]
        days = [params.get(name) for name in ("fromDate", "toDate")]
        if any(days):
            try:
                start, end = (datetime.strptime(d or "", "%m%d%Y").date() for d in days)
            except ValueError:
                raise _Refusal(400, *INVALID_DATES) from None
            if start > end:
                raise _Refusal(400, *INVALID_DATES)
            mine = [o for o in mine if start <= _day_of(o.placed_ms) <= end]
        count = params.get("count") or "25"
        if not count.isdigit() or not 1 <= int(count) <= 100:
            raise _Refusal(400, *INVALID_COUNT)
        mine.sort(key=lambda o: o.id, reverse=True)  # newest first: E*TRADE numbers orders as they come
        marker = params.get("marker")
        if marker:
            if not marker.isdigit():
                raise _Refusal(400, *INVALID_MARKER)
            mine = [o for o in mine if o.id <= int(marker)]
        if not mine:
            return Response(status_code=204)  # E*TRADE answers nothing at all when nothing matches
        page, rest = mine[: int(count)], mine[int(count) :]
        answer: dict[str, Any] = {"Order": [self._order_json(o) for o in page]}
        if rest:
            following = urlencode([*((k, v) for k, v in params.multi_items() if k != "marker"), ("marker", rest[0].id)])
            answer = {"marker": str(rest[0].id), "next": f"{str(request.url).split('?')[0]}?{following}", **answer}
        return {"OrdersResponse": answer}

    def _get(self, request: Request, _b: bytes, access: _AccessToken, _f: Fault | None, _j: bool) -> Any:
        account = self._account(request, access)
        text = request.path_params["order_id"].removesuffix(".json")
        order = self._orders.get(int(text)) if text.isdigit() else None
        if order is None or order.account != account.key:
            return Response(status_code=204)
        return {"OrdersResponse": {"Order": [self._order_json(order)]}}

    def _preview(self, request: Request, raw: bytes, access: _AccessToken, _f: Fault | None, _j: bool) -> Any:
        account = self._account(request, access)
        body = _order_request(request, raw, "PreviewOrderRequest")
        preview_id = next(self._ids)
        self._previews[preview_id] = (account.key, body)
        return {
            "PreviewOrderResponse": {
                "orderType": body.get("orderType", "EQ"),
                "Order": body.get("Order"),
                "PreviewIds": {"previewId": preview_id},
                "accountId": account.number,
                "previewTime": int(time.time() * 1000),
            }
        }

    def _place(self, request: Request, raw: bytes, access: _AccessToken, _f: Fault | None, _j: bool) -> Any:
        account = self._account(request, access)
        if not account.can_trade:
            raise _Refusal(403, *NO_TRADING)
        body = _order_request(request, raw, "PlaceOrderRequest")
        preview = str(_dig(body, "PreviewIds", "previewId") or "")
        if not preview.isdigit() or self._previews.pop(int(preview), (None,))[0] != account.key:
            raise _Refusal(400, 101, "For your protection, we have timed out your original order request.")
        spec = body.get("Order") or {}
        spec = spec[0] if isinstance(spec, list) else spec
        instrument = spec.get("Instrument") or {}
        instrument = instrument[0] if isinstance(instrument, list) else instrument
        symbol = str(_dig(instrument, "Product", "symbol") or spec.get("symbol") or "")
        action = str(instrument.get("orderAction") or spec.get("orderAction") or "")
        qty = positive_decimal(instrument.get("quantity") or spec.get("quantity"))
        price_type = str(spec.get("priceType") or "")
        limit = positive_decimal(spec.get("limitPrice"))
        if not symbol or action not in ("BUY", "SELL", "BUY_TO_COVER", "SELL_SHORT") or qty is None:
            raise _Refusal(400, 1019, "Please enter a valid symbol, action and quantity.")
        if price_type not in ("MARKET", "LIMIT") or (price_type == "LIMIT" and limit is None):
            raise _Refusal(400, 1020, "Please enter a valid price type and limit price.")
        order = self._new_order(account.key, symbol, action, qty, price_type, limit, str(spec.get("orderTerm") or ""))
        return {
            "PlaceOrderResponse": {
                "orderType": body.get("orderType", "EQ"),
                "Order": body.get("Order"),
                "OrderIds": {"orderId": order.id},
                "placedTime": order.placed_ms,
                "accountId": account.number,
            }
        }

    def _cancel(self, request: Request, raw: bytes, access: _AccessToken, fault: Fault | None, _j: bool) -> Any:
        account = self._account(request, access)
        body = _order_request(request, raw, "CancelOrderRequest")
        text = str(body.get("orderId", ""))
        order = self._orders.get(int(text)) if text.isdigit() else None
        if order is None or order.account != account.key:
            raise _Refusal(400, *UNKNOWN_ORDER)
        if not account.can_trade:
            raise _Refusal(403, *NO_TRADING)
        if order.status == "CANCELLED":
            raise _Refusal(400, *ALREADY_CANCELLED)
        if order.status not in ("OPEN", "CANCEL_REQUESTED"):
            raise _Refusal(400, *NOT_CANCELABLE)
        if fault is not None and fault.kind == "pending":
            order.status = "CANCEL_REQUESTED"
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        elif order.status == "OPEN":
            order.status = "CANCELLED"
        return {
            "CancelOrderResponse": {
                "accountId": account.number,
                "orderId": order.id,
                "cancelTime": int(time.time() * 1000),
                "Messages": {
                    "Message": [
                        {
                            "description": "200|Your request to cancel your order is being processed.",
                            "code": CANCEL_ACK_CODE,
                            "type": "WARNING",
                        }
                    ]
                },
            }
        }

    def _settle(self, order_id: int) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.status == "CANCEL_REQUESTED":
                order.status = "CANCELLED"

    def _new_order(
        self, account: str, symbol: str, action: str, qty: Decimal, price_type: str, limit: Decimal | None, term: str
    ) -> _Order:
        order = _Order(next(self._ids), account, symbol, action, qty, price_type, limit, term or "GOOD_FOR_DAY")
        self._orders[order.id] = order
        if price_type == "MARKET":
            self._fill(order, None)
        return order

    def _fill(self, order: _Order, volume: Decimal | None) -> None:
        remaining = order.qty - order.filled
        step = remaining if volume is None or volume >= remaining else volume
        price = order.limit or self.market_price
        total = order.filled + step
        order.average = ((order.average or Decimal(0)) * order.filled + price * step) / total
        order.filled = total
        order.executed_ms = int(time.time() * 1000)
        if total >= order.qty:
            order.status = "EXECUTED"

    def _order_json(self, order: _Order) -> dict[str, Any]:
        return {
            "orderId": order.id,
            "details": f"/v1/accounts/{order.account}/orders/{order.id}.json",
            "orderType": "EQ",
            "OrderDetail": [
                {
                    "placedTime": order.placed_ms,
                    **({"executedTime": order.executed_ms} if order.executed_ms else {}),
                    "orderValue": float(order.qty * (order.limit or self.market_price)),
                    "status": order.status,
                    "orderTerm": order.term,
                    "priceType": order.price_type,
                    "limitPrice": _decimal_text(order.limit) or 0,
                    "stopPrice": 0,
                    "marketSession": "REGULAR",
                    "allOrNone": False,
                    "Instrument": [
                        {
                            "symbolDescription": f"{order.symbol} COM",
                            "orderAction": order.action,
                            "quantityType": "QUANTITY",
                            "orderedQuantity": float(order.qty),
                            "filledQuantity": float(order.filled),
                            **({"averageExecutionPrice": float(order.average)} if order.average else {}),
                            "estimatedCommission": 0.0,
                            "estimatedFees": 0.0,
                            "Product": {"symbol": order.symbol, "securityType": "EQ"},
                        }
                    ],
                }
            ],
        }

    # -- control ---------------------------------------------------------------------------------------
    def _c_authorize(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        account = body.get("accountIdKey")
        with self._lock:
            user = self._accounts[account].user if account else None
        return {"verifier": self.authorize(str(body["token"]), user)}

    def _c_token(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        token, state = str(body["token"]), str(body.get("state", ""))
        if state == "inactive":
            self.idle(token)
        elif state == "expired":
            self.expire(token)
        elif state:
            raise ValueError("state is 'inactive' or 'expired'")
        return {"state": self.token_state(token)}


def _oauth_params(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "oauth":
        return {}
    params: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        if name and value.startswith('"') and value.endswith('"') and len(value) >= 2:
            params[unquote(name)] = unquote(value[1:-1])
    return params


def _wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json"):
        return True
    return "json" in request.headers.get("accept", "") or "json" in request.headers.get("content-type", "")


def _render(payload: dict[str, Any], status: int, as_json: bool) -> Response:
    if as_json:
        return JSONResponse(payload, status)
    return Response(to_xml(payload), status, media_type="application/xml")


def _order_request(request: Request, raw: bytes, root: str) -> dict[str, Any]:
    """The request body, JSON or XML as Content-Type says; the named root element unwrapped."""
    try:
        parsed = from_xml(raw) if "xml" in request.headers.get("content-type", "") else json.loads(raw)
    except ValueError:
        raise _Refusal(400, 1000, "The request could not be parsed.") from None
    inner = parsed.get(root) if isinstance(parsed, dict) else None
    if not isinstance(inner, dict):
        raise _Refusal(400, 1000, f"{root} is required.")
    return inner


def _dig(value: Any, *names: str) -> Any:
    for name in names:
        value = value.get(name) if isinstance(value, dict) else None
    return value
