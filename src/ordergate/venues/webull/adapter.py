"""Webull OpenAPI: connect (with Webull's 2FA token when the app requires one), cancel by client order id, look
orders up.

Webull cancels by the *client* order id. The Mesh `id` is sent as `client_order_id` (one request). When Webull says
it has no such client order, the id may be Webull's own `order_id`: one read of the account's open orders finds the
order whose `order_id` it is, and the cancel is sent again with that order's client order id. Anything still
unexplained goes to the cancel service as "unknown order", which looks the order up before answering.

Listing: open orders only is one read of `open-orders/list`; any other query walks `historical-orders/list`, which
holds every order placed in its time range (open ones too), newest first, bounded by `start_time` (Mesh `from`, else
HISTORY_SPAN back, since Webull's default range is the last 7 days). Webull pages with `pagination_key` at its own
page size, so a page ordergate serves may end inside one of Webull's: the cursor then keeps how many of that page's
orders were already served.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import (
    Adapter,
    ChallengeIssued,
    Connected,
    ConnectStep,
    OrderPage,
    OrderQuery,
    require_key_pair,
)
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import TransportError, UpstreamResponse
from ordergate.venues.webull.auth import compact_body, signed_headers
from ordergate.venues.webull.constants import (
    ACCOUNTS_PATH,
    API_VERSION,
    CANCEL_PATH,
    CONFIG_PATH,
    DETAIL_PATH,
    ERROR_MAP,
    H_ACCESS_TOKEN,
    H_VERSION,
    HISTORY_PATH,
    HISTORY_SPAN_S,
    LIVE_STATUSES,
    OPEN_ORDER_PAGES,
    OPEN_ORDERS_PATH,
    ORDER_ID_SHAPE,
    ORDER_TYPE_MAP,
    QUOTA_WINDOW_S,
    RATE_WINDOW_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    TOKEN_CHECK_PATH,
    TOKEN_CREATE_PATH,
    TOKEN_DEAD,
    TOKEN_NORMAL,
)

ACCOUNT_ID = "account_id"  # the Webull account id, sealed into each account's token
ACCESS_TOKEN = "access_token"  # the 2FA token, sealed when the app requires one
_APPROVE = "Approve the API login in the Webull app, then call /authenticate again with this challengeId."


class WebullAdapter(Adapter):
    # -- connect -----------------------------------------------------------------------------------------
    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected | ChallengeIssued:
        require_key_pair(creds)
        token: str | None = None
        expires_at: int | None = None
        if step.state is not None:
            token = str(step.state.get("token") or "")
            answer = await self._json("POST", creds, TOKEN_CHECK_PATH, body={"token": token}, access=False)
        else:
            config = await self._json("GET", creds, CONFIG_PATH, access=False)
            if config.get("token_check_enabled") is not True:
                return await self._connected(creds, None, None)
            answer = await self._json("POST", creds, TOKEN_CREATE_PATH, body={}, access=False)
            token = str(answer.get("token") or "")
        status = str(answer.get("status") or "")
        if not token or status in TOKEN_DEAD:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                f"Webull's 2FA token is {status.lower() or 'missing'}; connect again to request a new one.",
            )
        expires_at = _epoch_seconds(answer.get("expires"))
        if status != TOKEN_NORMAL:
            return ChallengeIssued(
                status="mfaRequired",
                message=_APPROVE,
                state={"token": token},
                mfa_type="webullApp",
                expires_in_seconds=None if expires_at is None else max(0, expires_at - int(time.time())),
            )
        return await self._connected(creds, token, expires_at)

    async def _connected(self, creds: Credentials, token: str | None, expires_at: int | None) -> Connected:
        extras: dict[str, object] = {ACCESS_TOKEN: token} if token else {}
        session = Credentials(creds.type, creds.api_key, creds.secret, None, extras)
        listed = await self._json("GET", session, ACCOUNTS_PATH)
        entries = listed if isinstance(listed, list) else listed.get("accounts") or listed.get("data") or []
        accounts = tuple(
            AccountInfo(
                account_id=str(entry.get("account_number") or entry["account_id"]),
                account_name=f"Webull {entry.get('account_class') or entry.get('account_type') or 'account'}",
                extras={ACCOUNT_ID: str(entry["account_id"])},
            )
            for entry in entries
            if isinstance(entry, dict) and entry.get("account_id")
        )
        if not accounts:
            raise GatewayError(ErrorType.institutionRejected, "Webull lists no trading account for this app key.")
        expires_in = None if expires_at is None else max(0, expires_at - int(time.time()))
        return Connected(session, accounts, expires_in)

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        result = await self.connect(creds, ConnectStep(mfa_code=mfa_code))
        if isinstance(result, ChallengeIssued):
            raise GatewayError(ErrorType.mfaRequired, result.message)
        return result.accounts[0]

    # -- cancel ------------------------------------------------------------------------------------------
    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        account = _account(creds, order)
        resp = await self._cancel(creds, account, order.id)
        if resp.status == 200:
            return _ack(order, resp)
        refusal = self._refusal(resp, creds)
        if refusal is not None:
            raise refusal
        # "No such client order": the id may be Webull's order_id; its open order names the client order id.
        entry = await self._open_order(creds, account, order_id=order.id)
        client_id = str(entry.get("client_order_id") or "") if entry else ""
        if client_id and client_id != order.id:
            resp = await self._cancel(creds, account, client_id)
            if resp.status == 200:
                return _ack(order, resp)
            refusal = self._refusal(resp, creds)
            if refusal is not None:
                raise refusal
        raise UnknownOrderAtVenue(resp.status, _scrub(_message(resp), creds))

    async def _cancel(self, creds: Credentials, account: str, client_order_id: str) -> UpstreamResponse:
        body = {"account_id": account, "client_order_id": client_order_id}
        return await self._send("POST", creds, CANCEL_PATH, body=body)

    def _refusal(self, resp: UpstreamResponse, creds: Credentials) -> GatewayError | None:
        """A definite failure, or None for an order-level refusal (unknown or final order) that needs a lookup."""
        payload = _json_object(resp.body)
        code = str(payload.get("error_code") or "") if payload else ""
        order_level = payload is not None and 400 <= resp.status < 500 and resp.status not in (401, 403, 429)
        return None if order_level and code not in ERROR_MAP else _failure(resp, creds)

    # -- look up -----------------------------------------------------------------------------------------
    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        account = _account(creds, order)
        resp = await self._send("GET", creds, DETAIL_PATH, query={"account_id": account, "client_order_id": order.id})
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None:
            return _snapshot(order.id, payload)
        if self._refusal(resp, creds) is not None:
            raise _failure(resp, creds)
        entry = await self._open_order(creds, account, order_id=order.id)
        if entry is None:
            entry = await self._history_order(creds, account, order.id)
        return None if entry is None else _snapshot(order.id, entry)

    async def _open_order(self, creds: Credentials, account: str, *, order_id: str) -> dict[str, Any] | None:
        query: dict[str, str] = {"account_id": account}
        for _ in range(OPEN_ORDER_PAGES):
            page = await self._json("GET", creds, OPEN_ORDERS_PATH, query=query)
            found = _find(page, order_id)
            if found is not None:
                return found
            key = page.get("pagination_key") if isinstance(page, dict) else None
            if not key:
                return None
            query = {"account_id": account, "pagination_key": str(key)}
        return None

    async def _history_order(self, creds: Credentials, account: str, order_id: str) -> dict[str, Any] | None:
        """Filled and cancelled orders leave the open list; Webull's history (default: the last 7 days) has them."""
        return _find(await self._json("GET", creds, HISTORY_PATH, query={"account_id": account}), order_id)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        account = _account_of(creds)
        state = query.cursor or {}
        phase = "open" if query.open_only else "history"
        params: dict[str, str] = {"account_id": account}
        if phase == "history":
            if query.since is not None and query.since > time.time():
                return OrderPage(())  # nothing was created later than now; Webull refuses start > end
            end = state.get("end") if isinstance(state.get("end"), str) else _webull_time(time.time())
            start = state.get("start")
            if not isinstance(start, str):
                floor = time.time() - HISTORY_SPAN_S
                start = _webull_time(max(query.since, floor) if query.since is not None else floor)
            params |= {"start_time": start, "end_time": end}
        key = state.get("key")
        if isinstance(key, str) and ORDER_ID_SHAPE.admits(key):
            params["pagination_key"] = key
        skip = state.get("skip") if isinstance(state.get("skip"), int) and state.get("skip", 0) > 0 else 0
        payload = await self._json("GET", creds, OPEN_ORDERS_PATH if phase == "open" else HISTORY_PATH, query=params)
        entries = payload.get("orders") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            raise GatewayError(ErrorType.institutionUnavailable, "Webull's order list has no orders")
        served: list[OrderSnapshot] = []
        position = skip
        for entry in entries[skip:]:
            if len(served) == query.count:
                break
            position += 1
            order_id = str(entry.get("client_order_id") or "") if isinstance(entry, dict) else ""
            if not ORDER_ID_SHAPE.admits(order_id):
                continue
            snap = _snapshot(order_id, entry)
            if query.since is not None and (snap.created_at or 0) < query.since:
                continue
            if query.statuses is None or snap.status in query.statuses:
                served.append(snap)
        following = payload.get("pagination_key")
        cursor: dict[str, Any] | None = None
        base = {k: params[k] for k in ("start_time", "end_time") if k in params}
        if position < len(entries):  # the page ended inside Webull's: the same Webull page again, further on
            cursor = {"phase": phase, "key": params.get("pagination_key"), "skip": position}
        elif isinstance(following, str) and following:
            cursor = {"phase": phase, "key": following, "skip": 0}
        if cursor is not None and base:
            cursor |= {"start": base["start_time"], "end": base["end_time"]}
        return OrderPage(tuple(served), cursor)

    # -- HTTP --------------------------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        creds: Credentials,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        access: bool = True,
    ) -> UpstreamResponse:
        raw = compact_body(body) if body is not None else None
        host = urlsplit(self.base_url).hostname or ""
        try:
            headers = signed_headers(creds.api_key, creds.secret, uri=path, host=host, query=query, body=raw)
        except UnicodeError:
            raise GatewayError(ErrorType.institutionAuthFailed, "The Webull app key or secret is malformed") from None
        headers[H_VERSION] = API_VERSION
        token = creds.extras.get(ACCESS_TOKEN)
        if access and token:
            headers[H_ACCESS_TOKEN] = str(token)
        if raw is not None:
            headers["Content-Type"] = "application/json"
        if any("\r" in v or "\n" in v for v in headers.values()):
            raise GatewayError(ErrorType.institutionAuthFailed, "The Webull credentials cannot be sent as headers")
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        return await self.transport.send(method, url, headers=headers, body=raw)

    async def _json(self, method: str, creds: Credentials, path: str, **options: Any) -> Any:
        """A read whose failure is definite (nothing changes at Webull when a read fails)."""
        try:
            resp = await self._send(method, creds, path, **options)
        except TransportError as exc:
            raise GatewayError(ErrorType.institutionUnavailable, f"Webull could not be reached ({exc})") from None
        if resp.status != 200:
            raise _failure(resp, creds)
        try:
            return json.loads(resp.body)
        except ValueError:
            raise GatewayError(ErrorType.institutionUnavailable, "Webull answered an unreadable body") from None


def _account(creds: Credentials, order: OrderRef) -> str:
    if not ORDER_ID_SHAPE.admits(order.id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A Webull order id is a client order id or order id such as {ORDER_ID_SHAPE.example}",
            error_data={"fields": {"id": "a Webull order id: letters, digits, - and _, at most 40"}},
        )
    account = creds.extras.get(ACCOUNT_ID)
    if not account:
        raise GatewayError(
            ErrorType.invalidAuthToken,
            "This Webull token names no account; connect the account again.",
            display_message="Please reconnect the account.",
        )
    return str(account)


def _account_of(creds: Credentials) -> str:
    account = creds.extras.get(ACCOUNT_ID)
    if not account:
        raise GatewayError(
            ErrorType.invalidAuthToken,
            "This Webull token names no account; connect the account again.",
            display_message="Please reconnect the account.",
        )
    return str(account)


def _webull_time(unix: float) -> str:
    """The SDK's documented time format, yyyy-MM-dd'T'HH:mm:ss.SSSZ, in UTC."""
    moment = datetime.fromtimestamp(unix, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def _ack(order: OrderRef, resp: UpstreamResponse) -> CancelAck:
    payload = _json_object(resp.body)
    if payload is None or "error_code" in payload:
        # A 200 that is not Webull's receipt proves nothing was accepted.
        raise GatewayError(ErrorType.institutionUnavailable, "Webull answered HTTP 200 without a cancel receipt")
    # Webull only accepts the cancel; the order reads CANCELLED once its engine has acted.
    return CancelAck(order.id, OrderStatus.inProgress, resp.status)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _message(resp: UpstreamResponse) -> str:
    payload = _json_object(resp.body) or {}
    return f"{payload.get('error_code', '')}: {payload.get('message', '')}"


def _failure(resp: UpstreamResponse, creds: Credentials) -> GatewayError:
    payload = _json_object(resp.body)
    code = str(payload.get("error_code") or "") if payload else ""
    text = _scrub(_message(resp), creds)
    if resp.status == 429 or ERROR_MAP.get(code) is ErrorType.rateLimited:
        window = QUOTA_WINDOW_S if code == "REQUEST_TOTAL_COUNT_EXCEEDED" else RATE_WINDOW_S
        retry = str(resp.headers.get("Retry-After") or resp.headers.get("retry-after") or "").strip()
        return GatewayError(
            ErrorType.rateLimited,
            f"Webull answered HTTP {resp.status} {text}",
            retry_after=max(1, int(retry)) if retry.isdigit() else window,
            upstream_status=resp.status,
        )
    if payload is None or resp.status >= 500:
        return GatewayError(
            ErrorType.institutionUnavailable,
            f"Webull answered HTTP {resp.status}" + (" with an unreadable body" if payload is None else f" {text}"),
            upstream_status=resp.status,
        )
    kind = ERROR_MAP.get(code)
    if kind is None:
        kind = {401: ErrorType.institutionAuthFailed, 403: ErrorType.institutionPermissionDenied}.get(
            resp.status, ErrorType.institutionRejected
        )
    return GatewayError(kind, f"Webull answered HTTP {resp.status} {text}", upstream_status=resp.status)


def _find(page: Any, order_id: str) -> dict[str, Any] | None:
    entries = page if isinstance(page, list) else (page.get("orders") or []) if isinstance(page, dict) else []
    for entry in entries:
        if isinstance(entry, dict) and order_id in (str(entry.get("order_id")), str(entry.get("client_order_id"))):
            return entry
    return None


def _epoch_seconds(value: Any) -> int | None:
    number = _number(value)
    if number is None:
        return None
    return int(number / 1000) if number > 10**11 else int(number)  # Webull's expires is in milliseconds


def _unix(value: Any) -> int | None:
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    """An order of the detail answer (v1 doc shape: the order with its `items`), flattened to its first item."""
    items = entry.get("items")
    item = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else entry
    venue_status = str(item.get("order_status") or "")
    amount, filled = _number(item.get("qty")), _number(item.get("filled_qty"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    side = str(item.get("side") or "").lower()
    average = _number(item.get("filled_price"))
    created = _unix(item.get("place_time"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=str(item.get("symbol") or "") or None,
        payment_symbol=str(item.get("currency") or "") or None,
        symbol_pair=str(item.get("symbol") or "") or None,
        price=_number(item.get("limit_price")) or average,
        value=filled * average if filled is not None and average is not None else None,
        order_type=ORDER_TYPE_MAP.get(str(item.get("order_type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("tif") or item.get("time_in_force") or "")),
        created_at=created,
        updated_at=_unix(item.get("last_filled_time")) or created,
    )
