"""In-process rate limiting: token buckets per API client, and cool-downs per venue key after a venue said
"slow down" (429) or "go away" (ban/lockout), so a user's key is not driven into a longer ban."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`rate` tokens per second up to `burst`; `take` answers 0 when allowed, else seconds until a token."""

    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate, self.burst, self._max = rate, burst, max_keys
        self._full = float(burst)
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, now: float | None = None) -> float:
        rate = self.rate
        if rate <= 0:  # not enabled
            return 0.0
        if now is None:
            now = time.monotonic()
        buckets = self._buckets
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = _Bucket(self._full, now)
            if len(buckets) > self._max:
                buckets.popitem(last=False)
        else:
            buckets.move_to_end(key)
            tokens = bucket.tokens + (now - bucket.updated) * rate
            bucket.tokens = tokens if tokens < self._full else self._full
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def peek(self, key: str, now: float | None = None) -> float:
        """What `take` would answer, without taking a token."""
        bucket = self._buckets.get(key)
        if not self.enabled or bucket is None:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate


class Cooldowns:
    """Keys that must not be used until a moment passes, with why (the ErrorType value to answer)."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._until: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._max = max_keys

    def block(self, key: str, seconds: float, reason: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        until = now + max(seconds, 0.0)
        current = self._until.get(key)
        if current is None or current[0] < until:
            self._until[key] = (until, reason)
            self._until.move_to_end(key)
            if len(self._until) > self._max:
                self._until.popitem(last=False)

    def check(self, key: str, now: float | None = None) -> tuple[float, str] | None:
        """(seconds left, reason) while blocked, else None."""
        entry = self._until.get(key)
        if entry is None:
            return None
        now = time.monotonic() if now is None else now
        if entry[0] <= now:
            del self._until[key]
            return None
        return entry[0] - now, entry[1]
