"""Idempotency-Key storage: claim a key atomically (primary key on client + key), then store the answer.

Kept 24 h. A claim left in flight by a crashed process is taken over once it is older than `stale_after_s`:
the cancel path re-derives the truth from the venue (lookups), so re-running it is safe.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from ordergate.store.models import IdempotencyKey

log = logging.getLogger("ordergate.idempotency")
RETENTION = timedelta(hours=24)


class ClaimState(Enum):
    claimed = "claimed"  # first time: go ahead
    replay = "replay"  # answered before: replay `stored`
    in_flight = "in_flight"  # the first request is still running
    mismatch = "mismatch"  # same key, different request


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    http_status: int
    headers: dict[str, str]
    body: bytes
    error_type: str


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    stored: StoredAnswer | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class IdempotencyStore:
    def __init__(self, sessions: async_sessionmaker, *, stale_after_s: float = 120.0) -> None:
        self._sessions = sessions
        self._stale_after = timedelta(seconds=stale_after_s)

    async def claim(self, client_id: str, key: str, endpoint: str, body_sha256: str) -> Claim:
        now = _now()
        row = IdempotencyKey(
            client_id=client_id,
            key=key,
            endpoint=endpoint,
            body_sha256=body_sha256,
            state="inFlight",
            created_at=now,
            expires_at=now + RETENTION,
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
            return Claim(ClaimState.claimed)
        except IntegrityError:
            pass
        async with self._sessions() as session, session.begin():
            existing = await session.get(IdempotencyKey, (client_id, key), with_for_update=True)
            if existing is None or _aware(existing.expires_at) < now:
                if existing is not None:
                    await session.delete(existing)
                    await session.flush()
                session.add(row)
                return Claim(ClaimState.claimed)
            if existing.body_sha256 != body_sha256 or existing.endpoint != endpoint:
                return Claim(ClaimState.mismatch)
            if existing.state == "done" and existing.http_status is not None:
                return Claim(
                    ClaimState.replay,
                    StoredAnswer(
                        existing.http_status,
                        json.loads(existing.headers or "{}"),
                        existing.body or b"",
                        existing.error_type or "",
                    ),
                )
            if now - _aware(existing.created_at) > self._stale_after:
                existing.created_at = now  # take over an abandoned claim
                return Claim(ClaimState.claimed)
            return Claim(ClaimState.in_flight)

    async def store(self, client_id: str, key: str, answer: StoredAnswer) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
                .values(
                    state="done",
                    http_status=answer.http_status,
                    headers=json.dumps(answer.headers),
                    body=answer.body,
                    error_type=answer.error_type,
                )
            )

    async def release(self, client_id: str, key: str) -> None:
        """Forget a claim whose answer is transient (rate limited, venue down): a retry should run again."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(IdempotencyKey).where(IdempotencyKey.client_id == client_id, IdempotencyKey.key == key)
            )

    async def purge_expired(self) -> int:
        async with self._sessions() as session, session.begin():
            result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at < _now()))
        return int(result.rowcount or 0)

    async def purge_forever(self, interval_s: float = 600.0) -> None:
        """Keys are kept 24 h: drop expired ones every `interval_s` (run by the app; any worker may do it)."""
        while True:
            try:
                await self.purge_expired()
            except Exception:  # noqa: BLE001 - the database may be down; the next round tries again
                log.warning("could not purge expired idempotency keys")
            await asyncio.sleep(interval_s)
