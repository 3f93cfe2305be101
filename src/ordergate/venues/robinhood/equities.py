"""The equities half of Robinhood: the app's private API at api.robinhood.com (Robinhood publishes none), logged in
as its apps and robin_stocks do (see constants.py for the sources).

Connecting is the OAuth password grant with a device token. When Robinhood wants a verification code the answer is
`mfaRequired`, with the device token and the challenge sealed into the challengeId; the repeated call with the code
answers the challenge and repeats the grant from the same device. Only the bearer and refresh tokens are sealed,
never the password.

A bearer expires (24 h). Robinhood answers 401; the adapter then refreshes once (grant_type=refresh_token) and
repeats the request. The client's authToken cannot be rewritten, so the refreshed tokens live in `BearerCache`, in
memory, keyed by a digest of the refresh token sealed in the authToken: later requests on that authToken use the
refreshed bearer at once. Each worker process has its own cache. Where Robinhood rotates refresh tokens (the
simulator assumes it does), a worker that has not seen another's refresh presents a spent refresh token, is refused,
and the user is asked to reconnect (documented in the README).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderSnapshot
from ordergate.venues.base import ChallengeIssued, Connected, ConnectStep, OrderPage, OrderQuery
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.robinhood import listing
from ordergate.venues.robinhood.constants import (
    ACCOUNTS_PATH,
    API_VERSION_HEADER,
    CANCEL_PATH,
    CHALLENGE_HEADER,
    CHALLENGE_RESPOND_PATH,
    CLIENT_ID,
    EQUITY_ORDER_TYPES,
    EQUITY_STATUS_MAP,
    EQUITY_TIME_IN_FORCE,
    KIND,
    KIND_EQUITIES,
    ORDER_PATH,
    RATE_LIMIT_S,
    SCOPE,
    THROTTLE_WAIT,
    TOKEN_LIFETIME_S,
    TOKEN_PATH,
    USER_MACHINE_PATH,
    USER_VIEW_PATH,
    WORKFLOW_APPROVED,
)
from ordergate.venues.transport import Transport, UpstreamResponse

VENUE = "Robinhood"
RECONNECT = "Robinhood no longer accepts this login's session; reconnect the account (log in again)."
_CACHE_MAX = 10_000


def new_device_token() -> str:
    """A device token as the apps make one: 16 random bytes in UUID layout (robin_stocks' generate_device_token)."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16)))


@dataclass(slots=True)
class _Session:
    access: str
    refresh: str


class BearerCache:
    """Refreshed bearers, keyed by a SHA-256 digest of the refresh token sealed in the client's authToken (the
    cache never holds that token itself). Bounded; the oldest entries go first."""

    def __init__(self, limit: int = _CACHE_MAX) -> None:
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}
        self.limit = limit

    @staticmethod
    def key(refresh_token: str) -> str:
        return hashlib.sha256(refresh_token.encode()).hexdigest()

    def get(self, key: str) -> _Session | None:
        return self._sessions.get(key)

    def put(self, key: str, session: _Session) -> None:
        self._sessions[key] = session
        self._sessions.move_to_end(key)
        while len(self._sessions) > self.limit:
            old, _ = self._sessions.popitem(last=False)
            self._locks.pop(old, None)

    def forget(self, key: str) -> None:
        self._sessions.pop(key, None)

    def lock(self, key: str) -> asyncio.Lock:
        # One refresh per authToken at a time: Robinhood rotates refresh tokens, so two concurrent refreshes from
        # the same token would have the second refused.
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


class EquitiesApi:
    def __init__(self, base_url: str, transport: Transport, integration: IntegrationType) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.integration = integration
        self.bearers = BearerCache()

    # -- connecting ----------------------------------------------------------------------------------------
    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected | ChallengeIssued:
        _require_login(creds)
        state = step.state or {}
        device = str(state.get("device_token") or new_device_token())
        extra_fields: dict[str, str] = {}
        headers: dict[str, str] = {}
        if state:
            code = (step.mfa_code or step.challenge_code or "").strip()
            if not code:
                raise GatewayError(
                    ErrorType.missingField,
                    "Send the verification code Robinhood sent as mfaCode, with the challengeId.",
                    error_data={"fields": {"mfaCode": "required with this challengeId"}},
                )
            flow = state.get("flow")
            if flow == "mfa":
                extra_fields["mfa_code"] = code
            elif flow == "challenge":
                await self._respond(creds, str(state["challenge_id"]), code)
                headers[CHALLENGE_HEADER] = str(state["challenge_id"])
            elif flow == "workflow":
                await self._respond(creds, str(state["challenge_id"]), code)
                await self._finish_workflow(creds, str(state["machine_id"]))
            else:
                raise GatewayError(
                    ErrorType.invalidField,
                    "This challengeId is not a Robinhood login challenge.",
                    error_data={"fields": {"challengeId": "not a Robinhood login challenge"}},
                )
        status, answer = await self._password_grant(creds, device, extra_fields, headers)
        if isinstance(answer, dict) and answer.get("access_token"):
            return await self._connected(creds, device, answer)
        return await self._challenge(creds, device, status, answer)

    async def _password_grant(
        self, creds: Credentials, device: str, extra: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, Any]:
        form = {
            "client_id": CLIENT_ID,
            "expires_in": str(TOKEN_LIFETIME_S),
            "grant_type": "password",
            "password": creds.secret,
            "scope": SCOPE,
            "username": creds.api_key,
            "device_token": device,
            "try_passkeys": "false",
            "token_request_path": "/login",
            "create_read_only_secondary_token": "true",
            **extra,
        }
        resp = await self._send("POST", TOKEN_PATH, form=form, headers=headers)
        return resp.status, _token_answer(resp, creds)

    async def _challenge(self, creds: Credentials, device: str, status: int, answer: Any) -> ChallengeIssued:
        if answer.get("mfa_required"):
            kind = str(answer.get("mfa_type") or "app")
            return ChallengeIssued(
                status="mfaRequired",
                message="Enter the code from your authenticator app." if kind == "app" else
                        f"Enter the code Robinhood sent by {kind}.",
                state={"flow": "mfa", "device_token": device},
                mfa_type="totp" if kind == "app" else kind,
            )  # fmt: skip
        challenge = answer.get("challenge")
        if isinstance(challenge, dict) and challenge.get("id"):
            kind = str(challenge.get("type") or "sms")
            return ChallengeIssued(
                status="mfaRequired",
                message=f"Enter the verification code Robinhood sent by {kind}.",
                state={"flow": "challenge", "device_token": device, "challenge_id": str(challenge["id"])},
                mfa_type=kind,
            )
        workflow = answer.get("verification_workflow")
        if isinstance(workflow, dict) and workflow.get("id"):
            return await self._start_workflow(creds, device, str(workflow["id"]))
        raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE} answered its login without a token",
                           upstream_status=status)  # fmt: skip

    async def _start_workflow(self, creds: Credentials, device: str, workflow_id: str) -> ChallengeIssued:
        body = {"device_id": device, "flow": "suv", "input": {"workflow_id": workflow_id}}
        machine = _json_object(await self._checked(creds, "POST", USER_MACHINE_PATH, payload=body))
        machine_id = str(machine.get("id") or "")
        if not machine_id:
            raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE} started no verification for this login")
        view = _json_object(await self._checked(creds, "GET", USER_VIEW_PATH.format(id=machine_id)))
        context = view.get("context") if isinstance(view.get("context"), dict) else {}
        challenge = context.get("sheriff_challenge") if isinstance(context, dict) else None
        if not isinstance(challenge, dict) or not challenge.get("id"):
            raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE} asked for a verification it did not name")
        kind = str(challenge.get("type") or "")
        if kind not in ("sms", "email"):
            raise GatewayError(
                ErrorType.authenticationNotSupported,
                f"Robinhood asked to verify this login by {kind or 'an unknown method'} (an approval in its app); "
                "ordergate can pass on sms and email codes only. Approve the device in the Robinhood app, then "
                "connect again.",
                error_data={"type": self.integration.value},
            )
        return ChallengeIssued(
            status="mfaRequired",
            message=f"Enter the verification code Robinhood sent by {kind}.",
            state={
                "flow": "workflow",
                "device_token": device,
                "challenge_id": str(challenge["id"]),
                "machine_id": machine_id,
            },  # fmt: skip
            mfa_type=kind,
        )

    async def _respond(self, creds: Credentials, challenge_id: str, code: str) -> None:
        resp = await self._send("POST", CHALLENGE_RESPOND_PATH.format(id=challenge_id), form={"response": code})
        answer = _loads(resp.body)
        if 200 <= resp.status < 300 and isinstance(answer, dict) and answer.get("status") == "validated":
            return
        if resp.status in (400, 401, 403) and isinstance(answer, dict):
            challenge = answer.get("challenge")
            left = challenge.get("remaining_attempts") if isinstance(challenge, dict) else None
            if isinstance(left, int) and left > 0:
                raise GatewayError(
                    ErrorType.mfaInvalid,
                    f"Robinhood did not accept the verification code ({left} attempts left); send the right code "
                    "with the same challengeId.",
                )
            raise GatewayError(ErrorType.institutionAuthFailed,
                               "Robinhood did not accept the verification code and allows no more attempts; log in "
                               "again for a new code.", upstream_status=resp.status)  # fmt: skip
        raise _failure(resp, creds, lookup=False, cancel=False)

    async def _finish_workflow(self, creds: Credentials, machine_id: str) -> None:
        body = {"sequence": 0, "user_input": {"status": "continue"}}
        view = _json_object(await self._checked(creds, "POST", USER_VIEW_PATH.format(id=machine_id), payload=body))
        context = view.get("type_context")
        result = context.get("result") if isinstance(context, dict) else None
        if result != WORKFLOW_APPROVED:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                "Robinhood did not approve this login after the verification code; log in again.",
            )

    async def _connected(self, creds: Credentials, device: str, answer: dict[str, Any]) -> Connected:
        access, refresh = str(answer["access_token"]), str(answer.get("refresh_token") or "")
        session = Credentials(self.integration, access, refresh, extras={KIND: KIND_EQUITIES, "device_token": device})
        listed = _json_object(await self._checked(session, "GET", ACCOUNTS_PATH, bearer=access))
        accounts = []
        for row in listed.get("results") or []:
            if not isinstance(row, dict) or not row.get("account_number") or row.get("deactivated"):
                continue
            number = str(row["account_number"])
            kind = str(row.get("brokerage_account_type") or row.get("type") or "")
            accounts.append(
                AccountInfo(
                    number,
                    f"{VENUE} {kind}".strip(),
                    {"account_number": number, "account_url": str(row.get("url") or "")},
                )
            )
        if not accounts:
            raise GatewayError(
                ErrorType.institutionUnavailable, f"{VENUE} answered no brokerage account for this login"
            )
        lifetime = answer.get("expires_in")
        return Connected(session, tuple(accounts), lifetime if isinstance(lifetime, int) and lifetime > 0 else None)

    async def refresh(self, creds: Credentials) -> Credentials:
        """`/token/refresh`: the refresh grant, whose new bearer and refresh token are sealed in place of the old
        ones (Robinhood spends the old refresh token). The old authToken keeps working in this process: the cache
        maps it to the new session."""
        key = self.bearers.key(creds.secret) if creds.secret else ""
        if not key:
            raise GatewayError(ErrorType.institutionAuthFailed, RECONNECT)
        cached = self.bearers.get(key)
        await self._refresh(creds, key, failed=cached.access if cached else creds.api_key)
        session = self.bearers.get(key)
        assert session is not None  # _refresh caches what it got, or raises
        return Credentials(self.integration, session.access, session.refresh, extras=dict(creds.extras))

    # -- orders --------------------------------------------------------------------------------------------
    async def cancel(self, creds: Credentials, order_id: str) -> CancelAck:
        resp = await self._authorized(creds, "POST", CANCEL_PATH.format(id=order_id))
        if 200 <= resp.status < 300:
            # `{}`: Robinhood took the request; the order reaches `cancelled` when the exchange confirms.
            return CancelAck(order_id, OrderStatus.inProgress, resp.status)
        raise _failure(resp, creds, lookup=False, cancel=True)

    async def get_order(self, creds: Credentials, order_id: str) -> OrderSnapshot | None:
        resp = await self._authorized(creds, "GET", ORDER_PATH.format(id=order_id))
        if not 200 <= resp.status < 300:
            failure = _failure(resp, creds, lookup=True, cancel=False)
            if isinstance(failure, UnknownOrderAtVenue):
                return None
            raise failure
        answer = _loads(resp.body)
        if not isinstance(answer, dict) or str(answer.get("id")) != order_id:
            raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE}'s order answer is not this order",
                               upstream_status=resp.status)  # fmt: skip
        return snapshot(order_id, answer)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        number = str(creds.extras.get("account_number") or "")
        if not number:
            raise GatewayError(ErrorType.invalidAuthToken, "This Robinhood authToken names no brokerage account; "
                               "connect the account again.")  # fmt: skip
        path, skip = listing.equities_path(query, number)
        resp = await self._authorized(creds, "GET", path)
        if not 200 <= resp.status < 300:
            raise _failure(resp, creds, lookup=False, cancel=False)
        answer = _loads(resp.body)
        if isinstance(answer, dict) and isinstance(answer.get("results"), list):
            # `account_numbers` narrows the list; an order of another account of the login never leaves here.
            url = str(creds.extras.get("account_url") or "")
            answer["results"] = [r for r in answer["results"] if isinstance(r, dict) and _owned(r, number, url)]
        return listing.page(answer, query, skip, snapshot, VENUE)

    # -- transport -----------------------------------------------------------------------------------------
    async def _authorized(self, creds: Credentials, method: str, path: str) -> UpstreamResponse:
        """A bearer request; on a 401, one refresh and one repeat (see the module doc)."""
        key = self.bearers.key(creds.secret) if creds.secret else ""
        cached = self.bearers.get(key) if key else None
        bearer = cached.access if cached else creds.api_key
        resp = await self._send(method, path, bearer=bearer)
        if resp.status != 401 or not key:
            return resp
        bearer = await self._refresh(creds, key, failed=bearer)
        return await self._send(method, path, bearer=bearer)

    async def _refresh(self, creds: Credentials, key: str, *, failed: str) -> str:
        async with self.bearers.lock(key):
            cached = self.bearers.get(key)
            if cached is not None and cached.access != failed:
                return cached.access  # another request refreshed while this one waited
            refresh = cached.refresh if cached else creds.secret
            form = {
                "client_id": CLIENT_ID,
                "expires_in": str(TOKEN_LIFETIME_S),
                "grant_type": "refresh_token",
                "refresh_token": refresh,
                "scope": SCOPE,
                "device_token": str(creds.extras.get("device_token") or ""),
            }
            resp = await self._send("POST", TOKEN_PATH, form=form)
            answer = _loads(resp.body)
            if 200 <= resp.status < 300 and isinstance(answer, dict) and answer.get("access_token"):
                session = _Session(str(answer["access_token"]), str(answer.get("refresh_token") or refresh))
                self.bearers.put(key, session)
                return session.access
            if resp.status in (400, 401, 403):
                self.bearers.forget(key)
                raise GatewayError(ErrorType.institutionAuthFailed, RECONNECT, upstream_status=resp.status)
            raise _failure(resp, creds, lookup=False, cancel=False)

    async def _checked(self, creds: Credentials, method: str, path: str, *, payload: Any = None,
                       bearer: str | None = None) -> Any:  # fmt: skip
        resp = await self._send(method, path, payload=payload, bearer=bearer)
        if 200 <= resp.status < 300:
            answer = _loads(resp.body)
            if answer is not None:
                return answer
            raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE} answered an unreadable body",
                               upstream_status=resp.status)  # fmt: skip
        raise _failure(resp, creds, lookup=False, cancel=False)

    async def _send(self, method: str, path: str, *, form: dict[str, str] | None = None, payload: Any = None,
                    bearer: str | None = None, headers: dict[str, str] | None = None) -> UpstreamResponse:  # fmt: skip
        sent = {"Accept": "application/json", API_VERSION_HEADER[0]: API_VERSION_HEADER[1], **(headers or {})}
        body = b""
        if form is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            body = urlencode(form).encode()
        elif payload is not None:
            sent["Content-Type"] = "application/json"
            body = json.dumps(payload, separators=(",", ":")).encode()
        if bearer is not None:
            sent["Authorization"] = f"Bearer {bearer}"
        return await self.transport.send(method, self.base_url + path, headers=sent, body=body)


def _require_login(creds: Credentials) -> None:
    missing = [name for name, value in (("username", creds.api_key), ("password", creds.secret)) if not value]
    if missing:
        raise GatewayError(
            ErrorType.missingField,
            "username and password (the Robinhood login) are required.",
            error_data={"fields": {name: "required" for name in missing}},
        )


def _owned(row: dict[str, Any], number: str, url: str) -> bool:
    account = str(row.get("account") or "")
    return account == url if url else account.rstrip("/").rsplit("/", 1)[-1] == number


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else {}
    except ValueError:
        return None


def _json_object(answer: Any) -> dict[str, Any]:
    if not isinstance(answer, dict):
        raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE} answered an unexpected body")
    return answer


def _token_answer(resp: UpstreamResponse, creds: Credentials) -> dict[str, Any]:
    """The token endpoint's answer when it is a token or a request for verification; a GatewayError else."""
    answer = _loads(resp.body)
    if isinstance(answer, dict) and resp.status in (200, 400, 401, 403):
        if answer.get("access_token") or answer.get("mfa_required") or isinstance(answer.get("challenge"), dict) \
                or isinstance(answer.get("verification_workflow"), dict):  # fmt: skip
            return answer
        if resp.status in (400, 401):  # "Unable to log in with provided credentials.", a wrong mfa_code…
            detail = _scrub(str(answer.get("detail") or answer.get("error") or ""), creds)
            raise GatewayError(ErrorType.institutionAuthFailed,
                               f"{VENUE} refused the login: {detail or 'wrong username or password'}",
                               upstream_status=resp.status)  # fmt: skip
    raise _failure(resp, creds, lookup=False, cancel=False)


def _failure(resp: UpstreamResponse, creds: Credentials, *, lookup: bool, cancel: bool) -> Exception:
    status = resp.status
    answer = _loads(resp.body)
    drf = isinstance(answer, dict)  # Robinhood's own `{"detail": …}`, not an error page from a proxy
    detail = str(answer.get("detail") or "") if drf else ""
    text = _scrub(detail, creds) or f"HTTP {status}"
    message = f"{VENUE} answered {text}"
    if drf and (cancel or lookup) and status == 404:
        return UnknownOrderAtVenue(status, text)
    if drf and cancel and status == 400:  # a filled, cancelled, rejected or failed order: only a lookup tells
        return UnknownOrderAtVenue(status, text)
    if status == 401:
        return GatewayError(ErrorType.institutionAuthFailed, RECONNECT, upstream_status=status)
    if status == 403 and drf:
        return GatewayError(ErrorType.institutionPermissionDenied, message, upstream_status=status)
    if status == 429:
        return GatewayError(ErrorType.rateLimited, message, retry_after=_retry_after(resp, detail),
                            upstream_status=status)  # fmt: skip
    if drf and 400 <= status < 500:
        return GatewayError(ErrorType.institutionRejected, message, upstream_status=status)
    return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=status)


def _retry_after(resp: UpstreamResponse, detail: str) -> int:
    header = str(resp.headers.get("Retry-After", "")).strip()
    if header.isdigit():
        return max(int(header), 1)
    found = THROTTLE_WAIT.search(detail)
    return max(int(found.group(1)), 1) if found else RATE_LIMIT_S


def _timestamp(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def snapshot(order_id: str, data: dict[str, Any]) -> OrderSnapshot:
    state = str(data.get("state") or "")
    side = str(data.get("side") or "")
    executions = [e for e in data.get("executions") or [] if isinstance(e, dict)]
    value = sum((_number(e.get("price")) or 0.0) * (_number(e.get("quantity")) or 0.0) for e in executions)
    price = _number(data.get("price"))
    symbol = str(data.get("symbol") or "") or None
    return OrderSnapshot(
        order_id,
        EQUITY_STATUS_MAP.get(state, OrderStatus.unknown),
        state,
        _number(data.get("quantity")),
        _number(data.get("cumulative_quantity")),
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=symbol,
        payment_symbol="USD",
        symbol_pair=None,
        price=price if price is not None else _number(data.get("average_price")),
        fee=_number(data.get("fees")),
        value=value if executions else None,
        order_type=("stopLoss" if data.get("type") == "market" else "stopLimit")
        if data.get("trigger") == "stop"
        else EQUITY_ORDER_TYPES.get(str(data.get("type") or "")),
        time_in_force=EQUITY_TIME_IN_FORCE.get(str(data.get("time_in_force") or "")),
        created_at=_timestamp(data.get("created_at")),
        updated_at=_timestamp(data.get("last_transaction_at") or data.get("updated_at")),
        asset_type="equity",  # api.robinhood.com/orders/ holds equity orders (crypto ones live on the crypto API)
    )
