"""Crypto.com's order listing in two phases: open orders (`private/get-open-orders`, every one in one answer, paged
here by offset), then final orders (`private/get-order-history`, paged by `end_time` = the oldest create_time_ns read).

A query for open statuses only never leaves the first phase: one request. A query for final statuses only starts
at the second. A page that ends the open phase with room left continues into the history, so a page is one request,
two at a phase boundary.
"""

from __future__ import annotations

from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.crypto_com.constants import HISTORY_MAX_LIMIT

OPEN, HISTORY = "open", "history"


def first_phase(query: OrderQuery) -> dict[str, Any] | None:
    """Where a listing starts or resumes; None when nothing is left to read."""
    cursor = query.cursor
    if cursor is not None:
        if cursor.get("phase") not in (OPEN, HISTORY) or not all(
            type(cursor.get(k, 0)) is int and cursor.get(k, 0) >= 0 for k in ("offset", "end")
        ):
            raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing issued")
        return cursor
    if query.statuses is not None and not query.statuses & OPEN_STATUSES:
        return {"phase": HISTORY}
    return {"phase": OPEN, "offset": 0}


def wants_history(query: OrderQuery) -> bool:
    return query.statuses is None or bool(query.statuses - OPEN_STATUSES)


def keep(order: OrderSnapshot, query: OrderQuery) -> bool:
    if query.since is not None and (order.created_at or 0) < query.since:
        return False
    return query.statuses is None or order.status in query.statuses


def open_page(
    rows: list[dict[str, Any]], query: OrderQuery, offset: int, room: int, snapshot: Any
) -> tuple[list[OrderSnapshot], dict[str, Any] | None]:
    """The open orders for this page and where the listing goes next (None: history or the end, see caller)."""
    ordered = sorted(rows, key=_created_ns, reverse=True)
    matching = [o for o in (snapshot(str(r.get("order_id")), r) for r in ordered) if keep(o, query)]
    taken = matching[offset : offset + room]
    if offset + room < len(matching):
        return taken, {"phase": OPEN, "offset": offset + room}
    return taken, None


def history_params(query: OrderQuery, end: int | None, room: int, instrument: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": min(room, HISTORY_MAX_LIMIT)}
    if instrument:
        params["instrument_name"] = instrument
    # Without a start_time Crypto.com answers one day only.
    params["start_time"] = str((query.since or 0) * 10**9)
    if end:
        params["end_time"] = str(end)
    return params


def history_page(
    rows: list[dict[str, Any]], query: OrderQuery, limit: int, snapshot: Any
) -> tuple[list[OrderSnapshot], dict[str, Any] | None]:
    orders = [snapshot(str(r.get("order_id")), r) for r in rows]
    kept = [o for o in orders if keep(o, query) and o.status not in OPEN_STATUSES]
    oldest = min((_created_ns(r) for r in rows), default=0)
    more = len(rows) >= limit and oldest > 0
    return kept, ({"phase": HISTORY, "end": oldest} if more else None)


def _created_ns(row: dict[str, Any]) -> int:
    text = str(row.get("create_time_ns") or "")
    if text.isdigit():
        return int(text)
    ms = row.get("create_time")
    return int(ms) * 1_000_000 if type(ms) is int else 0
