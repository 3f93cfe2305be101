"""Listing Robinhood orders, both halves: one venue page per call, Robinhood's own `cursor` carried in ours.

Both APIs page with a `next` URL holding a `cursor` and choose the page size themselves, so a Mesh page of `count`
orders may end inside a venue page: our cursor is then that venue page's cursor plus how many of its rows were
already handed out (`skip`). Statuses the venue cannot filter by are filtered here; every call is one request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import OrderStatus
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.robinhood.constants import CRYPTO_ORDERS_PATH, EQUITY_ORDERS_PATH

# Mesh status → the crypto API's `state` filter (one value per request).
_CRYPTO_STATES = {
    OrderStatus.inProgress: "open",
    OrderStatus.partiallyFilled: "partially_filled",
    OrderStatus.success: "filled",
    OrderStatus.cancelled: "canceled",
    OrderStatus.failed: "failed",
}


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _cursor_of(next_url: Any) -> str | None:
    if not isinstance(next_url, str) or not next_url:
        return None
    found = parse_qs(urlsplit(next_url).query).get("cursor")
    return found[0] if found else None


def _venue_cursor(query: OrderQuery) -> tuple[str | None, int]:
    state = query.cursor or {}
    cursor, skip = state.get("cursor"), state.get("skip", 0)
    if (cursor is not None and not isinstance(cursor, str)) or not isinstance(skip, int) or skip < 0:
        raise GatewayError(ErrorType.invalidField, "This cursor is not a Robinhood listing cursor.",
                           error_data={"fields": {"cursor": "not from this listing"}})  # fmt: skip
    return cursor, skip


def crypto_path(query: OrderQuery) -> tuple[str, int]:
    """The crypto listing's path with its query (it is signed as sent) and the rows to skip."""
    cursor, skip = _venue_cursor(query)
    params: dict[str, str] = {}
    if query.statuses is not None and len(query.statuses) == 1:
        state = _CRYPTO_STATES.get(next(iter(query.statuses)))
        if state is not None:
            params["state"] = state
    if query.since is not None:
        params["created_at_start"] = iso(query.since)
    if cursor:
        params["cursor"] = cursor
    # ':' stays as is: the HTTP client sends it unescaped, and the signature covers the query as sent.
    return CRYPTO_ORDERS_PATH + ("?" + urlencode(params, safe=":") if params else ""), skip


def equities_path(query: OrderQuery, account_number: str) -> tuple[str, int]:
    """`/orders/?account_numbers=…` as robin_stocks' orders_url builds it; `updated_at[gte]` narrows by time (an
    order created after `since` was updated after it too; the created time is checked here)."""
    cursor, skip = _venue_cursor(query)
    params = {"account_numbers": account_number}
    if query.since is not None:
        params["updated_at[gte]"] = iso(query.since)
    if cursor:
        params["cursor"] = cursor
    return EQUITY_ORDERS_PATH + "?" + urlencode(params, safe="[]:"), skip


def page(answer: Any, query: OrderQuery, skip: int, snapshot: Callable[[str, dict[str, Any]], OrderSnapshot],
         venue: str) -> OrderPage:  # fmt: skip
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        raise GatewayError(ErrorType.institutionUnavailable, f"{venue}'s order list is missing")
    rows = [r for r in answer["results"] if isinstance(r, dict) and r.get("id")]
    here = (query.cursor or {}).get("cursor")
    taken: list[OrderSnapshot] = []
    for index in range(skip, len(rows)):
        if len(taken) == query.count:
            return OrderPage(tuple(taken), {"cursor": here, "skip": index})
        order = snapshot(str(rows[index]["id"]), rows[index])
        if query.statuses is not None and order.status not in query.statuses:
            continue
        if query.since is not None and (order.created_at or 0) < query.since:
            continue
        taken.append(order)
    following = _cursor_of(answer.get("next"))
    return OrderPage(tuple(taken), {"cursor": following, "skip": 0} if following else None)
