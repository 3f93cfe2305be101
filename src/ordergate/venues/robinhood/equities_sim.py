"""The equities half of the Robinhood simulator: a local api.robinhood.com for the login and order calls the apps
(and robin_stocks) make. Composed into `RobinhoodSimulator` (simulator.py), which serves these routes beside the
crypto ones; this is no SimulatorBase of its own (the sandbox mounts one simulator per family).

    POST /oauth2/token/                              op "token": password grant (+ mfa_code, or the
                                                     X-ROBINHOOD-CHALLENGE-RESPONSE-ID header) and refresh grant
    POST /challenge/{id}/respond/                    op "respond": {response: code}
    POST /pathfinder/user_machine/                   op "user_machine": starts the verification workflow
    GET  /pathfinder/inquiries/{id}/user_view/       op "user_view": names the sheriff challenge
    POST /pathfinder/inquiries/{id}/user_view/       op "user_view": continue, approved once the code was right
    GET  /accounts/                                  op "accounts"
    GET  /orders/                                    op "equities_orders": account_numbers, updated_at[gte],
                                                     cursor; newest first, `next` a URL with the next cursor
    GET  /orders/{id}/                               op "equities_lookup"
    POST /orders/{id}/cancel/                        op "equities_cancel" (needs the trade permission)

A login verifies a new device in one of three ways (`verification`): "workflow" (today's pathfinder flow, a code by
sms or email), "challenge" (the older challenge answered, then the token request repeated with the header), "mfa"
(an authenticator app's code as `mfa_code`); an approved device logs in without one. Bearers expire
(`token_lifetime_s`, by the simulator's clock); a refresh rotates both tokens and revokes the old ones. The codes
"sent" to the user are in `sent_codes`. Wordings Robinhood does not publish are DRF-style `{"detail": …}`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.robinhood.constants import (
    CHALLENGE_HEADER,
    CLIENT_ID,
    EQUITY_STATUS_MAP,
    KIND,
    KIND_EQUITIES,
    ORDER_ID,
    WORKFLOW_APPROVED,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, positive_decimal

HOST = "https://api.robinhood.com"
_BAD_LOGIN = "Unable to log in with provided credentials."
_BAD_TOKEN = "Incorrect authentication credentials."
_NO_TOKEN = "Authentication credentials were not provided."
_SYMBOLIC: dict[str, tuple[int, str]] = {
    "auth": (401, _BAD_TOKEN),
    "permission": (403, "You do not have permission to perform this action."),
    "restricted": (403, "You do not have permission to perform this action."),
    "unavailable": (503, "Service unavailable, try again later."),
}


def detail(text: str, status: int, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": text}, status_code=status, headers=headers or None)


class _Refusal(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.status, self.body = status, body


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class Login:
    username: str
    password: str
    verification: str | None  # "workflow", "challenge", "mfa" or None
    channel: str  # where codes go: "sms" or "email"
    can_trade: bool
    accounts: list[str]
    fixed_code: str | None = None
    devices: set[str] = field(default_factory=set)  # approved device tokens


@dataclass(slots=True)
class _Session:
    access: str
    refresh: str
    username: str
    device: str
    expires_at: float
    revoked: bool = False


@dataclass(slots=True)
class _Challenge:
    id: str
    username: str
    device: str
    type: str
    code: str
    status: str = "issued"
    attempts_left: int = 3

    def as_robinhood(self) -> dict[str, Any]:
        return {"id": self.id, "user": self.username, "type": self.type, "alternate_type": "email",
                "status": self.status, "remaining_retries": 5, "remaining_attempts": self.attempts_left}  # fmt: skip


@dataclass(slots=True)
class _Workflow:
    id: str
    username: str
    device: str
    challenge: _Challenge | None = None


@dataclass(slots=True)
class _Order:
    id: str
    account: str
    side: str
    quantity: Decimal
    price: Decimal
    created: float
    executions: list[tuple[Decimal, Decimal, float]] = field(default_factory=list)
    cancelled: bool = False
    updated: float = 0.0

    @property
    def executed(self) -> Decimal:
        return sum((q for _, q, _ in self.executions), Decimal(0))

    @property
    def live(self) -> bool:
        return not self.cancelled and self.executed < self.quantity

    def state(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.executed >= self.quantity:
            return "filled"
        return "partially_filled" if self.executions else "confirmed"

    def as_robinhood(self) -> dict[str, Any]:
        executed = self.executed
        average = sum((p * q for p, q, _ in self.executions), Decimal(0)) / executed if executed else None
        instrument = "450dfc6d-5510-4d40-abfb-f633b7d9be3e"
        return {"id": self.id, "ref_id": self.id, "url": f"{HOST}/orders/{self.id}/",
                "account": f"{HOST}/accounts/{self.account}/", "instrument": f"{HOST}/instruments/{instrument}/",
                "instrument_id": instrument,
                "cancel": f"{HOST}/orders/{self.id}/cancel/" if self.live else None,
                "side": self.side, "type": "limit", "trigger": "immediate", "time_in_force": "gtc",
                "state": self.state(), "quantity": f"{self.quantity:.8f}", "cumulative_quantity": f"{executed:.8f}",
                "price": f"{self.price:.8f}", "average_price": f"{average:.8f}" if average is not None else None,
                "fees": "0.00",
                "executions": [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.id}:{i}")), "price": f"{p:.8f}",
                                "quantity": f"{q:.8f}", "timestamp": _iso(t)}
                               for i, (p, q, t) in enumerate(self.executions)],
                "created_at": _iso(self.created), "updated_at": _iso(self.updated or self.created),
                "last_transaction_at": _iso(self.updated or self.created)}  # fmt: skip


class EquitiesBook:
    """Logins, sessions, challenges and equities orders, served through the owning simulator's `serve_op`."""

    def __init__(self, sim: SimulatorBase, clock: Callable[[], float], token_lifetime_s: float = 86400) -> None:
        self.sim = sim
        self.clock = clock
        self.token_lifetime_s = token_lifetime_s
        self.logins: dict[str, Login] = {}
        self.sessions: dict[str, _Session] = {}  # by access token
        self.refresh_tokens: dict[str, _Session] = {}
        self.challenges: dict[str, _Challenge] = {}
        self.workflows: dict[str, _Workflow] = {}
        self.machines: dict[str, _Workflow] = {}
        self.orders: dict[str, _Order] = {}
        self.account_owner: dict[str, str] = {}
        self.sent_codes: dict[str, str] = {}  # username -> the last code "sent" by sms or email

    def routes(self) -> list[Route]:
        table = [
            ("/oauth2/token/", "POST", "token", self._token),
            ("/challenge/{id}/respond/", "POST", "respond", self._respond),
            ("/pathfinder/user_machine/", "POST", "user_machine", self._user_machine),
            ("/pathfinder/inquiries/{id}/user_view/", "GET", "user_view", self._user_view),
            ("/pathfinder/inquiries/{id}/user_view/", "POST", "user_view", self._continue),
            ("/accounts/", "GET", "accounts", self._accounts),
            ("/orders/", "GET", "equities_orders", self._list),
            ("/orders/{id}/", "GET", "equities_lookup", self._lookup),
            ("/orders/{id}/cancel/", "POST", "equities_cancel", self._cancel),
        ]
        return [Route(path, self._endpoint(op, handler), methods=[method]) for path, method, op, handler in table]

    # -- the kit's and the sandbox's view --------------------------------------------------------------------
    def add_login(self, username: str, password: str, *, verification: str | None = "workflow", channel: str = "sms",
                  can_trade: bool = True, code: str | None = None, accounts: int = 1) -> Login:  # fmt: skip
        numbers = [f"5QR{secrets.randbelow(9 * 10**7) + 10**7}" for _ in range(accounts)]
        login = Login(username, password, verification, channel, can_trade, numbers, code)
        with self.sim._lock:
            self.logins[username] = login
            for number in numbers:
                self.account_owner[number] = username
        return login

    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        """A login already connected (no verification), as the sealed authToken holds it: bearer + refresh."""
        login = self.add_login(f"user-{secrets.token_hex(6)}@example.com", secrets.token_urlsafe(12),
                               verification=None, can_trade=can_trade)  # fmt: skip
        device = str(uuid.uuid4())
        with self.sim._lock:
            session = self._issue(login.username, device)
        number = login.accounts[0]
        extras = {KIND: KIND_EQUITIES, "device_token": device, "account_number": number,
                  "account_url": f"{HOST}/accounts/{number}/"}  # fmt: skip
        return SimAccount(session.access, session.refresh, extras=extras)

    def owns_bearer(self, access: str) -> bool:
        return access in self.sessions

    def place(self, access: str, *, quantity: str = "1", price: str = "100", side: str = "buy") -> str:
        amount, limit = positive_decimal(quantity), positive_decimal(price)
        session = self.sessions.get(access)
        if session is None or amount is None or limit is None:
            raise ValueError("unknown bearer, or invalid quantity or price")
        return self.place_for(self.logins[session.username].accounts[0], quantity=str(amount), price=str(limit),
                              side=side)  # fmt: skip

    def place_for(self, account: str, *, quantity: str = "1", price: str = "100", side: str = "buy") -> str:
        amount, limit = positive_decimal(quantity), positive_decimal(price)
        if account not in self.account_owner or amount is None or limit is None:
            raise ValueError("unknown account, or invalid quantity or price")
        with self.sim._lock:
            order = _Order(str(uuid.uuid4()), account, side, amount, limit, self.clock())
            self.orders[order.id] = order
            return order.id

    def fill(self, order_id: str, volume: str | None) -> None:
        with self.sim._lock:
            order = self.orders[order_id]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.state()}")
            remaining = order.quantity - order.executed
            part = positive_decimal(volume) if volume is not None else None
            now = self.clock()
            order.executions.append((order.price, remaining if part is None or part >= remaining else part, now))
            order.updated = now

    def status(self, order_id: str) -> OrderStatus:
        with self.sim._lock:
            return EQUITY_STATUS_MAP[self.orders[order_id].state()]

    def describe(self, order_id: str) -> dict[str, Any]:
        with self.sim._lock:
            return self.orders[order_id].as_robinhood()

    def revoke(self, access: str) -> None:
        """What a password change or "log out everywhere" does: the session's bearer and refresh token both die."""
        with self.sim._lock:
            session = self.sessions.get(access)
            if session is not None:
                session.revoked = True

    def render_error(self, error_name: str) -> Response:
        if error_name in ("rate_limit", "ban"):
            return detail("Request was throttled. Expected available in 13 seconds.", 429, **{"Retry-After": "13"})
        status, text = _SYMBOLIC.get(error_name, (400, error_name))
        return detail(text, status)

    # -- protocol ----------------------------------------------------------------------------------------------
    def _endpoint(self, op: str, handler: Callable[..., Response]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            form = _payload(request, await request.body())
            key = _bearer(request) or form.get("username") or form.get("refresh_token") or \
                request.path_params.get("id", "")  # fmt: skip

            async def process(fault: Fault | None) -> Response:
                with self.sim._lock:
                    try:
                        return handler(request, form, fault)
                    except _Refusal as refusal:
                        self.sim.errors[str(refusal.body)[:80]] += 1
                        return JSONResponse(refusal.body, status_code=refusal.status)

            return await self.sim.serve_op(request, op, str(key), process)

        return endpoint

    def _issue(self, username: str, device: str) -> _Session:
        session = _Session(secrets.token_urlsafe(32), secrets.token_urlsafe(24), username, device,
                           self.clock() + self.token_lifetime_s)  # fmt: skip
        self.sessions[session.access] = session
        self.refresh_tokens[session.refresh] = session
        return session

    def _tokens(self, session: _Session) -> JSONResponse:
        return JSONResponse({"access_token": session.access, "token_type": "Bearer",
                             "expires_in": int(self.token_lifetime_s), "refresh_token": session.refresh,
                             "scope": "internal", "mfa_code": None, "backup_code": None})  # fmt: skip

    def _new_challenge(self, login: Login, device: str) -> _Challenge:
        code = login.fixed_code or f"{secrets.randbelow(10**6):06d}"
        challenge = _Challenge(str(uuid.uuid4()), login.username, device, login.channel, code)
        self.challenges[challenge.id] = challenge
        self.sent_codes[login.username] = code
        return challenge

    def _token(self, request: Request, form: dict[str, Any], _f: Fault | None) -> Response:
        if form.get("client_id") != CLIENT_ID:
            raise _Refusal(401, {"error": "invalid_client"})
        grant = form.get("grant_type")
        if grant == "refresh_token":
            old = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if old is None or old.revoked:
                raise _Refusal(400, {"error": "invalid_grant"})
            old.revoked = True  # rotation: the old bearer and refresh token are spent
            return self._tokens(self._issue(old.username, old.device))
        if grant != "password":
            raise _Refusal(400, {"error": "unsupported_grant_type"})
        login = self.logins.get(str(form.get("username", "")))
        if login is None or not _same(login.password, form.get("password")):
            raise _Refusal(400, {"detail": _BAD_LOGIN})
        device = str(form.get("device_token") or "")
        if not device:
            raise _Refusal(400, {"device_token": ["This field is required."]})
        if login.verification is None or device in login.devices:
            return self._tokens(self._issue(login.username, device))
        if login.verification == "mfa":
            code = form.get("mfa_code")
            if not code:
                raise _Refusal(400, {"mfa_required": True, "mfa_type": "app"})
            if code != (login.fixed_code or self.sent_codes.get(login.username)):
                raise _Refusal(400, {"detail": "Please enter a valid code."})
            login.devices.add(device)
            return self._tokens(self._issue(login.username, device))
        if login.verification == "challenge":
            answered = self.challenges.get(request.headers.get(CHALLENGE_HEADER, ""))
            if answered and answered.status == "validated" and (answered.username, answered.device) == (
                login.username, device,
            ):  # fmt: skip
                login.devices.add(device)
                return self._tokens(self._issue(login.username, device))
            challenge = self._new_challenge(login, device)
            raise _Refusal(400, {"detail": "Request blocked, challenge type required.",
                                 "challenge": challenge.as_robinhood()})  # fmt: skip
        workflow = _Workflow(str(uuid.uuid4()), login.username, device)
        self.workflows[workflow.id] = workflow
        raise _Refusal(
            403, {"verification_workflow": {"id": workflow.id, "workflow_status": "workflow_status_internal_pending"}}
        )

    def _user_machine(self, request: Request, form: dict[str, Any], _f: Fault | None) -> Response:
        body = form
        workflow_id = body.get("input", {}).get("workflow_id") if isinstance(body.get("input"), dict) else None
        workflow = self.workflows.get(str(workflow_id))
        if workflow is None or body.get("device_id") != workflow.device or body.get("flow") != "suv":
            raise _Refusal(400, {"detail": "Invalid request."})
        if workflow.challenge is None:
            workflow.challenge = self._new_challenge(self.logins[workflow.username], workflow.device)
        machine = str(uuid.uuid5(uuid.NAMESPACE_URL, workflow.id))
        self.machines[machine] = workflow
        return JSONResponse({"id": machine})

    def _machine(self, request: Request) -> _Workflow:
        workflow = self.machines.get(request.path_params["id"])
        if workflow is None or workflow.challenge is None:
            raise _Refusal(404, {"detail": "Not found."})
        return workflow

    def _user_view(self, request: Request, _form: dict[str, Any], _f: Fault | None) -> Response:
        challenge = self._machine(request).challenge
        assert challenge is not None
        return JSONResponse({"context": {"sheriff_challenge": challenge.as_robinhood()}, "sequence": 0})

    def _continue(self, request: Request, form: dict[str, Any], _f: Fault | None) -> Response:
        workflow = self._machine(request)
        body = form
        if not isinstance(body.get("user_input"), dict) or body["user_input"].get("status") != "continue":
            raise _Refusal(400, {"detail": "Invalid request."})
        assert workflow.challenge is not None
        if workflow.challenge.status != "validated":
            return JSONResponse({"type_context": {"result": "workflow_status_internal_pending"}})
        self.logins[workflow.username].devices.add(workflow.device)
        return JSONResponse(
            {
                "type_context": {"result": WORKFLOW_APPROVED},
                "verification_workflow": {"id": workflow.id, "workflow_status": WORKFLOW_APPROVED},
            }
        )

    def _respond(self, request: Request, form: dict[str, Any], _f: Fault | None) -> Response:
        challenge = self.challenges.get(request.path_params["id"])
        if challenge is None:
            raise _Refusal(404, {"detail": "Not found."})
        if challenge.status != "issued":
            raise _Refusal(400, {"detail": "Challenge is no longer valid.", "challenge": challenge.as_robinhood()})
        if not _same(challenge.code, form.get("response")):
            challenge.attempts_left -= 1
            if challenge.attempts_left <= 0:
                challenge.status = "failed"
            raise _Refusal(400, {"detail": "Challenge response is invalid.", "challenge": challenge.as_robinhood()})
        challenge.status = "validated"
        return JSONResponse(challenge.as_robinhood())

    def _session(self, request: Request) -> _Session:
        access = _bearer(request)
        if not access:
            raise _Refusal(401, {"detail": _NO_TOKEN})
        session = self.sessions.get(access)
        if session is None or session.revoked or self.clock() >= session.expires_at:
            raise _Refusal(401, {"detail": _BAD_TOKEN})
        return session

    def _accounts(self, request: Request, _form: dict[str, Any], _f: Fault | None) -> Response:
        login = self.logins[self._session(request).username]
        results = [{"url": f"{HOST}/accounts/{n}/", "account_number": n, "type": "margin" if i == 0 else "cash",
                    "brokerage_account_type": "individual" if i == 0 else "ira_roth", "deactivated": False,
                    "buying_power": "1000.0000"} for i, n in enumerate(login.accounts)]  # fmt: skip
        return JSONResponse({"previous": None, "results": results, "next": None})

    def _mine(self, request: Request) -> tuple[Login, _Order]:
        login = self.logins[self._session(request).username]
        order_id = request.path_params["id"]
        order = self.orders.get(order_id) if ORDER_ID.fullmatch(order_id) else None
        if order is None or order.account not in login.accounts:
            raise _Refusal(404, {"detail": "Not found."})
        return login, order

    def _list(self, request: Request, _form: dict[str, Any], _f: Fault | None) -> Response:
        login = self.logins[self._session(request).username]
        params = request.query_params
        wanted = params.get("account_numbers")
        accounts = [a for a in login.accounts if not wanted or a in wanted.split(",")]
        mine = [o for o in self.orders.values() if o.account in accounts]
        if "updated_at[gte]" in params:
            since = parse_time(params["updated_at[gte]"])
            if since is None:
                raise _Refusal(400, {"updated_at[gte]": ["Enter a valid date/time."]})
            mine = [o for o in mine if (o.updated or o.created) >= since]
        try:
            rows, following = cursor_page(mine, params.get("cursor"), self.sim.page_size)  # type: ignore[attr-defined]
        except ValueError:
            raise _Refusal(400, {"detail": "Invalid cursor"}) from None
        base = str(request.url).split("?")[0]
        return JSONResponse({"previous": None, "results": [o.as_robinhood() for o in rows],
                             "next": f"{base}?{next_query(params, following)}" if following else None})  # fmt: skip

    def _lookup(self, request: Request, _form: dict[str, Any], _f: Fault | None) -> Response:
        return JSONResponse(self._mine(request)[1].as_robinhood())

    def _cancel(self, request: Request, _form: dict[str, Any], fault: Fault | None) -> Response:
        login, order = self._mine(request)
        if not login.can_trade:
            status, text = _SYMBOLIC["permission"]
            raise _Refusal(status, {"detail": text})
        if not order.live:
            raise _Refusal(400, {"detail": "Order cannot be cancelled."})
        if fault is not None and fault.kind == "pending":
            asyncio.get_running_loop().call_later(fault.seconds, self._settle, order.id)
        else:
            order.cancelled, order.updated = True, self.clock()
        return JSONResponse({})

    def _settle(self, order_id: str) -> None:
        with self.sim._lock:
            order = self.orders[order_id]
            if order.live:
                order.cancelled, order.updated = True, self.clock()


PAGE_SIZE = 100  # rows per listing page in both halves' simulators (Robinhood does not let clients choose)


def parse_time(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def cursor_page(orders: list[Any], cursor: str | None, size: int) -> tuple[list[Any], str | None]:
    """Newest first, keyset-paged: the cursor names the last row handed out, so orders placed meanwhile neither
    shift nor repeat later pages. Raises ValueError for a cursor this simulator did not issue."""
    ranked = sorted(orders, key=lambda o: (o.created, o.id), reverse=True)
    if cursor:
        created, _, order_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        after = (float(created), order_id)
        ranked = [o for o in ranked if (o.created, o.id) < after]
    rows = ranked[:size]
    more = len(ranked) > size
    return rows, base64.urlsafe_b64encode(f"{rows[-1].created!r}|{rows[-1].id}".encode()).decode() if more else None


def next_query(params: Any, cursor: str) -> str:
    return urlencode([*((k, v) for k, v in params.multi_items() if k != "cursor"), ("cursor", cursor)], safe="[]")


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _same(expected: str, given: Any) -> bool:
    return isinstance(given, str) and secrets.compare_digest(expected.encode(), given.encode())


def _payload(request: Request, raw: bytes) -> dict[str, Any]:
    """The request's fields: a JSON object (the pathfinder calls) or a form (the token and challenge calls)."""
    try:
        if "application/json" in request.headers.get("content-type", ""):
            body = json.loads(raw) if raw else {}
            return body if isinstance(body, dict) else {}
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError):
        return {}
