"""Bitfinex's order listing: active orders first (`/v2/auth/r/orders`), then closed ones (`/v2/auth/r/orders/hist`).

Active orders come all at once (Bitfinex does not page them), so pages are cut here, newest first, below the last
(MTS_CREATE, ID) handed out. History is newest first at Bitfinex and pages with `end`: the next page asks up to the
last order's MTS_UPDATE inclusive and skips the orders of that millisecond already handed out, so orders updated in
the same millisecond are neither lost nor repeated; each history request asks one row more than the page holds, so a
cursor is handed out only when orders remain. `since` maps to `start` (an order created at or after it was
updated at or after it too) and is checked against MTS_CREATE here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, OrderPage, OrderQuery
from ordergate.venues.bitfinex.constants import HISTORY_MAX_LIMIT, HISTORY_PATH, ORDERS_PATH

Call = Callable[[str, dict[str, Any]], Awaitable[Any]]
Snapshot = Callable[[str, list[Any]], OrderSnapshot]
OPEN, HISTORY = "open", "history"
_ID, _CREATED, _UPDATED = 0, 4, 5


async def list_orders(call: Call, snapshot: Snapshot, query: OrderQuery) -> OrderPage:
    cursor = query.cursor or {}
    wants_open = query.statuses is None or bool(query.statuses & OPEN_STATUSES)
    wants_history = query.statuses is None or bool(query.statuses - OPEN_STATUSES)
    phase = cursor.get("phase") or (OPEN if wants_open else HISTORY)
    since_ms = query.since * 1000 if query.since is not None else None
    page: list[OrderSnapshot] = []
    if phase == OPEN:
        after = _pair(cursor.get("after"))
        rows = [r for r in _rows(await call(ORDERS_PATH, {})) if after is None or _open_key(r) < after]
        rows = [r for r in sorted(rows, key=_open_key, reverse=True) if since_ms is None or r[_CREATED] >= since_ms]
        picked = [(r, s) for r, s in ((r, snapshot(str(r[_ID]), r)) for r in rows) if _wanted(query, s)]
        page = [s for _, s in picked[: query.count]]
        if len(picked) > query.count:
            return OrderPage(tuple(page), {"phase": OPEN, "after": list(_open_key(picked[query.count - 1][0]))})
        if not wants_history:
            return OrderPage(tuple(page))
        cursor = {}
    end, skip = cursor.get("end"), cursor.get("skip", [])
    if (end is not None and not _is_int(end)) or not isinstance(skip, list) or not all(_is_int(i) for i in skip):
        raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing handed out.")
    room = query.count - len(page)
    # One row more than the page holds says whether history goes on, so the last cursor never leads to an empty page
    # (when active orders filled the page, this request asks only that).
    limit = min(room + len(skip) + 1, HISTORY_MAX_LIMIT)
    body: dict[str, Any] = {"limit": limit}
    if since_ms is not None:
        body["start"] = since_ms
    if end is not None:
        body["end"] = end
    rows = _rows(await call(HISTORY_PATH, body))
    fresh = [r for r in rows if not (r[_UPDATED] == end and r[_ID] in skip)]
    taken = fresh[:room]
    for row in taken:
        snap = snapshot(str(row[_ID]), row)
        if _wanted(query, snap) and (since_ms is None or row[_CREATED] >= since_ms):
            page.append(snap)
    if len(fresh) <= room and len(rows) < limit:
        return OrderPage(tuple(page))
    if not taken:
        return OrderPage(tuple(page), {"phase": HISTORY})
    last = taken[-1][_UPDATED]
    seen = [r[_ID] for r in taken if r[_UPDATED] == last] + (skip if last == end else [])
    return OrderPage(tuple(page), {"phase": HISTORY, "end": last, "skip": seen})


def _wanted(query: OrderQuery, snap: OrderSnapshot) -> bool:
    return query.statuses is None or snap.status in query.statuses


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _rows(payload: Any) -> list[list[Any]]:
    if not isinstance(payload, list) or not all(
        isinstance(r, list) and len(r) > 17 and all(_is_int(r[i]) for i in (_ID, _CREATED, _UPDATED)) for r in payload
    ):
        raise GatewayError(ErrorType.institutionUnavailable, "Bitfinex's order list is not the documented shape")
    return payload


def _open_key(row: list[Any]) -> tuple[int, int]:
    return (row[_CREATED], row[_ID])


def _pair(raw: Any) -> tuple[int, int] | None:
    if raw is None:
        return None
    if isinstance(raw, list) and len(raw) == 2 and all(_is_int(v) for v in raw):
        return (raw[0], raw[1])
    raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing handed out.")
