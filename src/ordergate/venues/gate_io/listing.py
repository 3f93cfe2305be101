"""Gate's order listing: open orders first, then finished ones (`GET /spot/orders?status=finished`).

`currency_pair` is "required for open orders, optional for filled orders" on `/spot/orders` (gate-api's SpotApi
.list_orders), so history lists every pair unless `symbolPair` narrows it. Without a pair, open orders come from
`/spot/open_orders`, whose `page`/`limit` page each pair's orders: a page of it is cut here newest first below the
last (create_time_ms, id) handed out, and the next Gate page is asked for only while some pair filled its page. With
a pair, open and finished orders both page with Gate's own `page`/`limit` (newest first), the limit fixed along a
walk; a listing page that ends exactly where a full Gate page ends asks for the next Gate page once more, to hand
out a cursor only when orders remain (Gate answers no total and no end marker). A history walk freezes `to` at its
first page, so orders created later cannot shift the pages; an order that finishes meanwhile can only repeat one,
never hide one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, OrderPage, OrderQuery
from ordergate.venues.gate_io.constants import OPEN_ORDERS_LIMIT, OPEN_ORDERS_PATH, ORDERS_MAX_LIMIT, ORDERS_PATH

Call = Callable[[str, str], Awaitable[Any]]
Snapshot = Callable[[str, dict[str, Any]], OrderSnapshot]
OPEN, HISTORY = "open", "history"
_BAD_CURSOR = "The cursor is not one this listing handed out."


async def list_orders(call: Call, snapshot: Snapshot, query: OrderQuery, pair: str | None) -> OrderPage:
    cursor = query.cursor or {}
    wants_open = query.statuses is None or bool(query.statuses & OPEN_STATUSES)
    wants_history = query.statuses is None or bool(query.statuses - OPEN_STATUSES)
    phase = cursor.get("phase") or (OPEN if wants_open else HISTORY)
    page: list[OrderSnapshot] = []
    if phase == OPEN and pair is None:
        page, more = await _open_all_pairs(call, snapshot, query, cursor)
        if more is not None or not wants_history:
            return OrderPage(tuple(page), more)
        phase, cursor = HISTORY, {}
    while True:  # open orders of one pair, then finished ones, Gate page after Gate page until this page is full
        status = "open" if phase == OPEN else "finished"
        # Gate pages by number: `limit` stays the same along one walk, and `skip` counts the rows of the current
        # Gate page already handed out when a listing page ended inside it.
        number, to = cursor.get("page", 1), cursor.get("to", int(time.time()) + 1)
        limit, skip = cursor.get("limit", min(query.count, ORDERS_MAX_LIMIT)), cursor.get("skip", 0)
        if not all(_is_int(v) for v in (number, to, limit, skip)) or number < 1 or not 1 <= limit <= ORDERS_MAX_LIMIT:
            raise GatewayError(ErrorType.invalidField, _BAD_CURSOR)
        params: dict[str, Any] = {"currency_pair": pair} if pair is not None else {}
        params |= {"status": status, "page": number, "limit": limit}
        if status == "finished":
            params |= {"from": query.since, "to": to} if query.since is not None else {"to": to}
        rows = _rows(await call(ORDERS_PATH, urlencode(params)))
        room, state = query.count - len(page), {"phase": phase, "to": to, "limit": limit}
        if room == 0:
            # The page filled at the end of a full Gate page (or of the open orders). Gate says neither a total nor
            # whether a page is the last, so this one request only learns whether the walk goes on: without it the
            # last cursor would lead to an empty page.
            if len(rows) > skip:
                return OrderPage(tuple(page), state | {"page": number, "skip": skip})
        else:
            taken = rows[skip : skip + room]
            page += [s for s in (snapshot(str(r["id"]), r) for r in taken if _since(query, r)) if _wanted(query, s)]
            if skip + len(taken) < len(rows):
                return OrderPage(tuple(page), state | {"page": number, "skip": skip + len(taken)})
            if len(rows) == limit:
                cursor = state | {"page": number + 1, "skip": 0}
                continue
        if phase == HISTORY or not wants_history:
            return OrderPage(tuple(page))
        phase, cursor = HISTORY, {}


async def _open_all_pairs(
    call: Call, snapshot: Snapshot, query: OrderQuery, cursor: dict[str, Any]
) -> tuple[list[OrderSnapshot], dict[str, Any] | None]:
    number, after = cursor.get("page", 1), cursor.get("after")
    if not _is_int(number) or number < 1 or not (after is None or _is_pair(after)):
        raise GatewayError(ErrorType.invalidField, _BAD_CURSOR)
    answer = await call(OPEN_ORDERS_PATH, urlencode({"page": number, "limit": OPEN_ORDERS_LIMIT}))
    if not isinstance(answer, list) or not all(isinstance(g, dict) for g in answer):
        raise GatewayError(ErrorType.institutionUnavailable, "Gate's open-order list is not the documented shape")
    groups = [_rows(g.get("orders")) for g in answer]
    rows = sorted((r for g in groups for r in g), key=_key, reverse=True)
    rows = [r for r in rows if (after is None or _key(r) < tuple(after)) and _since(query, r)]
    picked = [(r, s) for r, s in ((r, snapshot(str(r["id"]), r)) for r in rows) if _wanted(query, s)]
    page = [s for _, s in picked[: query.count]]
    if len(picked) > query.count:
        return page, {"phase": OPEN, "page": number, "after": list(_key(picked[query.count - 1][0]))}
    if any(len(g) == OPEN_ORDERS_LIMIT for g in groups):
        return page, {"phase": OPEN, "page": number + 1}
    return page, None


def _wanted(query: OrderQuery, snap: OrderSnapshot) -> bool:
    return query.statuses is None or snap.status in query.statuses


def _since(query: OrderQuery, row: dict[str, Any]) -> bool:
    return query.since is None or _key(row)[0] >= query.since * 1000


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_pair(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value)


def _key(row: dict[str, Any]) -> tuple[int, int]:
    return (row["create_time_ms"], int(row["id"]))


def _rows(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, list) or not all(
        isinstance(r, dict) and _is_int(r.get("create_time_ms")) and str(r.get("id", "")).isdigit() for r in payload
    ):
        raise GatewayError(ErrorType.institutionUnavailable, "Gate's order list is not the documented shape")
    return payload
