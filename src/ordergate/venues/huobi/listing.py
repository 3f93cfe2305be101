"""HTX's order listing: open orders (`GET /v1/order/openOrders`), then closed ones of the last 48 hours
(`GET /v1/order/history`); see constants.HISTORY_PATH for why history stops there.

Open orders page with HTX's own `from` (the last order id handed out) and `direct=next`: ids grow with time, so that
is newest first. History is newest first too and pages with `end-time`: the next page asks up to the last handed-out
order's created-at inclusive and skips the orders of that millisecond already handed out, so none is lost or
repeated whatever HTX's `next-time` and minimum `size` (10) are. `since` maps to `start-time` (kept inside the 48 h
window) and filters open orders here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, OrderPage, OrderQuery
from ordergate.venues.huobi.constants import (
    HISTORY_PATH,
    HISTORY_SIZE,
    HISTORY_WINDOW_MS,
    OPEN_ORDERS_MAX_SIZE,
    OPEN_ORDERS_PATH,
)

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Snapshot = Callable[[str, dict[str, Any]], OrderSnapshot]
OPEN, HISTORY = "open", "history"
_BAD_CURSOR = "The cursor is not one this listing handed out."


async def list_orders(
    call: Call,
    account_id: Callable[[], Awaitable[str]],
    snapshot: Snapshot,
    query: OrderQuery,
    clock: Callable[[], float],
) -> OrderPage:
    cursor = query.cursor or {}
    wants_open = query.statuses is None or bool(query.statuses & OPEN_STATUSES)
    wants_history = query.statuses is None or bool(query.statuses - OPEN_STATUSES)
    phase = cursor.get("phase") or (OPEN if wants_open else HISTORY)
    since_ms = query.since * 1000 if query.since is not None else None
    page: list[OrderSnapshot] = []
    if phase == OPEN:
        after = cursor.get("from")
        if after is not None and not _is_int(after):
            raise GatewayError(ErrorType.invalidField, _BAD_CURSOR)
        size = min(query.count, OPEN_ORDERS_MAX_SIZE)
        params: dict[str, Any] = {"account-id": await account_id(), "size": size}
        if after is not None:
            params |= {"from": after, "direct": "next"}
        rows = _rows(await call(OPEN_ORDERS_PATH, params))
        for row in rows:
            snap = snapshot(str(row["id"]), row)
            if _wanted(query, snap) and (since_ms is None or row["created-at"] >= since_ms):
                page.append(snap)
        if len(rows) == size:
            return OrderPage(tuple(page), {"phase": OPEN, "from": rows[-1]["id"]})
        if not wants_history:
            return OrderPage(tuple(page))
        if len(page) >= query.count:
            return OrderPage(tuple(page), {"phase": HISTORY})
        cursor = {}
    end, skip = cursor.get("end"), cursor.get("skip", [])
    if (end is not None and not _is_int(end)) or not isinstance(skip, list) or not all(_is_int(i) for i in skip):
        raise GatewayError(ErrorType.invalidField, _BAD_CURSOR)
    room = query.count - len(page)
    size = min(max(room + len(skip), HISTORY_SIZE[0]), HISTORY_SIZE[1])
    now_ms = int(clock() * 1000)
    top = end if end is not None else now_ms
    # HTX keeps 48 hours; a minute's margin keeps clock skew from pushing start-time out of its window.
    oldest = now_ms - HISTORY_WINDOW_MS + 60_000
    params = {"end-time": top, "start-time": min(max(since_ms or 0, oldest), top), "size": size}
    answer = await call(HISTORY_PATH, params)
    rows = [r for r in _rows(answer) if not (r["created-at"] == end and r["id"] in skip)]
    taken = rows[:room]
    page += [s for s in (snapshot(str(r["id"]), r) for r in taken) if _wanted(query, s)]
    more = len(taken) < len(rows) or answer.get("next-time") is not None
    if not taken or not more:
        return OrderPage(tuple(page))
    last = taken[-1]["created-at"]
    seen = [r["id"] for r in taken if r["created-at"] == last] + (skip if last == end else [])
    return OrderPage(tuple(page), {"phase": HISTORY, "end": last, "skip": seen})


def _wanted(query: OrderQuery, snap: OrderSnapshot) -> bool:
    return query.statuses is None or snap.status in query.statuses


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rows(answer: dict[str, Any]) -> list[dict[str, Any]]:
    rows = answer.get("data")
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and _is_int(r.get("id")) and _is_int(r.get("created-at")) for r in rows
    ):
        raise GatewayError(ErrorType.institutionUnavailable, "HTX's order list is not the documented shape")
    return rows
