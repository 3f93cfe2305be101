"""State that must be shared by every gateway worker: per-client token buckets, venue-key cool-downs, and
per-key request sequencing (Kraken-style nonces). In one process it lives in memory; with
`ORDERGATE_REDIS_URL` set it lives in Redis, so N workers on N machines behave as one.

Redis being down is a clear 503 (`serviceUnavailable`) before anything is sent to a venue; after a venue call,
failing to record a cool-down is logged and the venue's answer still goes back to the client.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Protocol

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.limits import Cooldowns, TokenBuckets

log = logging.getLogger("ordergate.coordination")


class KeySequencer(Protocol):
    def hold(self, api_key: str) -> AsyncIterator[Callable[[], int]]: ...


class Coordination(Protocol):
    #: None: each adapter keeps its own in-process sequencing.
    key_sequencer: KeySequencer | None
    #: True when answers need no I/O: `take_token_now` / `check_now` may then be called instead of awaiting.
    local: bool

    async def take_token(self, key: str, rate: float, burst: int) -> float: ...
    async def block(self, key: str, seconds: float, reason: str) -> None: ...
    async def check(self, key: str) -> tuple[float, str] | None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


def unavailable(what: str) -> GatewayError:
    return GatewayError(
        ErrorType.serviceUnavailable,
        f"ordergate's {what} is unreachable; nothing was sent to the institution. Retry shortly.",
        retry_after=1,
    )


class LocalCoordination:
    key_sequencer: KeySequencer | None = None
    local = True

    def __init__(self) -> None:
        self._buckets: dict[tuple[float, int], TokenBuckets] = {}
        self._cooldowns = Cooldowns()
        # (seconds left, reason) while `key` is blocked, else None: the cool-downs' own method, one call per cancel.
        self.check_now: Callable[[str], tuple[float, str] | None] = self._cooldowns.check

    def take_token_now(self, key: str, rate: float, burst: int) -> float:
        buckets = self._buckets.get((rate, burst))
        if buckets is None:
            buckets = self._buckets[(rate, burst)] = TokenBuckets(rate, burst)
        return buckets.take(key)

    async def take_token(self, key: str, rate: float, burst: int) -> float:
        return self.take_token_now(key, rate, burst)

    async def block(self, key: str, seconds: float, reason: str) -> None:
        self._cooldowns.block(key, seconds, reason)

    async def check(self, key: str) -> tuple[float, str] | None:
        return self._cooldowns.check(key)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


# KEYS[1] bucket; ARGV: rate, burst, now (s, float), ttl (ms). Returns seconds to wait (string), "0" if allowed.
_TAKE = """
local b = redis.call('HMGET', KEYS[1], 't', 'u')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, updated = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens = burst; updated = now end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 't', tokens, 'u', now)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return tostring(wait)
"""
# KEYS[1] lock, KEYS[2] last nonce; ARGV token, ttl ms. Returns the last nonce when acquired, else false.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('GET', KEYS[2]) or '0'
end
return false
"""
# KEYS[1] lock, KEYS[2] last nonce; ARGV token, last nonce. Saves the nonce and releases only our own lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tonumber(ARGV[2]) > prev then redis.call('SET', KEYS[2], ARGV[2], 'EX', 604800) end
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def _slot(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _micros() -> int:
    return time.time_ns() // 1000


class RedisKeySequencer:
    """One request at a time per key across every worker, with a strictly increasing counter per key.

    A local lock queues this process's requests for a key, so only one of them polls the Redis lock. The lock
    has a TTL (a crashed holder frees it); the counter is max(clock µs, last + 1), so it also survives a
    crashed holder that never saved its last value.
    """

    def __init__(
        self, redis: object, *, namespace: str = "seq", lock_ttl_ms: int = 30_000, wait_timeout_s: float = 30.0
    ) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl = lock_ttl_ms
        self._wait = wait_timeout_s
        self._local: dict[str, asyncio.Lock] = {}
        self._acquire = redis.register_script(_ACQUIRE)  # type: ignore[attr-defined]
        self._release = redis.register_script(_RELEASE)  # type: ignore[attr-defined]

    @asynccontextmanager
    async def hold(self, api_key: str) -> AsyncIterator[Callable[[], int]]:
        from ordergate.venues.transport import NotDelivered

        slot = _slot(api_key)
        local = self._local.setdefault(slot, asyncio.Lock())
        keys = [f"og:{self._ns}:{slot}:lock", f"og:{self._ns}:{slot}:n"]
        async with local:
            token = secrets.token_hex(8)
            deadline = time.monotonic() + self._wait
            delay = 0.001
            while True:
                try:
                    last = await self._acquire(keys=keys, args=[token, self._ttl])
                except Exception as exc:  # noqa: BLE001 - any Redis failure means "not sent"
                    raise unavailable("Redis") from exc
                if last is not None:
                    break
                if time.monotonic() > deadline:
                    raise NotDelivered("key sequencer wait exceeded")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.02)
            state = [int(last)]

            def next_value() -> int:
                state[0] = max(_micros(), state[0] + 1)
                return state[0]

            try:
                yield next_value
            finally:
                try:
                    await self._release(keys=keys, args=[token, state[0]])
                except Exception:  # noqa: BLE001 - the TTL frees the lock; the clock keeps the counter rising
                    log.warning("could not release a key sequencer lock in Redis")
        if not local.locked() and len(self._local) > 50_000:
            self._local.pop(slot, None)


class RedisCoordination:
    local = False

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=5)
        self._take = self.redis.register_script(_TAKE)
        self.key_sequencer: KeySequencer | None = RedisKeySequencer(self.redis)

    async def take_token(self, key: str, rate: float, burst: int) -> float:
        try:
            wait = await self._take(
                keys=[f"og:bucket:{_slot(key)}"],
                args=[rate, burst, time.time(), int(max(burst / rate, 1) * 1000) + 1000],
            )
        except Exception as exc:  # noqa: BLE001
            raise unavailable("Redis") from exc
        return float(wait)

    async def block(self, key: str, seconds: float, reason: str) -> None:
        try:
            ms = max(int(seconds * 1000), 1)
            current = await self.redis.pttl(f"og:cool:{_slot(key)}")
            if current is None or current < ms:
                await self.redis.set(f"og:cool:{_slot(key)}", reason, px=ms)
        except Exception:  # noqa: BLE001 - the venue's answer still goes back; only the back-off memory is lost
            log.warning("could not record a venue cool-down in Redis")

    async def check(self, key: str) -> tuple[float, str] | None:
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(f"og:cool:{_slot(key)}")
            pipe.pttl(f"og:cool:{_slot(key)}")
            reason, ttl = await pipe.execute()
        except Exception as exc:  # noqa: BLE001
            raise unavailable("Redis") from exc
        if reason is None or ttl is None or ttl <= 0:
            return None
        return ttl / 1000, reason.decode() if isinstance(reason, bytes) else str(reason)

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()


def make_coordination(redis_url: str | None) -> LocalCoordination | RedisCoordination:
    return RedisCoordination(redis_url) if redis_url else LocalCoordination()
