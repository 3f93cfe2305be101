"""bitFlyer's order listing: one `getchildorders` request per page, paged with `before` (the numeric `id`).

bitFlyer keeps open and final orders in one list, newest first, so there is one phase. It has no start-time
parameter: `from` ends the listing at the first older order. A statuses filter that one child_order_state answers
goes to bitFlyer; any other is applied to the rows read, and the cursor then names the last row read (not the last
row kept), so no order is skipped or seen twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import OrderStatus
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.bitflyer.constants import LIST_MAX_COUNT, LISTING_STATES


def server_state(statuses: frozenset[OrderStatus] | None) -> str | None:
    if statuses is None:
        return None
    states = [state for state, covers in LISTING_STATES.items() if covers & statuses]
    return states[0] if len(states) == 1 else None


def page_query(product: str, query: OrderQuery) -> str:
    params = [("product_code", product)]
    state = server_state(query.statuses)
    if state is not None:
        params.append(("child_order_state", state))
    params.append(("count", str(min(query.count + 1, LIST_MAX_COUNT))))
    before = (query.cursor or {}).get("before")
    if before is not None:
        if type(before) is not int or before <= 0:
            raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing issued")
        params.append(("before", str(before)))
    return urlencode(params)


def build_page(
    rows: list[Any], query: OrderQuery, snapshot: Callable[[str, dict[str, Any]], OrderSnapshot]
) -> OrderPage:
    limit = min(query.count + 1, LIST_MAX_COUNT)
    kept: list[OrderSnapshot] = []
    last_id: int | None = None
    for row in (r for r in rows if isinstance(r, dict)):
        if len(kept) == query.count:
            # A row beyond the page: there is more, starting after the last row read.
            return OrderPage(tuple(kept), {"before": last_id} if last_id is not None else None)
        order = snapshot(str(row.get("child_order_acceptance_id") or ""), row)
        if query.since is not None and (order.created_at or 0) < query.since:
            return OrderPage(tuple(kept))  # newest first: everything after this is older too
        last_id = row.get("id") if type(row.get("id")) is int else last_id
        if query.statuses is None or order.status in query.statuses:
            kept.append(order)
    more = len(rows) >= limit and last_id is not None
    return OrderPage(tuple(kept), {"before": last_id} if more else None)
