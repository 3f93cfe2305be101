"""eToro Public API: cancel one pending order, look one order up, verify a key pair.

Two requests per cancel: the order's info, then the v2 cancel. eToro's cancel answers 200 both to a pending order
(its request is "submitted") and to one already closed or cancelled ("idempotent"), so its answer alone cannot keep
a filled or cancelled order from reading as `ok`. Reading the order first decides those (409 with their status, 404
when this account has no such order) without spending a write: writes share a quota of 20 a minute per user. A
pending order is then cancelled; the 200 means "submitted", so the answer is `inProgress` (a fill racing the cancel
in between also gets eToro's 200, which is why it is not `cancelled`).

Listing: the portfolio's pending orders, one request, paged here newest first; eToro lists no closed orders.

eToro answers with HTTP statuses and RFC 7807 ProblemDetails bodies, so the status decides and the body only
proves the answer came from eToro.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderPage, OrderQuery
from ordergate.venues.common import key_fingerprint, scrub
from ordergate.venues.common import number as _number
from ordergate.venues.etoro.auth import auth_headers, environment, environment_hint, path_for
from ordergate.venues.etoro.constants import (
    CANCEL_PATHS,
    ERROR_BY_STATUS,
    INT64_MAX,
    OPEN_STATUS_IDS,
    ORDER_ID_SHAPE,
    ORDER_INFO_PATHS,
    RATE_WINDOW_S,
    STATUS_MAP,
    STATUS_NAMES,
    VERIFY_PATHS,
)
from ordergate.venues.transport import NotDelivered, OutcomeUnknown, UpstreamResponse

VENUE = "eToro"


def order_number(order_id: str) -> int:
    """The int64 eToro assigned; anything else is refused before a URL is built."""
    if not isinstance(order_id, str) or not ORDER_ID_SHAPE.admits(order_id) or int(order_id) > INT64_MAX:
        raise GatewayError(
            ErrorType.invalidField,
            f"An eToro order id is the number eToro assigned (orderId), such as {ORDER_ID_SHAPE.example}",
            error_data={"fields": {"id": "an eToro orderId (a positive int64)"}},
        )
    return int(order_id)


class EtoroAdapter(Adapter):
    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # eToro keys have no second factor. The portfolio is the cheapest read both environments have; its answer
        # names no account when it is empty, so the user key's digest (never the key) names it.
        env = environment_hint(creds.passphrase)
        resp = await self.transport.send(
            "GET", self.base_url + path_for(VERIFY_PATHS, env), headers=auth_headers(creds)
        )
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None and isinstance(payload.get("clientPortfolio"), dict):
            return AccountInfo(
                account_id=_fingerprint(creds.secret),
                account_name=f"eToro ({env})",
                extras={"environment": env},
            )
        if resp.status in (401, 403) and _problem(resp) is not None:
            # A user key is created for one environment; the other one refuses it like a wrong key.
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                f"eToro refused the keys for its {env} environment (HTTP {resp.status}); check the keys and that "
                f"authToken names the environment the user key was created for ('demo' or 'real').",
                upstream_status=resp.status,
            )
        raise _failure(resp, creds)

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        snapshot = await self.get_order(creds, order)
        if snapshot is None:
            raise GatewayError(
                ErrorType.orderNotFound,
                "eToro has no order with this id for this account.",
                error_data={"orderId": order.id},
            )
        if snapshot.status not in (OrderStatus.inProgress, OrderStatus.partiallyFilled):
            raise GatewayError(
                ErrorType.orderNotCancelable,
                f"The order cannot be cancelled: eToro lists it as {snapshot.venue_status}.",
                error_data={"orderStatus": snapshot.status.value, "orderId": order.id},
            )
        url = self.base_url + path_for(CANCEL_PATHS, environment(creds)).format(order_id=order_number(order.id))
        resp = await self.transport.send("DELETE", url, headers=auth_headers(creds))
        if resp.status == 200 and _json_object(resp.body) is not None:
            return await self._after_accepted(creds, order, resp.status)
        if resp.status == 404 and _problem(resp) is not None:
            # Listed a moment ago, unknown to the cancel: only another look tells what happened to it.
            raise UnknownOrderAtVenue(resp.status, _detail(resp, creds))
        raise _failure(resp, creds)

    async def _after_accepted(self, creds: Credentials, order: OrderRef, status: int) -> CancelAck:
        """eToro's 200 is "submitted", and a fill may have landed between our read and the DELETE: one more read
        tells cancelled, still pending or filled first, so a filled order is never answered `inProgress`."""
        try:
            after = await self.get_order(creds, order)
        except (NotDelivered, OutcomeUnknown, GatewayError):
            return CancelAck(order.id, OrderStatus.inProgress, status)  # accepted; what followed is not known yet
        if after is not None and after.status is OrderStatus.cancelled:
            return CancelAck(order.id, OrderStatus.cancelled, status)
        if after is not None and after.status not in (OrderStatus.inProgress, OrderStatus.partiallyFilled):
            raise GatewayError(
                ErrorType.orderNotCancelable,
                f"The order cannot be cancelled: eToro lists it as {after.venue_status}.",
                error_data={"orderStatus": after.status.value, "orderId": order.id},
            )
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        path = path_for(ORDER_INFO_PATHS, environment(creds)).format(order_id=order_number(order.id))
        resp = await self.transport.send("GET", self.base_url + path, headers=auth_headers(creds))
        payload = _json_object(resp.body)
        if resp.status == 200 and payload is not None and str(payload.get("orderID")) == order.id:
            return _snapshot(order.id, payload)
        if resp.status == 404 and _problem(resp) is not None:
            return None
        if resp.status == 200:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "eToro's order information does not describe the order asked for",
                upstream_status=resp.status,
            )
        raise _failure(resp, creds)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        if query.statuses is not None and not query.statuses & OPEN_STATUSES:
            raise GatewayError(
                ErrorType.listingNotSupported,
                "eToro lists pending orders only: its trade history holds closed positions, not orders, so executed, "
                "cancelled and rejected orders cannot be listed.",
                error_data={"type": self.spec.type.value, "listable": sorted(s.value for s in OPEN_STATUSES)},
            )
        path = path_for(VERIFY_PATHS, environment(creds))
        resp = await self.transport.send("GET", self.base_url + path, headers=auth_headers(creds))
        payload = _json_object(resp.body)
        portfolio = payload.get("clientPortfolio") if resp.status == 200 and payload is not None else None
        if not isinstance(portfolio, dict):
            if resp.status == 200:
                raise GatewayError(ErrorType.institutionUnavailable, "eToro's portfolio has no clientPortfolio",
                                   upstream_status=resp.status)  # fmt: skip
            raise _failure(resp, creds)
        snaps = _pending(portfolio)
        bound = (query.cursor or {}).get("before")
        if isinstance(bound, list) and len(bound) == 2 and all(isinstance(v, int) for v in bound):
            snaps = [(k, s) for k, s in snaps if k < tuple(bound)]
        picked = [(k, s) for k, s in snaps if (query.since is None or (s.created_at or 0) >= query.since)
                  and (query.statuses is None or s.status in query.statuses)]  # fmt: skip
        page = picked[: query.count]
        cursor = {"phase": "pending", "before": list(page[-1][0])} if len(picked) > query.count else None
        return OrderPage(tuple(s for _, s in page), cursor)


def _pending(portfolio: dict[str, Any]) -> list[tuple[tuple[int, int], OrderSnapshot]]:
    """The pending orders, newest first, keyed (opened at in ms, orderID) for paging."""
    filled: dict[int, float] = {}
    for p in portfolio.get("positions") or ():
        if isinstance(p, dict) and isinstance(p.get("orderID"), int):
            filled[p["orderID"]] = filled.get(p["orderID"], 0.0) + (_number(p.get("units")) or 0.0)
    found: list[tuple[tuple[int, int], OrderSnapshot]] = []
    for group, order_type in (("orders", "limit"), ("ordersForOpen", "market")):
        for entry in portfolio.get(group) or ():
            order_id = entry.get("orderID") if isinstance(entry, dict) else None
            if not isinstance(order_id, int) or isinstance(order_id, bool) or not 0 < order_id <= INT64_MAX:
                continue
            opened = _unix_ms(entry.get("openDateTime"))
            done = filled.get(order_id, 0.0)
            status = OrderStatus.partiallyFilled if done else OrderStatus.inProgress
            instrument = entry.get("instrumentID")
            snap = OrderSnapshot(
                str(order_id),
                status,
                STATUS_NAMES[4 if done else 0],
                _number(entry.get("units")) or None,
                done,
                side=OrderSide.buy if entry.get("isBuy") is True else OrderSide.sell,
                symbol=str(instrument) if instrument is not None else None,
                payment_symbol="USD",
                price=_number(entry.get("rate")) or None,
                order_type=order_type,
                created_at=opened // 1000 if opened is not None else None,
            )
            found.append(((opened or 0, order_id), snap))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return found


def _unix_ms(value: Any) -> int | None:
    text = str(value or "")
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000) if text else None
    except ValueError:
        return None


def _fingerprint(user_key: str) -> str:

    return key_fingerprint("etoro", user_key)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _problem(resp: UpstreamResponse) -> dict[str, Any] | None:
    """eToro's RFC 7807 body: a JSON object with at least one of its members (an edge's HTML page is not one)."""
    payload = _json_object(resp.body)
    if payload is None or not ({"type", "title", "status", "detail", "errors"} & payload.keys()):
        return None
    return payload


def _detail(resp: UpstreamResponse, creds: Credentials) -> str:
    problem = _problem(resp) or {}
    text = str(problem.get("detail") or problem.get("title") or "")
    # The environment word ("demo"/"real") is not a secret: only the keys are masked.
    return scrub(text, replace(creds, passphrase=None))


def _failure(resp: UpstreamResponse, creds: Credentials) -> GatewayError:
    if resp.status == 429:
        # Whoever in front of eToro said it, waiting is the answer.
        return GatewayError(
            ErrorType.rateLimited,
            "eToro answered HTTP 429: the key's write quota (20 requests per 60 s) is spent",
            retry_after=_retry_after(resp.headers),
            upstream_status=resp.status,
        )
    problem = _problem(resp)
    if problem is None or resp.status >= 500:
        detail = "" if problem is not None else " with an unreadable body"
        return GatewayError(
            ErrorType.institutionUnavailable, f"eToro answered HTTP {resp.status}{detail}", upstream_status=resp.status
        )
    kind = ERROR_BY_STATUS.get(resp.status)
    if kind is None:
        kind = ErrorType.institutionRejected if 400 <= resp.status < 500 else ErrorType.institutionUnavailable
    return GatewayError(kind, f"eToro answered HTTP {resp.status}: {_detail(resp, creds)}", upstream_status=resp.status)


def _retry_after(raw_headers: Any) -> int:
    headers = {str(k).lower(): str(v).strip() for k, v in raw_headers.items()}
    for name in ("retry-after", "ratelimit-reset"):  # both in seconds, per eToro's 429 headers
        value = headers.get(name, "")
        if value.isdigit():
            return min(max(1, int(value)), RATE_WINDOW_S)
    return RATE_WINDOW_S


def _unix(value: Any) -> int | None:
    text = str(value or "")
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _snapshot(order_id: str, info: dict[str, Any]) -> OrderSnapshot:
    raw = info.get("statusID")
    status_id = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    status = STATUS_MAP.get(status_id, OrderStatus.unknown) if status_id is not None else OrderStatus.unknown
    positions = [p for p in info.get("positions") or () if isinstance(p, dict)]
    filled_units = sum(_number(p.get("units")) or 0.0 for p in positions)
    filled_value = sum(_number(p.get("amount")) or 0.0 for p in positions)
    if status_id in OPEN_STATUS_IDS and filled_units:
        status = OrderStatus.partiallyFilled
    amount = _number(info.get("units")) or None
    rates = [_number(p.get("rate")) for p in positions]
    rate = next((r for r in rates if r), None)
    instrument = info.get("instrumentID")
    created = _unix(info.get("requestOccurred"))
    return OrderSnapshot(
        order_id,
        status,
        STATUS_NAMES.get(status_id, f"statusID {raw}") if status_id is not None else f"statusID {raw}",
        amount,
        filled_units if positions else (0.0 if status_id is not None else None),
        symbol=str(instrument) if instrument is not None else None,
        payment_symbol="USD",
        price=rate,
        value=filled_value if positions else None,
        created_at=created,
        updated_at=max((t for t in (_unix(p.get("occurred")) for p in positions) if t), default=created),
    )
