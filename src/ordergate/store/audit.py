"""The audit log: one durable row per cancel/authenticate attempt, committed before the response leaves.

Rows from concurrent requests are committed together (group commit): each request awaits the commit that
carries its row, so a storm of cancels costs a few transactions rather than one each. On SQLite (a file) the
writer is a thread with its own blocking connection: a batch costs one hand-off to that thread, one
executemany + commit, and one wake-up of the event loop, where going through aiosqlite costs a thread round
trip per DB-API call (bench/README.md has the figures). Other databases use an asyncio task on the async engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import threading
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from ordergate.store.db import sqlite_file_engine
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


_FIELDS = tuple(f.name for f in fields(AuditRecord))
# A Core insert on the table: the ORM's bulk-insert path costs more per batch than the rows themselves.
_INSERT = insert(AuditEvent.__table__)


def _rows(records: list[AuditRecord]) -> list[dict[str, object]]:
    return [{name: getattr(rec, name) for name in _FIELDS} for rec in records]


def _settle(waiters: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for fut in waiters:
        if not fut.done():
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)


class _ThreadWriter:
    """Group commit on a dedicated thread and connection (SQLite). Requests wait on loop futures."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[tuple[AuditRecord, asyncio.Future[None]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def submit(self, rec: AuditRecord) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put((rec, done))
        return done

    async def stop(self) -> None:
        # The sentinel queues behind every row already submitted, so those are written first.
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        self._engine.dispose()

    def _run(self) -> None:
        conn = None
        stopping = False
        while not stopping:
            batch = []
            item = self._queue.get()
            while item is not None:
                batch.append(item)
                if len(batch) >= _MAX_BATCH:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            stopping = item is None
            if not batch:
                continue
            error: BaseException | None = None
            try:
                if conn is None:
                    conn = self._engine.connect()
                with conn.begin():
                    conn.execute(_INSERT, _rows([rec for rec, _ in batch]))
            except Exception as exc:  # noqa: BLE001 - reported to each waiting request
                log.error("audit write failed: %s", type(exc).__name__)
                error = exc
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                    conn = None
            by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for _, fut in batch:
                by_loop.setdefault(fut.get_loop(), []).append(fut)
            for loop, waiters in by_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
                    loop.call_soon_threadsafe(_settle, waiters, error)
        if conn is not None:
            conn.close()


class AuditLog:
    """`record` returns once the row is durable: committed to the database or, while the database is
    unreachable, appended and fsync'd to a local spool file that a background task replays into the database.
    So an answered cancel never loses its row to a database outage."""

    def __init__(
        self, sessions: async_sessionmaker, *, engine: AsyncEngine | None = None, spool_dir: Path | None = None
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._spool = AuditSpool(spool_dir, self._write) if spool_dir is not None else None
        self._queue: asyncio.Queue[tuple[AuditRecord, asyncio.Future[None]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._thread_writer: _ThreadWriter | None = None

    async def start(self) -> None:
        if self._writer is not None or self._thread_writer is not None:
            return
        if self._spool is not None:
            await self._spool.start()
        sync_engine = sqlite_file_engine(self._engine) if self._engine is not None else None
        if sync_engine is not None:
            self._thread_writer = _ThreadWriter(sync_engine)
        else:
            self._writer = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        if self._spool is not None:
            await self._spool.stop()
        if self._thread_writer is not None:
            await self._thread_writer.stop()
            self._thread_writer = None
        if self._writer is not None:
            # Drain first: every queued row belongs to a request that is waiting for it.
            await self._queue.join()
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def record(self, rec: AuditRecord) -> None:
        """Returns once the row is durable (committed, or spooled to disk); raises if neither was possible."""
        if rec.created_at is None:
            rec.created_at = datetime.now(UTC)
        try:
            await self._commit(rec)
        except Exception:
            if self._spool is None:
                raise
            await self._spool.append(rec)

    async def _commit(self, rec: AuditRecord) -> None:
        if self._thread_writer is not None:
            await self._thread_writer.submit(rec)
            return
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
            await session.execute(_INSERT, _rows(records))

    async def tail(self, n: int = 20) -> list[AuditRecord]:
        async with self._sessions() as session:
            rows = (await session.execute(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(n))).scalars()
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


class AuditSpool:
    """Rows that could not reach the database, one JSON line each, fsync'd before the request is answered."""

    def __init__(self, directory: Path, write: object, *, interval_s: float = 1.0) -> None:
        self._dir = directory
        self._write = write
        self._interval = interval_s
        self._file = directory / f"audit-spool-{os.getpid()}.jsonl"
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._replay_forever(), name="audit-spool")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.replay()

    async def append(self, rec: AuditRecord) -> None:
        line = json.dumps({name: getattr(rec, name) for name in _FIELDS}, default=str) + "\n"
        async with self._lock:
            await asyncio.to_thread(self._append_sync, line)
        log.warning("audit row spooled to disk (database unreachable); it will be replayed")

    def _append_sync(self, line: str) -> None:
        fd = os.open(self._file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    async def replay(self) -> int:
        """Move every spool file in the directory (any worker's, e.g. after a crash) into the database."""
        moved = 0
        for path in sorted(self._dir.glob("audit-spool-*.jsonl")):
            claimed = path.with_suffix(f".replaying-{os.getpid()}")
            async with self._lock:
                try:
                    path.rename(claimed)  # atomic: exactly one worker replays a file
                except OSError:
                    continue
            records = [_record(json.loads(line)) for line in claimed.read_text().splitlines() if line.strip()]
            try:
                for start in range(0, len(records), _MAX_BATCH):
                    await self._write(records[start : start + _MAX_BATCH])  # type: ignore[operator]
            except Exception:
                async with self._lock:
                    # Put the rows back for the next attempt (the appended tail stays after them).
                    tail = self._file.read_bytes() if self._file.exists() else b""
                    self._file.write_bytes(claimed.read_bytes() + tail)
                    claimed.unlink()
                raise
            claimed.unlink()
            moved += len(records)
        if moved:
            log.info("replayed %d spooled audit rows into the database", moved)
        return moved

    async def _replay_forever(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.replay()
            await asyncio.sleep(self._interval)


def _record(data: dict[str, object]) -> AuditRecord:
    created = data.get("created_at")
    if isinstance(created, str):
        data["created_at"] = datetime.fromisoformat(created)
    return AuditRecord(**data)  # type: ignore[arg-type]
