"""What ordergate knows of each venue's health, without asking it: the transport's recent connect failures
(`NotDelivered`) and lost answers (`OutcomeUnknown`) per integration type, and venue-wide cool-downs (a per-IP ban
such as Binance's 418). `GET /api/v1/status` reads it; nothing here sends a request upstream.

A type is down while its last `DOWN_AFTER` or more requests all failed to connect, each within `WINDOW_S` of the
one before and the last within `WINDOW_S` of now, or while a venue-wide cool-down holds. Any answer from the venue
(whatever its HTTP status) ends a streak: the venue is reachable. A timeout neither starts nor ends one (the request
reached the venue), but is counted and named in the outage description.

With Redis configured, streaks are also kept there (one small hash per type, expiring after `WINDOW_S`), so every
worker's /status tells the same story; Redis failures here are logged and never reach a client's cancel.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from ordergate.domain.integrations import IntegrationType

log = logging.getLogger("ordergate.health")

DOWN_AFTER = 3  # consecutive connect failures
WINDOW_S = 60.0
_KNOWN = frozenset(t.value for t in IntegrationType)


@dataclass(slots=True)
class _Streak:
    failures: int = 0
    started: float = 0.0  # wall clock (Unix s) of the streak's first failure
    last: float = 0.0
    timeouts: int = 0  # lost answers in the last WINDOW_S
    timeouts_since: float = 0.0


@dataclass(frozen=True, slots=True)
class Outage:
    description: str
    start: int | None  # Unix seconds
    end: int | None = None


def _key(venue: str) -> str:
    return f"og:health:{venue}"


class VenueHealth:
    def __init__(self, redis: Any = None, *, clock: Any = time.time) -> None:
        self._streaks: dict[str, _Streak] = {}
        self._cooldowns: dict[str, tuple[float, float, str]] = {}  # type -> (start, end, reason), wall clock
        self._redis = redis
        self._clock = clock
        self._shared_dirty: set[str] = set()  # types Redis may still hold a streak for

    # --- recording (the transport and the cancel service call these) ---

    async def connect_failed(self, venue: str) -> None:
        if venue not in _KNOWN:
            return
        now = self._clock()
        streak = self._streaks.setdefault(venue, _Streak())
        if streak.failures == 0 or now - streak.last > WINDOW_S:
            streak.failures, streak.started = 0, now
        streak.failures += 1
        streak.last = now
        if self._redis is not None:
            self._shared_dirty.add(venue)
            try:
                pipe = self._redis.pipeline(transaction=True)
                pipe.hincrby(_key(venue), "n", 1)
                pipe.hsetnx(_key(venue), "start", int(now))
                pipe.hset(_key(venue), "last", int(now))
                pipe.expire(_key(venue), int(WINDOW_S))
                await pipe.execute()
            except Exception:  # noqa: BLE001 - health is advisory; the cancel's own answer matters
                log.warning("could not record a venue connect failure in Redis")

    async def timed_out(self, venue: str) -> None:
        if venue not in _KNOWN:
            return
        now = self._clock()
        streak = self._streaks.setdefault(venue, _Streak())
        if now - streak.timeouts_since > WINDOW_S:
            streak.timeouts, streak.timeouts_since = 0, now
        streak.timeouts += 1

    def needs_answer(self, venue: str) -> bool:
        """Whether `answered` has anything to do (a streak to end): the hot path awaits it only then."""
        streak = self._streaks.get(venue)
        return (streak is not None and streak.failures > 0) or venue in self._shared_dirty

    async def answered(self, venue: str) -> None:
        """Any answer from the venue: the hot path, so a dict lookup unless a streak is open."""
        streak = self._streaks.get(venue)
        if streak is not None and streak.failures:
            streak.failures = 0
        if venue in self._shared_dirty:
            self._shared_dirty.discard(venue)
            try:
                await self._redis.delete(_key(venue))
            except Exception:  # noqa: BLE001
                log.warning("could not clear a venue connect-failure streak in Redis")

    def cooled_down(self, venues: list[IntegrationType], seconds: float, reason: str) -> None:
        """A venue-wide back-off (every key from this gateway), for each type served by that venue host."""
        now = self._clock()
        for venue in venues:
            current = self._cooldowns.get(venue.value)
            start = current[0] if current and current[1] > now else now
            self._cooldowns[venue.value] = (start, max(now + seconds, current[1] if current else 0.0), reason)

    # --- reading (GET /api/v1/status) ---

    async def shared_streaks(self, venues: list[str]) -> dict[str, tuple[int, int]]:
        """type -> (failures, start) as every worker recorded them; {} without Redis or when it fails."""
        if self._redis is None or not venues:
            return {}
        try:
            pipe = self._redis.pipeline(transaction=False)
            for venue in venues:
                pipe.hmget(_key(venue), "n", "start")
            rows = await pipe.execute()
        except Exception:  # noqa: BLE001 - answer from this process's view
            log.warning("could not read venue health from Redis")
            return {}
        found: dict[str, tuple[int, int]] = {}
        for venue, (n, start) in zip(venues, rows, strict=True):
            if n is not None and int(n) > 0:
                found[venue] = (int(n), int(start or 0))
                self._shared_dirty.add(venue)
        return found

    def outage(
        self,
        venue: IntegrationType,
        shared: tuple[int, int] | None = None,
        venue_cooldown: tuple[float, str] | None = None,
    ) -> Outage | None:
        """Why `venue` counts as down now, or None. `venue_cooldown` is (seconds left, reason) as the shared
        coordination holds it (another worker may have recorded it)."""
        now = self._clock()
        cooldown = self._cooldowns.get(venue.value)
        if cooldown is not None and cooldown[1] <= now:
            del self._cooldowns[venue.value]
            cooldown = None
        if venue_cooldown is not None:
            left, reason = venue_cooldown
            start = cooldown[0] if cooldown else None
            return Outage(self._cooldown_text(reason), int(start) if start else None, int(now + left))
        if cooldown is not None:
            return Outage(self._cooldown_text(cooldown[2]), int(cooldown[0]), int(cooldown[1]))
        streak = self._streaks.get(venue.value)
        failures, start = 0, 0.0
        if streak is not None and streak.failures and now - streak.last <= WINDOW_S:
            failures, start = streak.failures, streak.started
        if shared is not None and shared[0] > failures:
            failures, start = shared
        if failures < DOWN_AFTER:
            return None
        timeouts = streak.timeouts if streak is not None and now - streak.timeouts_since <= WINDOW_S else 0
        text = f"ordergate could not connect to the institution {failures} times in a row"
        if timeouts:
            text += f"; {timeouts} requests timed out in the last minute"
        return Outage(text + ".", int(start))

    @staticmethod
    def _cooldown_text(reason: str) -> str:
        why = "banned this gateway's address" if reason == "institutionLocked" else "asked this gateway to slow down"
        return f"The institution {why}; ordergate sends nothing to it until the back-off ends."
