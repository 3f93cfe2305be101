"""What a Bybit listing asks for, in Bybit's terms (pure: no I/O)."""

from __future__ import annotations

from typing import Any

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OPEN_STATUSES, OrderQuery
from ordergate.venues.bybit.constants import HISTORY_WINDOW_MS, STATUS_MAP

OPEN_PHASE, HISTORY_PHASE = "open", "history"
_FINAL_VENUE_STATUSES = {venue: mesh for venue, mesh in STATUS_MAP.items() if mesh not in OPEN_STATUSES}


def phases(query: OrderQuery) -> list[str]:
    """The phases this query still has to walk, from the cursor's phase on."""
    wanted = query.statuses
    needed = []
    if wanted is None or wanted & OPEN_STATUSES:
        needed.append(OPEN_PHASE)
    if history_statuses(wanted):
        needed.append(HISTORY_PHASE)
    current = (query.cursor or {}).get("phase")
    return needed[needed.index(current) :] if current in needed else needed


def history_statuses(wanted: frozenset[OrderStatus] | None) -> set[str]:
    """Bybit's final statuses that map to a wanted Mesh status."""
    return {venue for venue, mesh in _FINAL_VENUE_STATUSES.items() if wanted is None or mesh in wanted}


def keeps(wanted: frozenset[OrderStatus] | None, phase: str, entry: dict[str, Any]) -> bool:
    venue_status = str(entry.get("orderStatus") or "")
    mesh = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if phase == HISTORY_PHASE and mesh in OPEN_STATUSES:
        return False  # /realtime listed it already
    return wanted is None or mesh in wanted


def history_window(since: int | None, now_ms: int) -> tuple[int, int] | None:
    """(startTime, endTime) for `from`, or None for Bybit's default last 7 days (also when `from` is older)."""
    if since is None or since * 1000 <= now_ms - HISTORY_WINDOW_MS:
        return None
    return since * 1000, now_ms
