"""Public.com Trading API: connect (API secret → accounts), cancel one order, look one order up.

A cancel is `DELETE /userapigateway/trading/{accountId}/order/{orderId}` with a bearer access token; the account id
comes from the authToken (sealed at connect), the access token from the in-memory cache (auth.AccessTokens).
Public's cancel is asynchronous and its 200 only says "submitted", so that answer is `inProgress` with no lookup
after it: the happy path stays one request. A lookup happens only when the DELETE's answer does not settle the
matter: a refusal (400: filled, cancelled, already being cancelled…), 404, or no answer (the cancel service then
looks up and answers `cancelled` when Public already shows it).

Listing: Public shows orders only in the portfolio snapshot (`GET …/{accountId}/portfolio/v2`, its open orders);
`/history` lists transactions, not orders. So Public lists current orders only, one request a page, paged here newest
first; a listing asked for closed statuses only is refused with `listingNotSupported`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import (
    OPEN_STATUSES,
    Adapter,
    ChallengeIssued,
    Connected,
    ConnectStep,
    OrderPage,
    OrderQuery,
    VenueSpec,
)
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.public.auth import AccessTokens, bearer, check_secret, exchange_secret, retry_after
from ordergate.venues.public.constants import (
    ACCOUNT_ID,
    ACCOUNTS_PATH,
    CANCELLING,
    LIVE_STATUSES,
    NO_ORDER_ACCOUNT_TYPES,
    ORDER_ID_SHAPE,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    PORTFOLIO_PATH,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
)
from ordergate.venues.transport import Transport, TransportError, UpstreamResponse

ACCOUNT_EXTRA = "accountId"


class PublicAdapter(Adapter):
    def __init__(self, spec: VenueSpec, base_url: str, transport: Transport) -> None:
        super().__init__(spec, base_url, transport)
        self.tokens = AccessTokens(lambda secret: exchange_secret(self.transport, self.base_url, secret))

    # -- /authenticate -------------------------------------------------------------------------------------
    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected | ChallengeIssued:
        if not creds.secret:
            raise GatewayError(
                ErrorType.missingField,
                "password (the Public API secret) is required.",
                error_data={"fields": {"password": "required"}},
            )
        check_secret(creds.secret)
        accounts = await self._accounts(creds)
        wanted = creds.api_key.strip()
        if wanted:
            accounts = [a for a in accounts if a.account_id == wanted]
            if not accounts:
                raise GatewayError(
                    ErrorType.invalidField,
                    "username names no account this Public API secret can trade.",
                    error_data={"fields": {"username": "an account number of this secret, or absent"}},
                )
        if not accounts:
            raise GatewayError(ErrorType.institutionRejected, "This Public API secret has no brokerage account.")
        return Connected(Credentials(creds.type, wanted, creds.secret), tuple(accounts))

    async def refresh(self, creds: Credentials) -> Credentials | None:
        """`/token/refresh`: the sealed token carries the API secret, which does not expire; the access token it is
        exchanged for does (an hour). Exchanging it now both proves the secret is still good (a revoked one is
        institutionAuthFailed) and warms this process's cache; the same credentials are sealed again."""
        check_secret(creds.secret)
        await self.tokens.renew(creds.secret)
        return None

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Public secrets have no second factor; connect() lists every account, this answers the first.
        return (await self._accounts(creds))[0]

    async def _accounts(self, creds: Credentials) -> list[AccountInfo]:
        resp = await self._send("GET", creds, ACCOUNTS_PATH)
        payload = _json_object(resp.body)
        listed = payload.get("accounts") if resp.status == 200 and payload is not None else None
        if not isinstance(listed, list):
            raise _failure(resp, creds)
        accounts = []
        for entry in listed:
            account_id = str(entry.get("accountId") or "") if isinstance(entry, dict) else ""
            kind = str(entry.get("accountType") or "") if isinstance(entry, dict) else ""
            if ACCOUNT_ID.fullmatch(account_id) and kind not in NO_ORDER_ACCOUNT_TYPES:
                name = f"Public {kind.replace('_', ' ').title()}".strip()
                accounts.append(AccountInfo(account_id, name, {ACCOUNT_EXTRA: account_id}))
        return accounts

    # -- cancel and lookup --------------------------------------------------------------------------------
    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        resp = await self._send("DELETE", creds, self._order_path(creds, order))
        if 200 <= resp.status < 300:
            return CancelAck(order.id, OrderStatus.inProgress, resp.status)
        payload = _json_object(resp.body)
        if resp.status == 404 and payload is not None:
            raise UnknownOrderAtVenue(resp.status, _message(payload, creds))
        if resp.status == 400 and payload is not None:
            return await self._after_refusal(creds, order, resp.status, _message(payload, creds))
        raise _failure(resp, creds)

    async def _after_refusal(self, creds: Credentials, order: OrderRef, status: int, message: str) -> CancelAck:
        """Public's words for a refused cancel are not published: the order's own status decides."""
        try:
            snapshot = await self.get_order(creds, order)
        except (GatewayError, TransportError):
            # The refusal itself was definite; what it meant is left to the cancel service's own lookup.
            raise UnknownOrderAtVenue(status, message) from None
        if snapshot is None or snapshot.venue_status in LIVE_STATUSES - {CANCELLING}:
            raise UnknownOrderAtVenue(status, message)  # the cancel service looks again (and retries once if open)
        if snapshot.venue_status == CANCELLING:
            return CancelAck(order.id, OrderStatus.inProgress, status)
        raise GatewayError(
            ErrorType.orderNotCancelable,
            f"The order cannot be cancelled: its status is '{snapshot.status.value}'.",
            error_data={"orderStatus": snapshot.status.value, "orderId": order.id},
            upstream_status=status,
        )

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        resp = await self._send("GET", creds, self._order_path(creds, order))
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None:
            return _snapshot(order.id, payload)
        if resp.status == 404 and (payload is not None or not resp.body.strip()):
            return None
        raise _failure(resp, creds)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        if query.statuses is not None and not query.statuses & OPEN_STATUSES:
            raise GatewayError(
                ErrorType.listingNotSupported,
                "Public lists current orders only: its orders appear in the portfolio while they are open, and its "
                "history lists transactions, not orders, so filled, cancelled and rejected orders cannot be listed.",
                error_data={"type": self.spec.type.value, "listable": sorted(s.value for s in OPEN_STATUSES)},
            )
        resp = await self._send("GET", creds, PORTFOLIO_PATH.format(account_id=_account_id(creds)))
        payload = _json_object(resp.body)
        if resp.status != 200:
            raise _failure(resp, creds)
        orders = payload.get("orders") if payload is not None else None
        if not isinstance(orders, list):
            raise GatewayError(ErrorType.institutionUnavailable, "Public's portfolio has no list of orders",
                               upstream_status=resp.status)  # fmt: skip
        found: list[tuple[tuple[int, str], OrderSnapshot]] = []
        for entry in orders:
            order_id = str(entry.get("orderId") or "") if isinstance(entry, dict) else ""
            if not ORDER_ID_SHAPE.admits(order_id):
                continue
            snap = _snapshot(order_id, entry)
            if query.statuses is not None and snap.status not in query.statuses:
                continue
            if query.since is not None and (snap.created_at or 0) < query.since:
                continue
            found.append(((_unix_ms(entry.get("createdAt")), order_id), snap))
        found.sort(key=lambda pair: pair[0], reverse=True)
        bound = (query.cursor or {}).get("before")
        if isinstance(bound, list) and len(bound) == 2 and isinstance(bound[0], int) and isinstance(bound[1], str):
            found = [(k, s) for k, s in found if k < (bound[0], bound[1])]
        page = found[: query.count]
        cursor = {"phase": "portfolio", "before": list(page[-1][0])} if len(found) > query.count else None
        return OrderPage(tuple(s for _, s in page), cursor)

    def _order_path(self, creds: Credentials, order: OrderRef) -> str:
        account_id = _account_id(creds)
        if not ORDER_ID_SHAPE.admits(order.id):
            raise GatewayError(
                ErrorType.invalidField,
                f"A Public order id is a UUID such as {ORDER_ID_SHAPE.example}",
                error_data={"fields": {"id": "a Public order id (UUID)"}},
            )
        return ORDER_PATH.format(account_id=account_id, order_id=order.id)

    async def _send(self, method: str, creds: Credentials, path: str) -> UpstreamResponse:
        """One request with a cached access token. A cached token Public refuses (revoked, or its clock and ours
        disagree) is renewed once and the request sent again: a 401 means Public did nothing with it."""
        token, fresh = await self.tokens.get(creds.secret)
        resp = await self.transport.send(method, self.base_url + path, headers=bearer(token))
        if resp.status == 401 and not fresh:
            self.tokens.forget(creds.secret, token)
            token, _ = await self.tokens.get(creds.secret)
            resp = await self.transport.send(method, self.base_url + path, headers=bearer(token))
        return resp


def _account_id(creds: Credentials) -> str:
    account_id = str(creds.extras.get(ACCOUNT_EXTRA) or "")
    if not ACCOUNT_ID.fullmatch(account_id):
        raise GatewayError(
            ErrorType.invalidAuthToken,
            "This authToken names no Public account.",
            display_message="Please reconnect the account.",
        )
    return account_id


def _unix_ms(value: Any) -> int:
    try:
        return int(datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _message(payload: dict[str, Any], creds: Credentials) -> str:
    code, text = payload.get("errorCode"), payload.get("message")
    return _scrub(" ".join(str(p) for p in (code, text) if p), creds)


def _failure(resp: UpstreamResponse, creds: Credentials) -> GatewayError:
    payload = _json_object(resp.body)
    if resp.status == 429:
        return GatewayError(
            ErrorType.rateLimited,
            "Public answered HTTP 429",
            retry_after=retry_after(resp),
            upstream_status=resp.status,
        )
    if payload is None or resp.status >= 500:
        detail = " with an unreadable body" if payload is None else ""
        return GatewayError(
            ErrorType.institutionUnavailable, f"Public answered HTTP {resp.status}{detail}", upstream_status=resp.status
        )
    kind = {401: ErrorType.institutionAuthFailed, 403: ErrorType.institutionPermissionDenied}.get(
        resp.status, ErrorType.institutionRejected
    )
    return GatewayError(
        kind, f"Public answered HTTP {resp.status}: {_message(payload, creds)}", upstream_status=resp.status
    )


def _unix(value: Any) -> int | None:
    text = str(value or "")
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    amount, filled = _number(entry.get("quantity")), _number(entry.get("filledQuantity"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if venue_status in LIVE_STATUSES and filled:
        status = OrderStatus.partiallyFilled
    instrument = entry.get("instrument") if isinstance(entry.get("instrument"), dict) else {}
    symbol = str(instrument.get("symbol") or "") or None
    side = str(entry.get("side") or "").lower()
    average = _number(entry.get("averagePrice"))
    expiration = entry.get("expiration") if isinstance(entry.get("expiration"), dict) else {}
    created = _unix(entry.get("createdAt"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=symbol,
        payment_symbol="USD",  # Public trades in US dollars
        symbol_pair=symbol,
        price=_number(entry.get("limitPrice")) or average,
        value=filled * average if filled is not None and average is not None else _number(entry.get("notionalValue")),
        order_type=ORDER_TYPE_MAP.get(str(entry.get("type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(expiration.get("timeInForce") or "")),
        created_at=created,
        updated_at=_unix(entry.get("closedAt")) or created,
    )
