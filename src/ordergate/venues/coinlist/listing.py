"""CoinList's order listing: one `GET /v1/orders` per page, newest first, paged by time.

CoinList has no page token: the next page ends at the oldest `created_at` read (`end_time`, inclusive), and the ids
already returned at that millisecond ride in the cursor so they are not returned twice. One more order than the page
holds is asked for, to know whether there is a next page without an empty last one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import OrderStatus
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.coinlist.constants import LIST_MAX_COUNT, LIVE_STATUSES, STATUS_MAP

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")
_SKIP_MAX = 500


def venue_statuses(statuses: frozenset[OrderStatus] | None) -> list[str]:
    """CoinList's statuses that can hold an order with one of these Mesh statuses (all when None)."""
    if statuses is None:
        return []
    wanted = []
    for name, status in STATUS_MAP.items():
        covers = {status, OrderStatus.partiallyFilled} if name in LIVE_STATUSES else {status}
        if covers & statuses:
            wanted.append(name)
    return wanted


def page_target(path: str, query: OrderQuery, symbol: str | None) -> tuple[str, int]:
    end, skip = _bound(query.cursor)
    count = min(query.count + len(skip) + 1, LIST_MAX_COUNT)
    params: list[tuple[str, str]] = [("status", name) for name in venue_statuses(query.statuses)]
    if symbol:
        params.append(("symbol", symbol))
    if query.since is not None:
        params.append(("start_time", _iso(query.since)))
    if end:
        params.append(("end_time", end))
    params.append(("count", str(count)))
    # Colons left as they are: aiohttp (yarl) would unescape "%3A" on the wire, and the signature is over the
    # query exactly as sent.
    return f"{path}?{urlencode(params, safe=':')}", count


def build_page(
    rows: list[dict[str, Any]], query: OrderQuery, asked: int, snapshot: Callable[[dict[str, Any]], OrderSnapshot]
) -> OrderPage:
    _, skip = _bound(query.cursor)
    fresh = [r for r in rows if str(r.get("order_id")) not in skip]
    kept: list[OrderSnapshot] = []
    read: list[dict[str, Any]] = []
    for row in fresh:
        if len(kept) == query.count:
            break
        read.append(row)
        order = snapshot(row)
        if query.statuses is None or order.status in query.statuses:
            kept.append(order)
    more = len(rows) >= asked or len(read) < len(fresh)
    if not more or not read:
        return OrderPage(tuple(kept))
    oldest = str(read[-1].get("created_at") or "")
    if not _ISO.fullmatch(oldest):
        raise GatewayError(ErrorType.institutionUnavailable, "CoinList's order list has an order without created_at")
    at_oldest = [str(r.get("order_id")) for r in read if r.get("created_at") == oldest]
    carried = skip if _bound(query.cursor)[0] == oldest else []
    return OrderPage(tuple(kept), {"end": oldest, "skip": [*carried, *at_oldest]})


def _bound(cursor: dict[str, Any] | None) -> tuple[str | None, list[str]]:
    if cursor is None:
        return None, []
    end, skip = cursor.get("end"), cursor.get("skip", [])
    if not (isinstance(end, str) and _ISO.fullmatch(end)) or not (
        isinstance(skip, list) and len(skip) <= _SKIP_MAX and all(isinstance(i, str) for i in skip)
    ):
        raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing issued")
    return end, skip


def _iso(unix_s: int) -> str:
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
