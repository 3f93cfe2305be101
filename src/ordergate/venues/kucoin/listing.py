"""KuCoin listings: open orders first, then done ones, for classic and HF accounts (their endpoints differ).

Classic pages by currentPage/pageSize, with a minimum page size of 10: the cursor keeps an item offset, so a page
of fewer than 10 orders reads the venue page holding that offset and hands out its part of it. HF lists open
orders of one symbol in one answer (paged here by offset) and done ones by KuCoin's `lastId`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.kucoin.constants import (
    CLASSIC_LIST_PATH,
    CLASSIC_PAGE_SIZE,
    HF_ACTIVE_PATH,
    HF_DONE_LIMIT_MAX,
    HF_DONE_PATH,
)

OPEN, DONE = "open", "done"
_DONE_STATUSES = frozenset({OrderStatus.cancelled, OrderStatus.success, OrderStatus.rejected})
Fetch = Callable[[str], Awaitable[tuple[int, Any]]]  # signed GET of a path with its query → (status, data)


def phases(query: OrderQuery) -> list[str]:
    wanted = query.statuses
    needed = [p for p, s in ((OPEN, OPEN_STATUSES), (DONE, _DONE_STATUSES)) if wanted is None or wanted & s]
    current = (query.cursor or {}).get("phase")
    return needed[needed.index(current) :] if current in needed else needed


def _query(params: list[tuple[str, str]]) -> str:
    # Every value is a validated symbol, a fixed word or digits: the query is signed and sent as is.
    return "&".join(f"{k}={v}" for k, v in params)


def _rows(status: int, data: Any, key: str | None) -> list[dict[str, Any]]:
    rows = data.get(key) if key and isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise GatewayError(ErrorType.institutionUnavailable, "KuCoin's order list is missing", upstream_status=status)
    return [r for r in rows if isinstance(r, dict)]


async def classic(
    fetch: Fetch, query: OrderQuery, phase: str, symbol: str | None, offset: int, room: int
) -> tuple[list[dict[str, Any]], int | None, int | None]:
    """(rows, next offset or None at the end, totalNum)."""
    size = max(CLASSIC_PAGE_SIZE[0], min(CLASSIC_PAGE_SIZE[1], room))
    page, skip = offset // size + 1, offset % size
    params = [("status", "active" if phase == OPEN else "done"), ("tradeType", "TRADE")]
    params += [("symbol", symbol)] if symbol else []
    params += [("startAt", str(query.since * 1000))] if query.since is not None else []
    params += [("currentPage", str(page)), ("pageSize", str(size))]
    status, data = await fetch(f"{CLASSIC_LIST_PATH}?{_query(params)}")
    items = _rows(status, data, "items")
    total = data.get("totalNum") if isinstance(data.get("totalNum"), int) else None
    taken = items[skip : skip + room]
    following = offset + len(taken)
    more = total > following if total is not None else len(items) == size
    return taken, (following if more and taken else None), total


async def hf_open(
    fetch: Fetch, query: OrderQuery, symbol: str, offset: int, room: int
) -> tuple[list[dict[str, Any]], int | None, int]:
    status, data = await fetch(f"{HF_ACTIVE_PATH}?{_query([('symbol', symbol)])}")
    # KuCoin sorts active HF orders by their latest update; Mesh wants newest created first. Ids are ObjectIds,
    # issued in order, so they order orders created in the same millisecond.
    rows = sorted(_rows(status, data, None), key=lambda r: (_int(r.get("createdAt")), str(r.get("id"))), reverse=True)
    if query.since is not None:
        rows = [r for r in rows if _int(r.get("createdAt")) >= query.since * 1000]
    taken = rows[offset : offset + room]
    following = offset + len(taken)
    return taken, (following if following < len(rows) else None), len(rows)


async def hf_done(
    fetch: Fetch, query: OrderQuery, symbol: str, last_id: Any, room: int
) -> tuple[list[dict[str, Any]], int | None]:
    limit = min(room, HF_DONE_LIMIT_MAX)
    params = [("symbol", symbol)]
    params += [("lastId", str(last_id))] if isinstance(last_id, int) else []
    params += [("startAt", str(query.since * 1000))] if query.since is not None else []
    params.append(("limit", str(limit)))
    status, data = await fetch(f"{HF_DONE_PATH}?{_query(params)}")
    items = _rows(status, data, "items")
    following = data.get("lastId") if isinstance(data, dict) else None
    more = len(items) >= limit and isinstance(following, int) and not isinstance(following, bool)
    return items, (following if more else None)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
