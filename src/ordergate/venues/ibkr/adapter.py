"""Interactive Brokers through the Client Portal Web API: connect an account held by the operator's gateway, cancel
one order (one DELETE), look one order up.

The gateway holds the user's login, so `/authenticate` takes only the account id (none: one token per account the
login lists). The DELETE answers "Request was submitted", an acknowledgement: `inProgress` unless the answer itself
says `Cancelled`. Every `{"error": …}` refusal of a cancel (unknown, filled, cancelled orders look alike) goes to the
cancel service's status lookup; an expired session is a definite "not done": re-login the gateway.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, Connected, ConnectStep, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.common import number, scrub
from ordergate.venues.ibkr.auth import api_root, verify_tls
from ordergate.venues.ibkr.constants import (
    ACCOUNT_ID,
    ACCOUNTS_PATH,
    AUTH_STATUS_PATH,
    CANCEL_PATH,
    LIST_FILTERS,
    LIVE_STATUSES,
    NOT_FOUND,
    ORDER_ID_SHAPE,
    ORDER_TYPE_MAP,
    ORDERS_PATH,
    PENALTY_BOX_S,
    SESSION_GONE,
    STATUS_MAP,
    STATUS_PATH,
    TICKLE_AFTER_S,
    TICKLE_PATH,
    TIME_IN_FORCE_MAP,
)
from ordergate.venues.transport import Transport, TransportError, UpstreamResponse

_SIDES = {"B": OrderSide.buy, "BUY": OrderSide.buy, "S": OrderSide.sell, "SELL": OrderSide.sell}
_RELOGIN = "log the gateway in again (its login page in a browser) and retry"


class IbkrAdapter(Adapter):
    def __init__(self, spec: VenueSpec, base_url: str, transport: Transport) -> None:
        super().__init__(spec, base_url, transport)
        self.api = api_root(self.base_url)
        self.verify_tls = verify_tls()
        # When this gateway last answered (monotonic seconds), in this process: an idle session gets a tickle first.
        self.last_answer: float | None = None

    # -- connect ---------------------------------------------------------------------------------------
    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected:
        # No password: the gateway holds the login. One is never sealed, even when sent.
        wanted = creds.api_key.strip()
        if wanted and not ACCOUNT_ID.fullmatch(wanted):
            raise GatewayError(
                ErrorType.invalidField,
                "For Interactive Brokers, username is the account id (such as U1234567 or DU1234567), or empty for "
                "every account the gateway's login holds.",
                error_data={"fields": {"username": "an account id such as U1234567, or empty"}},
            )
        status = await self._read(AUTH_STATUS_PATH, creds)
        if status.get("authenticated") is not True:
            raise _session_gone(200)
        # Also what initialises the brokerage session, as IBKR asks before any order call.
        listing = await self._read(ACCOUNTS_PATH, creds)
        listed = [a for a in listing.get("accounts") or [] if isinstance(a, str) and ACCOUNT_ID.fullmatch(a)]
        if wanted and wanted not in listed:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                f"The Interactive Brokers gateway's login does not hold account {wanted}.",
            )
        chosen = [wanted] if wanted else listed
        if not chosen:
            raise GatewayError(ErrorType.institutionAuthFailed, "The gateway's login lists no brokerage account.")
        aliases = listing.get("aliases") if isinstance(listing.get("aliases"), dict) else {}
        paper = " (paper)" if listing.get("isPaper") is True else ""
        accounts = tuple(
            AccountInfo(a, f"Interactive Brokers {aliases.get(a) or a}{paper}", extras={"account": a}) for a in chosen
        )
        return Connected(Credentials(creds.type, api_key=wanted, secret=""), accounts)

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        return (await self.connect(creds, ConnectStep(mfa_code=mfa_code))).accounts[0]

    # -- cancel and look up ----------------------------------------------------------------------------
    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        account = _account(creds)
        _require_order_id(order)
        await self._keep_alive(creds)
        resp = await self._send("DELETE", CANCEL_PATH.format(account=account, order_id=order.id))
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None and "error" not in payload and payload.get("msg"):
            said = STATUS_MAP.get(str(payload.get("order_status") or ""))
            status = OrderStatus.cancelled if said is OrderStatus.cancelled else OrderStatus.inProgress
            return CancelAck(order.id, status, resp.status)
        failure = _failure(resp, creds, account)
        if failure is None and resp.status in (200, 400, 404, 500):
            # "Unknown", "filled" and "cancelled" refusals are not told apart reliably: the lookup decides.
            raise UnknownOrderAtVenue(resp.status, _error_text(payload, creds))
        raise failure or _unavailable(resp.status, "an unexpected answer to the cancel")

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        account = _account(creds)
        _require_order_id(order)
        resp = await self._send("GET", STATUS_PATH.format(order_id=order.id))
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None and "error" not in payload and payload.get("order_id"):
            owner = str(payload.get("account") or payload.get("acct") or "")
            # The status endpoint is not scoped by account: another account's order is not this token's.
            return _snapshot(order.id, payload) if owner in ("", account) else None
        failure = _failure(resp, creds, account)
        if failure is None and NOT_FOUND.search(_error_text(payload, creds)):
            return None
        raise failure or _unavailable(resp.status, "an unexpected answer to the order status")

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """The gateway's orders for this account: Client Portal keeps no order history beyond the session's orders
        (those of the current and recent days), so that is all it can list. One request per page, never `force`."""
        account = _account(creds)
        params = {"accountId": account}
        if query.statuses is not None:
            wanted = sorted({f for s in query.statuses for f in LIST_FILTERS.get(s, ())})
            if wanted:
                params["filters"] = ",".join(wanted)
        payload = await self._read(f"{ORDERS_PATH}?{urlencode(params)}", creds)
        rows = payload.get("orders")
        if not isinstance(rows, list):
            raise _unavailable(200, "an order list without orders")
        found: list[tuple[tuple[int, int], OrderSnapshot]] = []
        for row in rows:
            order_id = str(row.get("orderId") or "") if isinstance(row, dict) else ""
            if not ORDER_ID_SHAPE.admits(order_id) or str(row.get("acct") or account) != account:
                continue
            snap = _live_snapshot(order_id, row)
            if query.statuses is not None and snap.status not in query.statuses:
                continue
            if query.since is not None and (snap.created_at or 0) < query.since:
                continue
            found.append(((int(number(row.get("lastExecutionTime_r")) or 0), int(order_id)), snap))
        found.sort(key=lambda pair: pair[0], reverse=True)
        bound = (query.cursor or {}).get("before")
        if isinstance(bound, list) and len(bound) == 2 and all(isinstance(v, int) for v in bound):
            found = [(k, s) for k, s in found if k < tuple(bound)]
        page = found[: query.count]
        cursor = {"phase": "session", "before": list(page[-1][0])} if len(found) > query.count else None
        return OrderPage(tuple(s for _, s in page), cursor)

    # -- the wire --------------------------------------------------------------------------------------
    async def _send(self, method: str, path: str) -> UpstreamResponse:
        resp = await self.transport.send(
            method, self.api + path, headers={"Accept": "application/json"}, verify_tls=self.verify_tls
        )
        self.last_answer = time.monotonic()
        return resp

    async def _keep_alive(self, creds: Credentials) -> None:
        """IBKR times an idle session out after minutes: a gateway not heard from for a minute is tickled first."""
        now = time.monotonic()
        if self.last_answer is not None and now - self.last_answer < TICKLE_AFTER_S:
            return
        self.last_answer = now  # cancels arriving meanwhile do not tickle again
        try:
            resp = await self._send("POST", TICKLE_PATH)
        except TransportError:
            return  # the cancel's own answer says what is wrong
        payload = _json_object(resp.body) or {}
        iserver = payload.get("iserver") if isinstance(payload.get("iserver"), dict) else {}
        auth = iserver.get("authStatus") if isinstance(iserver.get("authStatus"), dict) else {}
        if resp.status == 401 or (resp.status == 200 and auth.get("authenticated") is False):
            raise _session_gone(resp.status)

    async def _read(self, path: str, creds: Credentials) -> dict[str, Any]:
        try:
            resp = await self._send("GET", path)
        except TransportError as exc:
            raise GatewayError(
                ErrorType.institutionUnavailable, f"The Interactive Brokers gateway could not be reached ({exc})."
            ) from None
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None and "error" not in payload:
            return payload
        raise _failure(resp, creds, creds.api_key) or _unavailable(resp.status, f"an unexpected answer to {path}")


def _account(creds: Credentials) -> str:
    account = str(creds.extras.get("account") or creds.api_key)
    if not ACCOUNT_ID.fullmatch(account):
        raise GatewayError(
            ErrorType.invalidAuthToken,
            "This authToken names no Interactive Brokers account; connect the account again.",
        )
    return account


def _require_order_id(order: OrderRef) -> None:
    # Also checked centrally; repeated here because `-1` in this URL cancels every open order of the account.
    if not ORDER_ID_SHAPE.admits(order.id):
        raise GatewayError(
            ErrorType.invalidField,
            f"An Interactive Brokers order id is a number such as {ORDER_ID_SHAPE.example}.",
            error_data={"fields": {"id": "digits only"}},
        )


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _error_text(payload: dict[str, Any] | None, creds: Credentials) -> str:
    return scrub(str((payload or {}).get("error") or ""), creds)


def _session_gone(status: int) -> GatewayError:
    return GatewayError(
        ErrorType.institutionUnavailable,
        f"The Interactive Brokers gateway has no authenticated brokerage session: {_RELOGIN}. Nothing was cancelled.",
        display_message="The Interactive Brokers session has expired; log in to the gateway again.",
        upstream_status=status,
        unprocessed=True,
    )


def _unavailable(status: int, what: str) -> GatewayError:
    return GatewayError(
        ErrorType.institutionUnavailable,
        f"Interactive Brokers answered HTTP {status} with {what}.",
        upstream_status=status,
    )


def _failure(resp: UpstreamResponse, creds: Credentials, account: str) -> GatewayError | None:
    """The definite failures; None when the answer is an order-level `{"error": …}` refusal."""
    if resp.status == 429:
        retry = str(resp.headers.get("Retry-After") or resp.headers.get("retry-after") or "").strip()
        return GatewayError(
            ErrorType.rateLimited,
            "Interactive Brokers answered 429: the gateway's IP is in IBKR's penalty box.",
            retry_after=int(retry) if retry.isdigit() and int(retry) > 0 else PENALTY_BOX_S,
            upstream_status=resp.status,
        )
    payload = _json_object(resp.body)
    text = _error_text(payload, creds)
    if SESSION_GONE.search(text) or (resp.status == 401 and payload is None):
        return _session_gone(resp.status)
    if payload is None or "error" not in payload or resp.status >= 501:
        return _unavailable(resp.status, "an unreadable body" if payload is None else "no error text")
    if resp.status == 401:
        return GatewayError(
            ErrorType.institutionAuthFailed,
            f"The Interactive Brokers gateway refused account {account}: {text}",
            upstream_status=resp.status,
        )
    if resp.status == 403:
        return GatewayError(
            ErrorType.institutionPermissionDenied,
            f"Interactive Brokers refused: {text}",
            upstream_status=resp.status,
        )
    if resp.status in (200, 400, 404, 500):
        return None
    return GatewayError(
        ErrorType.institutionRejected, f"Interactive Brokers refused: {text}", upstream_status=resp.status
    )


def _time(value: Any) -> int | None:
    try:  # "241211-18:55:35"
        return int(datetime.strptime(str(value), "%y%m%d-%H:%M:%S").replace(tzinfo=UTC).timestamp())
    except ValueError:
        return None


def _live_snapshot(order_id: str, row: dict[str, Any]) -> OrderSnapshot:
    """A row of /iserver/account/orders, read into the status endpoint's names so both render one way."""
    stamp = number(row.get("lastExecutionTime_r"))
    moment = datetime.fromtimestamp(stamp / 1000, UTC).strftime("%y%m%d-%H:%M:%S") if stamp else None
    return _snapshot(
        order_id,
        {
            "order_status": row.get("status"),
            "total_size": row.get("totalSize"),
            "cum_fill": row.get("filledQuantity"),
            "symbol": row.get("ticker"),
            "avg_price": row.get("avgPrice"),
            "side": {"BUY": "B", "SELL": "S"}.get(str(row.get("side") or "").upper(), row.get("side")),
            "currency": row.get("cashCcy"),
            "limit_price": row.get("price"),
            "order_type": row.get("orderType"),
            "tif": row.get("timeInForce"),
            "order_time": moment,
        },
    )


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("order_status") or "")
    total, filled = number(entry.get("total_size")), number(entry.get("cum_fill"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    symbol = str(entry.get("symbol") or entry.get("contract_description_1") or "") or None
    average = number(entry.get("avg_price"))
    created = _time(entry.get("order_time"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        total,
        filled,
        side=_SIDES.get(str(entry.get("side") or "").upper()),
        symbol=symbol,
        payment_symbol=str(entry.get("currency") or "") or None,
        symbol_pair=symbol,
        price=number(entry.get("limit_price")) or average,
        value=filled * average if filled and average else None,
        order_type=ORDER_TYPE_MAP.get(str(entry.get("order_type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("tif") or "").upper()),
        created_at=created,
        updated_at=created,
    )
