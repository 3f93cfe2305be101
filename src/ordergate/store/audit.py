"""The audit log: one durable row per cancel/authenticate attempt, committed before the response leaves.

Rows from concurrent requests are committed together (group commit): each request awaits the commit that
carries its row, so a storm of cancels costs a few transactions rather than one each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from ordergate.store.models import AuditEvent

log = logging.getLogger("ordergate.audit")
_MAX_BATCH = 500


@dataclass(slots=True)
class AuditRecord:
    request_id: str
    endpoint: str
    client_id: str | None
    integration_type: str | None
    order_id: str | None
    status: str
    error_type: str
    http_status: int
    upstream_status: int | None
    upstream_requests: int
    latency_ms: float
    created_at: datetime | None = None


class AuditLog:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions
        self._queue: asyncio.Queue[tuple[AuditRecord, asyncio.Future[None]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        if self._writer is not None:
            # Drain first: every queued row belongs to a request that is waiting for it.
            await self._queue.join()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def record(self, rec: AuditRecord) -> None:
        """Returns once the row is committed; raises if it could not be."""
        if rec.created_at is None:
            rec.created_at = datetime.now(UTC)
        if self._writer is None:
            await self._write([rec])
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((rec, done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write([rec for rec, _ in batch])
            except Exception as exc:  # noqa: BLE001 - reported to each waiting request
                log.error("audit write failed: %s", type(exc).__name__)
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
            else:
                for _, fut in batch:
                    if not fut.done():
                        fut.set_result(None)
            for _ in batch:
                self._queue.task_done()

    async def _write(self, records: list[AuditRecord]) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(insert(AuditEvent), [asdict(r) for r in records])

    async def tail(self, n: int = 20) -> list[AuditRecord]:
        async with self._sessions() as session:
            rows = (
                await session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(n))
            ).scalars()
            out = [
                AuditRecord(
                    request_id=r.request_id,
                    endpoint=r.endpoint,
                    client_id=r.client_id,
                    integration_type=r.integration_type,
                    order_id=r.order_id,
                    status=r.status,
                    error_type=r.error_type,
                    http_status=r.http_status,
                    upstream_status=r.upstream_status,
                    upstream_requests=r.upstream_requests,
                    latency_ms=r.latency_ms,
                    created_at=r.created_at,
                )
                for r in rows
            ]
        return list(reversed(out))
