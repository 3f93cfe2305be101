"""Paging over Binance's order listings, newest first (pure: no I/O).

Binance answers allOrders oldest first and pages only forward by orderId, so ordergate walks backwards by
`endTime`: the cursor keeps the time and orderId of the last order handed out, and how many orders already handed
out share that millisecond, so that the next request asks for enough rows to step past them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


def key(row: Row) -> tuple[int, int]:
    time, order_id = row.get("time"), row.get("orderId")
    return (time if isinstance(time, int) else 0, order_id if isinstance(order_id, int) else 0)


def newest_first(rows: Sequence[Any]) -> list[Row]:
    return sorted((r for r in rows if isinstance(r, dict)), key=key, reverse=True)


def older_than(rows: list[Row], cursor: dict[str, Any] | None) -> list[Row]:
    """Rows strictly older than the last one handed out (by time, then orderId)."""
    bound = _bound(cursor)
    return rows if bound is None else [r for r in rows if key(r) < bound]


def _bound(cursor: dict[str, Any] | None) -> tuple[int, int] | None:
    if not cursor:
        return None
    time, order_id = cursor.get("time"), cursor.get("orderId")
    if isinstance(time, int) and isinstance(order_id, int):
        return time, order_id
    return None


@dataclass(frozen=True, slots=True)
class Taken:
    rows: list[Row]  # the page, newest first
    last: Row | None  # the oldest row consumed (kept or filtered out): where the next page starts
    consumed: list[Row]
    reached_since: bool  # an older row than `since` was met: nothing further can match


def take(rows: list[Row], count: int, keep: Callable[[Row], bool], since_ms: int | None) -> Taken:
    """Walk `rows` (newest first) until `count` of them are kept; stop at the first row older than `since_ms`."""
    page: list[Row] = []
    consumed: list[Row] = []
    for row in rows:
        if len(page) == count:
            break
        if since_ms is not None and key(row)[0] < since_ms:
            return Taken(page, consumed[-1] if consumed else None, consumed, True)
        consumed.append(row)
        if keep(row):
            page.append(row)
    return Taken(page, consumed[-1] if consumed else None, consumed, False)


def next_cursor(phase: str, previous: dict[str, Any] | None, taken: Taken) -> dict[str, Any] | None:
    """Cursor after `taken.last`, counting the consumed rows that share its millisecond (with the previous page's,
    when it ended on the same one)."""
    if taken.last is None:
        return None
    time, order_id = key(taken.last)
    tied = sum(1 for r in taken.consumed if key(r)[0] == time)
    if previous and previous.get("time") == time and isinstance(previous.get("tied"), int):
        tied += previous["tied"]
    return {"phase": phase, "time": time, "orderId": order_id, "tied": tied}
