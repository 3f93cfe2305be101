"""Gemini's order listing: live orders first (`POST /v1/orders`), then closed ones (`POST /v1/orders/history`).

Live orders come all at once (no paging at Gemini), so pages are cut here, newest first, below the last
(timestampms, order id) handed out. History follows Gemini's documented walk, which goes *forward* in time: each answer
holds the earliest `limit_orders` closed orders at or after `timestamp`, shown newest first, and the next one starts
at the highest timestamp + 1. There is no upper bound, so history pages run oldest chunk first (each page newest
first inside): the only order Gemini's API gives without reading the whole history for one page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, OrderPage, OrderQuery
from ordergate.venues.gemini.constants import ACTIVE_ORDERS_PATH, HISTORY_MAX_LIMIT, ORDER_HISTORY_PATH

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]
Snapshot = Callable[[str, dict[str, Any]], OrderSnapshot]
OPEN, HISTORY = "open", "history"


async def list_orders(call: Call, snapshot: Snapshot, query: OrderQuery) -> OrderPage:
    cursor = query.cursor or {}
    wants_open = query.statuses is None or bool(query.statuses & OPEN_STATUSES)
    wants_history = query.statuses is None or bool(query.statuses - OPEN_STATUSES)
    phase = cursor.get("phase") or (OPEN if wants_open else HISTORY)
    page: list[OrderSnapshot] = []
    if phase == OPEN:
        rows = _rows(await call(ACTIVE_ORDERS_PATH, {}))
        after = _bound(cursor.get("after"))
        live = sorted((r for r in rows if after is None or _key(r) < after), key=_key, reverse=True)
        live = [r for r in live if query.since is None or _key(r)[0] >= query.since * 1000]
        picked = [(r, s) for r, s in ((r, snapshot(str(r.get("order_id")), r)) for r in live) if _wanted(query, s)]
        page = [s for _, s in picked[: query.count]]
        if len(picked) > query.count:
            return OrderPage(tuple(page), {"phase": OPEN, "after": list(_key(picked[query.count - 1][0]))})
        if not wants_history:
            return OrderPage(tuple(page))
        if len(page) == query.count:
            return OrderPage(tuple(page), {"phase": HISTORY})
        cursor = {}
    room = query.count - len(page)
    start = cursor.get("timestamp", query.since * 1000 if query.since is not None else 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing handed out.")
    limit = min(room, HISTORY_MAX_LIMIT)
    rows = sorted(_rows(await call(ORDER_HISTORY_PATH, {"limit_orders": limit, "timestamp": start})), key=_key)
    for row in reversed(rows):
        snap = snapshot(str(row.get("order_id")), row)
        if _wanted(query, snap):
            page.append(snap)
    if len(rows) < limit:
        return OrderPage(tuple(page))
    return OrderPage(tuple(page), {"phase": HISTORY, "timestamp": _key(rows[-1])[0] + 1})


def _wanted(query: OrderQuery, snap: OrderSnapshot) -> bool:
    return query.statuses is None or snap.status in query.statuses


def _rows(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, list) or not all(isinstance(r, dict) and _key(r) != (-1, -1) for r in payload):
        raise GatewayError(ErrorType.institutionUnavailable, "Gemini's order list is not the documented shape")
    return payload


def _key(row: dict[str, Any]) -> tuple[int, int]:
    stamp, number = row.get("timestampms"), str(row.get("order_id", ""))
    if not isinstance(stamp, int) or isinstance(stamp, bool) or not number.isdigit():
        return (-1, -1)
    return (stamp, int(number))


def _bound(raw: Any) -> tuple[int, int] | None:
    if raw is None:
        return None
    if isinstance(raw, list) and len(raw) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
        return (raw[0], raw[1])
    raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing handed out.")
