"""CEX.IO's order listing in two phases, both `get_my_orders` paged by pageNumber: open orders, then the archive
(`archived: true`, final orders). A query for open statuses only is one request on the open phase; one for final
statuses only starts in the archive. The page size is fixed by the first page and kept in the cursor, so that page
numbers keep meaning the same orders whatever `count` the next query carries.
"""

from __future__ import annotations

import time
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.cex_io.constants import ARCHIVE_LOOKBACK_MS, LIST_MAX_PAGE_SIZE

OPEN, ARCHIVE = "open", "archive"


def start(query: OrderQuery) -> dict[str, Any]:
    cursor = query.cursor
    if cursor is not None:
        size, page, skip = cursor.get("size"), cursor.get("page"), cursor.get("skip", 0)
        if (
            cursor.get("phase") not in (OPEN, ARCHIVE)
            or not (type(size) is int and 0 < size <= LIST_MAX_PAGE_SIZE and type(page) is int and 0 <= page < 10**6)
            or not (type(skip) is int and 0 <= skip < size)
        ):
            raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing issued")
        return cursor
    size = min(query.count, LIST_MAX_PAGE_SIZE)
    if query.statuses is not None and not query.statuses & OPEN_STATUSES:
        return {"phase": ARCHIVE, "page": 0, "size": size}
    return {"phase": OPEN, "page": 0, "size": size}


def wants_archive(query: OrderQuery) -> bool:
    return query.statuses is None or bool(query.statuses - OPEN_STATUSES)


def params(position: dict[str, Any], query: OrderQuery, pair: str | None) -> dict[str, Any]:
    request: dict[str, Any] = {"pageSize": position["size"], "pageNumber": position["page"], "sortOrder": "DESC"}
    if pair:
        request["pair"] = pair
    since_ms = query.since * 1000 if query.since is not None else None
    if position["phase"] == ARCHIVE:
        request["archived"] = True
        # The archive wants a start; a year back (less a day) is the longest period it takes.
        request["serverCreateTimestampFrom"] = max(since_ms or 0, int(time.time() * 1000) - ARCHIVE_LOOKBACK_MS)
    elif since_ms is not None:
        request["serverCreateTimestampFrom"] = since_ms
    return request


def following(position: dict[str, Any], rows: int, query: OrderQuery) -> dict[str, Any] | None:
    """Where the next page starts; None when this was the last one."""
    if rows >= position["size"]:
        return {**position, "page": position["page"] + 1}
    if position["phase"] == OPEN and wants_archive(query):
        return {"phase": ARCHIVE, "page": 0, "size": position["size"]}
    return None
