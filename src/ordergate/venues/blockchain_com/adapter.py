"""Blockchain.com Exchange: cancel one order, look one order up, verify a token.

`DELETE /orders/{orderId}` answers 200 with no order state, so an accepted cancel is `inProgress`. A 404 (and a
400, the only other documented answer) does not tell an unknown order from a closed one: the cancel service looks
the order up (`GET /orders/{orderId}`).

Listing: `GET /orders` answers live orders without a status and one closed status per request, at most 100, paged
by `to` (a millisecond timestamp). A listing walks the phases (live, then FILLED, CANCELED, REJECTED, EXPIRED, only
those the statuses ask for), newest first within each.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, Connected, ConnectStep, OrderPage, OrderQuery
from ordergate.venues.blockchain_com import auth
from ordergate.venues.blockchain_com.constants import (
    LIST_PHASES,
    ORDER_ID,
    ORDER_ID_SHAPE,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    ORDERS_LIST_MAX,
    RATE_LIMIT_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
)
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.transport import UpstreamResponse

VENUE = "Blockchain.com"


def account_fingerprint(token: str) -> str:
    # The token is the only credential (the username is an optional label), so the account is named by its hash.
    return key_fingerprint("blockchain-com", token)


def require_order_id(order_id: str) -> str:
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A Blockchain.com order id is a number such as {ORDER_ID_SHAPE.example}",
            error_data={"fields": {"id": "a Blockchain.com exchange order id (exOrdId, digits only)"}},
        )
    return order_id


class BlockchainComAdapter(Adapter):
    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected:
        """The API token is the only credential (`password`); `username` is an optional label."""
        if not creds.secret:
            raise GatewayError(
                ErrorType.missingField,
                "password (the Blockchain.com API token) is required.",
                error_data={"fields": {"password": "required"}},
            )
        return Connected(creds, (await self.verify_credentials(creds, step.mfa_code),))

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        await self._call(creds, "GET", VERIFY_PATH, verify=True)
        return AccountInfo(account_id=account_fingerprint(creds.secret), account_name=creds.api_key or VENUE)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        order_id = require_order_id(order.id)
        status, _ = await self._call(creds, "DELETE", f"{ORDER_PATH}/{order_id}")
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        order_id = require_order_id(order.id)
        try:
            status, data = await self._call(creds, "GET", f"{ORDER_PATH}/{order_id}")
        except UnknownOrderAtVenue:
            return None
        if not isinstance(data, dict) or str(data.get("exOrdId")) != order_id:
            raise GatewayError(
                ErrorType.institutionUnavailable, f"{VENUE}'s order answer is not this order", upstream_status=status
            )
        return _snapshot(order_id, data)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        phases = [p for p, covers in LIST_PHASES.items() if query.statuses is None or covers & query.statuses]
        state = dict(query.cursor or {"phase": phases[0]})
        orders: list[OrderSnapshot] = []
        # A page goes on into the next phase only when one ends: one request per phase at most, one in all for
        # open orders.
        while state.get("phase") in phases and len(orders) < query.count:
            found, more, state = await self._list_phase(creds, query, state, query.count - len(orders))
            orders += [o for o in found if query.statuses is None or o.status in query.statuses]
            if more:
                break
            rest = phases[phases.index(state["phase"]) + 1 :]
            state = {"phase": rest[0]} if rest else {}
        return OrderPage(tuple(orders), state or None)

    async def _list_phase(
        self, creds: Credentials, query: OrderQuery, state: dict[str, Any], room: int
    ) -> tuple[list[OrderSnapshot], bool, dict[str, Any]]:
        to, seen = state.get("to"), {str(i) for i in state.get("seen") or ()}
        # One more than fits, to know whether the phase goes on, and room for the ids at `to` already listed.
        size = min(room, ORDERS_LIST_MAX - 1)
        asked = min(size + 1 + len(seen), ORDERS_LIST_MAX)
        params: dict[str, str | int] = {"limit": asked}
        if state["phase"]:
            params["status"] = state["phase"]
        if query.symbol_pair:
            params["symbol"] = query.symbol_pair
        if query.since is not None:
            params["from"] = query.since * 1000
        if isinstance(to, int):
            params["to"] = to
        # A listing refused with 400/404 is about the request, not an order: not the cancel's "unknown order".
        status, data = await self._call(creds, "GET", f"{ORDER_PATH}?{urlencode(params)}", verify=True)
        if not isinstance(data, list):
            raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE}'s orders are not a list",
                               upstream_status=status)  # fmt: skip
        rows = [r for r in data if isinstance(r, dict) and ORDER_ID.fullmatch(str(r.get("exOrdId") or ""))]
        fresh = [r for r in rows if str(r["exOrdId"]) not in seen]
        more = len(fresh) > size or len(data) >= asked
        rows = fresh[:size]
        if not rows:
            return [], False, state
        stamps = [int(_number(r.get("timestamp")) or 0) for r in rows]
        oldest = min(stamps)
        at_oldest = [str(r["exOrdId"]) for r, t in zip(rows, stamps, strict=True) if t == oldest]
        carried = seen if oldest == to else set()
        next_state = {"phase": state["phase"], "to": oldest, "seen": sorted(carried | set(at_oldest))}
        return [_snapshot(str(r["exOrdId"]), r) for r in rows], more, next_state

    async def _call(self, creds: Credentials, method: str, path: str, *, verify: bool = False) -> tuple[int, Any]:
        resp = await self.transport.send(method, self.base_url + path, headers=auth.headers(creds.secret), body=b"")
        try:
            answer: Any = json.loads(resp.body) if resp.body else None
        except ValueError:
            answer = None
        if 200 <= resp.status < 300:
            return resp.status, answer
        raise _failure(resp, answer, creds, verify)


def _failure(resp: UpstreamResponse, answer: Any, creds: Credentials, verify: bool) -> Exception:
    status = resp.status
    readable = isinstance(answer, dict) and "status" in answer
    detail = " ".join(str(answer.get(k) or "") for k in ("error", "message")).strip() if readable else ""
    text = _scrub(detail, creds) or f"HTTP {status}"
    message = f"{VENUE} answered {text}"
    if status in (400, 404) and readable and not verify:
        return UnknownOrderAtVenue(status, text)
    if status == 429:
        header = str(resp.headers.get("Retry-After", ""))
        retry = int(header) if header.isdigit() else RATE_LIMIT_S
        return GatewayError(ErrorType.rateLimited, message, retry_after=retry, upstream_status=status)
    if status == 401:
        return GatewayError(ErrorType.institutionAuthFailed, message, upstream_status=status)
    if status == 403 and readable:
        return GatewayError(
            ErrorType.institutionPermissionDenied,
            f"{message}: this Blockchain.com API token cannot trade; give it the trading permission.",
            upstream_status=status,
        )
    if readable and 400 <= status < 500:
        return GatewayError(ErrorType.institutionRejected, message, upstream_status=status)
    # An error page, garbage, or a 5xx: an outage, which the cancel service checks with a lookup.
    return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=status)


def _snapshot(order_id: str, data: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(data.get("ordStatus") or "")
    filled, left = _number(data.get("cumQty")), _number(data.get("leavesQty"))
    amount = _number(data.get("orderQty"))
    if amount is None and filled is not None and left is not None:
        amount = filled + left
    base, _, quote = str(data.get("symbol") or "").partition("-")
    side = str(data.get("side") or "").lower()
    created = _number(data.get("timestamp"))
    price = _number(data.get("price"))
    return OrderSnapshot(
        order_id,
        STATUS_MAP.get(venue_status, OrderStatus.unknown),
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=str(data.get("symbol") or "") or None,
        price=price if price is not None else _number(data.get("avgPx")),
        order_type=ORDER_TYPE_MAP.get(str(data.get("ordType") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(data.get("timeInForce") or "")),
        created_at=int(created // 1000) if created else None,
    )
