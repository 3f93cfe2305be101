"""Bitstamp's order listing: open orders only (`POST /api/v2/open_orders/all/`), see constants.OPEN_ORDERS_PATH.

Bitstamp has no documented list of closed orders: a listing of closed statuses only is refused, and any other
listing holds the open orders (as at every venue in catalog.LISTS_OPEN_ONLY; the README's table says so). Open
orders come all at once: pages are cut here, newest first, below the last (datetime, id) handed out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, OrderPage, OrderQuery
from ordergate.venues.bitstamp.constants import OPEN_ORDERS_PATH, SIDES
from ordergate.venues.common import number as _number

Call = Callable[[str], Awaitable[Any]]


async def list_orders(call: Call, query: OrderQuery) -> OrderPage:
    if query.statuses is not None and not (query.statuses & OPEN_STATUSES):
        raise GatewayError(
            ErrorType.listingNotSupported,
            "Bitstamp lists open orders only: it has no documented list of closed orders.",
            error_data={"type": "bitstamp", "listable": sorted(s.value for s in OPEN_STATUSES)},
        )
    after = (query.cursor or {}).get("after")
    if after is not None and not (isinstance(after, list) and len(after) == 2 and all(_is_int(v) for v in after)):
        raise GatewayError(ErrorType.invalidField, "The cursor is not one this listing handed out.")
    answer = await call(OPEN_ORDERS_PATH)
    keyed = [(_key(r), r) for r in answer] if isinstance(answer, list) else None
    if keyed is None or any(k is None or not isinstance(r, dict) for k, r in keyed):
        raise GatewayError(ErrorType.institutionUnavailable, "Bitstamp's open-order list is not the documented shape")
    rows = sorted(((k, r) for k, r in keyed if k is not None), key=lambda kr: kr[0], reverse=True)
    rows = [(k, r) for k, r in rows if after is None or k < tuple(after)]
    if query.since is not None:
        rows = [(k, r) for k, r in rows if k[0] >= query.since * 1_000_000]
    wanted = OPEN_STATUSES if query.statuses is None else query.statuses & OPEN_STATUSES
    picked = [(k, s) for k, s in ((k, _snapshot(r, k)) for k, r in rows) if s.status in wanted]
    page = tuple(s for _, s in picked[: query.count])
    if len(picked) > query.count:
        return OrderPage(page, {"after": list(picked[query.count - 1][0])})
    return OrderPage(page)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _key(row: Any) -> tuple[int, int] | None:
    """(microseconds since the epoch, id): Bitstamp's `datetime` carries microseconds."""
    if not isinstance(row, dict):
        return None
    number = str(row.get("id", ""))
    try:
        moment = datetime.fromisoformat(str(row.get("datetime")).replace("Z", "+00:00"))
    except ValueError:
        return None
    if not number.isdigit():
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (int(moment.timestamp()) * 1_000_000 + moment.microsecond, int(number))


def _snapshot(row: dict[str, Any], key: tuple[int, int]) -> OrderSnapshot:
    remaining, original = _number(row.get("amount")), _number(row.get("amount_at_create"))
    filled = original - remaining if original is not None and remaining is not None else None
    pair = str(row.get("market") or row.get("currency_pair") or "")
    base, _, quote = pair.partition("/")
    side = SIDES.get(str(row.get("type")))
    created = key[0] // 1_000_000
    return OrderSnapshot(
        str(row["id"]),
        OrderStatus.partiallyFilled if filled else OrderStatus.inProgress,
        "Open",
        original if original is not None else remaining,
        filled,
        side=OrderSide(side) if side else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=pair or None,
        price=_number(row.get("price")),
        order_type="limit",
        created_at=created,
        updated_at=created,
    )
