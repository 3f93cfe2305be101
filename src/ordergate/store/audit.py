"""The audit log: one durable row per cancel/authenticate attempt, committed before the response leaves.

Rows from concurrent requests are committed together (group commit): each request awaits the commit that
carries its row, so a storm of cancels costs a few transactions rather than one each. On SQLite (a file) the
batch is written with the stdlib driver on the event loop itself, falling back to a thread whenever that could
block (store/audit_sqlite.py; bench/README.md has the figures). Other databases use an asyncio task on the async
engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import operator
import os
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from ordergate.observability import AUDIT_REJECTED_ROWS, AUDIT_SPOOL_ROWS
from ordergate.store.audit_sqlite import SqliteAuditWriter, SqliteRows
from ordergate.store.db import sqlite_file_engine
from ordergate.store.models import AuditEvent

if TYPE_CHECKING:
    from ordergate.store.audit_pg import PgAuditWriter

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
    # Set on aggregated rows (failed client authentication): the peer address and how many requests it stands for.
    source: str | None = None
    repeat_count: int = 1


_FIELDS = tuple(f.name for f in fields(AuditRecord))
FIELDS = _FIELDS  # a row tuple's order (api/hot.py builds rows in it)
# A Core insert on the table: the ORM's bulk-insert path costs more per batch than the rows themselves.
_INSERT = insert(AuditEvent.__table__)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_TEXT_FIELDS = tuple(f.name for f in fields(AuditRecord) if f.type in ("str", "str | None"))


def storable(text: str) -> str:
    """What was received, escaped where a database cannot hold it: a lone surrogate cannot be encoded as UTF-8
    (SQLite and PostgreSQL both refuse it) and PostgreSQL refuses NUL. `\\ud800` and `\\x00` are kept as text."""
    if text.isascii() and "\x00" not in text:
        return text
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}" if m.group() != "\x00" else "\\x00", text)


def _sanitise(rec: AuditRecord) -> AuditRecord:
    for name in _TEXT_FIELDS:
        value = getattr(rec, name)
        if value is not None and not (value.isascii() and "\x00" not in value):
            setattr(rec, name, storable(value))
    return rec


def _rows(records: list[AuditRecord]) -> list[dict[str, object]]:
    return [{name: getattr(rec, name) for name in _FIELDS} for rec in records]


_ROW = attrgetter(*_FIELDS)  # a record as its row tuple, in C


def as_row(rec: AuditRecord) -> tuple[object, ...]:
    return _ROW(rec)  # type: ignore[no-any-return]


def _record_of(row: tuple[object, ...]) -> AuditRecord:
    return AuditRecord(*row)  # type: ignore[arg-type]


_TEXT_INDEXES = tuple(_FIELDS.index(name) for name in _TEXT_FIELDS)
_CREATED_AT = _FIELDS.index("created_at")
_TEXTS_OF = operator.itemgetter(*_TEXT_INDEXES)


def sanitised_row(row: tuple[object, ...]) -> tuple[object, ...]:
    """`_sanitise` for a row tuple; the row itself when nothing needs escaping (the common case, decided by one
    check over the text fields joined, in C, rather than a loop over them)."""
    joined = "".join(filter(None, _TEXTS_OF(row)))  # type: ignore[arg-type]
    if joined.isascii() and "\x00" not in joined:
        return row
    return tuple(storable(v) if j in _TEXT_INDEXES and v is not None else v for j, v in enumerate(row))  # type: ignore[arg-type]


def _settle(waiters: list[tuple[asyncio.Future[None], BaseException | None]]) -> None:
    for fut, error in waiters:
        if not fut.done():
            if error is None:
                fut.set_result(None)
            else:
                fut.set_exception(error)


class AuditLog:
    """`record` returns once the row is durable: committed to the database or, while the database is
    unreachable, appended and fsync'd to a local spool file that a background task replays into the database.
    So an answered cancel never loses its row to a database outage."""

    def __init__(
        self,
        sessions: async_sessionmaker,
        *,
        engine: AsyncEngine | None = None,
        spool_dir: Path | None = None,
        aggregate_window_s: float = 10.0,
    ) -> None:
        self._sessions = sessions
        self._window = aggregate_window_s
        # (source, endpoint, errorType) -> None once the window's first row is written, then the row that counts
        # the others (its repeat_count).
        self._aggregates: dict[tuple[str, str, str], AuditRecord | None] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._engine = engine
        self._pg: PgAuditWriter | None = None  # PostgreSQL through asyncpg: batches go to asyncpg itself
        self._spool = AuditSpool(spool_dir, self._write_each) if spool_dir is not None else None
        self._queue: asyncio.Queue[tuple[tuple[object, ...], asyncio.Future[None]]] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._thread_writer: SqliteAuditWriter | None = None

    async def start(self) -> None:
        if self._writer is not None or self._thread_writer is not None:
            return
        from ordergate.store.audit_pg import pg_writer

        self._pg = pg_writer(self._engine, AuditEvent.__tablename__, _FIELDS)  # before the spool: it replays via _write
        if self._spool is not None:
            await self._spool.start()
        self._flusher = asyncio.create_task(self._flush_forever(), name="audit-aggregates")
        sync_engine = sqlite_file_engine(self._engine) if self._engine is not None else None
        if sync_engine is not None:
            self._thread_writer = SqliteAuditWriter(sync_engine, SqliteRows(AuditEvent.__tablename__, _FIELDS))
        else:
            self._writer = asyncio.create_task(self._run(), name="audit-writer")

    async def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        with contextlib.suppress(Exception):
            await self.flush_aggregates()
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
        await self.record_row(as_row(rec))

    async def record_row(self, row: tuple[object, ...]) -> None:
        """`record` for a row tuple in AuditRecord's field order (created_at set): what the hot path builds."""
        try:
            await self.submit(row)
        except Exception as exc:
            await self.recover(row, exc)

    def submit(self, row: tuple[object, ...]) -> Awaitable[None]:
        """`record_row` in two steps, for the hot path: await this, and on an exception `recover`. With SQLite
        the awaitable is the row's own future in the open batch, so no coroutine sits between the request and
        the commit (each one would be entered, and passed through on resumption, for every request)."""
        row = sanitised_row(row)
        if self._thread_writer is not None:
            return self._thread_writer.submit(row)
        return self._commit(row)

    async def recover(self, row: tuple[object, ...], exc: Exception) -> None:
        """After `submit`'s awaitable raised `exc`: the row goes to the spool, or `exc` is raised when there is
        none."""
        if self._spool is None:
            raise exc
        await self._spool.append(_record_of(sanitised_row(row)))

    async def record_aggregated(self, rec: AuditRecord, source: str) -> None:
        """Failed client authentication is what a flood from one address looks like, and a row per request would
        let it fill the audit table: per (source, endpoint, errorType) and window, the first request gets its own
        row (written now, as any row), the rest are counted into one more row written at the end of the window
        (and on shutdown) with `repeat_count`. So at most two rows per source and window."""
        if rec.created_at is None:
            rec.created_at = datetime.now(UTC)
        key = (source, rec.endpoint, rec.error_type)
        if key not in self._aggregates and len(self._aggregates) >= 100_000:
            key = ("*", rec.endpoint, rec.error_type)  # that many addresses at once: one row for the rest
        rec.source = key[0]
        if key not in self._aggregates:
            self._aggregates[key] = None
            await self.record(rec)
            return
        current = self._aggregates[key]
        if current is None:
            self._aggregates[key] = rec
        else:
            current.repeat_count += 1

    async def flush_aggregates(self) -> None:
        batch, self._aggregates = self._aggregates, {}
        rows = [rec for rec in batch.values() if rec is not None]
        if rows:
            await asyncio.gather(*(self.record(rec) for rec in rows), return_exceptions=True)

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self._window)
            with contextlib.suppress(Exception):
                await self.flush_aggregates()

    async def _commit(self, row: tuple[object, ...]) -> None:
        if self._writer is None:
            await self._write([_record_of(row)])
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((row, done))
        await done

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            errors = await self._write_each([_record_of(row) for row, _ in batch])
            if any(errors):
                log.error("audit write failed for %d of %d rows", sum(e is not None for e in errors), len(batch))
            _settle([(fut, error) for (_, fut), error in zip(batch, errors, strict=True)])
            for _ in batch:
                self._queue.task_done()

    async def _write(self, records: list[AuditRecord]) -> None:
        if self._pg is not None:
            await self._pg.write(list(map(as_row, records)))
            return
        async with self._sessions() as session, session.begin():
            await session.execute(_INSERT, _rows(records))

    async def _write_each(self, records: list[AuditRecord]) -> list[BaseException | None]:
        """As `_write_sync`: the batch in one transaction, else row by row."""
        try:
            await self._write(records)
            return [None] * len(records)
        except Exception as exc:  # noqa: BLE001 - retried row by row below
            if len(records) == 1:
                return [exc]
        results: list[BaseException | None] = []
        for rec in records:
            try:
                await self._write([rec])
                results.append(None)
            except Exception as exc:  # noqa: BLE001 - reported to this row's request only
                results.append(exc)
        return results

    def spool_state(self) -> dict[str, int | float]:
        """Rows waiting in the spool (and since when), and rows the database refused even alone."""
        if self._spool is None:
            return {"waiting": 0, "rejected": 0, "stuckSeconds": 0.0}
        return self._spool.state()

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
                    source=r.source,
                    repeat_count=r.repeat_count,
                )
                for r in rows
            ]
        return list(reversed(out))


class AuditSpool:
    """Rows that could not reach the database, one JSON line each, fsync'd before the request is answered.

    A replay writes each file's rows in batches and, when a batch fails, row by row: if the database takes some
    rows but refuses others, the refused ones are moved to `audit-rejected.jsonl` (kept for an operator, counted
    in `/readyz` and `/metrics`) instead of blocking every row behind them forever.
    """

    REJECTED = "audit-rejected.jsonl"

    def __init__(
        self,
        directory: Path,
        write: Callable[[list[AuditRecord]], Awaitable[list[BaseException | None]]],
        *,
        interval_s: float = 1.0,
    ) -> None:
        self._dir = directory
        self._write = write
        self._interval = interval_s
        self._file = directory / f"audit-spool-{os.getpid()}.jsonl"
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._failing_since: float | None = None  # monotonic time of the first failed replay since the last success

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
            await asyncio.to_thread(self._append_sync, self._file, line)
        log.warning("audit row spooled to disk (database unreachable); it will be replayed")

    @staticmethod
    def _append_sync(path: Path, text: str) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, text.encode("utf-8", "backslashreplace"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def state(self) -> dict[str, int | float]:
        """Every worker's waiting rows (the spool directory is shared), and how long replays have been failing."""
        waiting = rejected = 0
        with contextlib.suppress(OSError):
            for path in self._dir.iterdir():
                if path.name.startswith("audit-spool-"):
                    waiting += _count_lines(path)
                elif path.name == self.REJECTED:
                    rejected += _count_lines(path)
        stuck = time.monotonic() - self._failing_since if self._failing_since is not None and waiting else 0.0
        AUDIT_SPOOL_ROWS.set(waiting)
        return {"waiting": waiting, "rejected": rejected, "stuckSeconds": round(stuck, 1)}

    async def replay(self) -> int:
        """Move every spool file in the directory (any worker's, e.g. after a crash) into the database."""
        moved = 0
        try:
            for path in sorted(self._dir.glob("audit-spool-*.jsonl")):
                moved += await self._replay_file(path)
        except Exception:
            if self._failing_since is None:
                self._failing_since = time.monotonic()
            raise
        self._failing_since = None
        if moved:
            log.info("replayed %d spooled audit rows into the database", moved)
        return moved

    async def _replay_file(self, path: Path) -> int:
        claimed = path.with_suffix(f".replaying-{os.getpid()}")
        async with self._lock:
            try:
                path.rename(claimed)  # noqa: ASYNC240 - atomic: exactly one worker replays a file
            except OSError:
                return 0
        records: list[AuditRecord] = []
        unreadable: list[str] = []
        for line in claimed.read_text(errors="backslashreplace").splitlines():
            if not line.strip():
                continue
            try:
                records.append(_sanitise(_record(json.loads(line))))
            except (ValueError, TypeError):  # a torn line from a crash mid-append: kept, not replayed
                unreadable.append(line)
        written: list[AuditRecord] = []
        refused: list[AuditRecord] = []
        unwritten: list[AuditRecord] = []
        for start in range(0, len(records), _MAX_BATCH):
            chunk = records[start : start + _MAX_BATCH]
            errors = await self._write(chunk)
            for rec, error in zip(chunk, errors, strict=True):
                if error is None:
                    written.append(rec)
                else:
                    # Only a row the database read and said no to is set aside; a connection that failed (the
                    # database coming back, a stale pooled connection) says nothing about the row: it waits.
                    (refused if refused_by_database(error) else unwritten).append(rec)
        if unwritten and not written and not refused:
            # Nothing went in: the database is unreachable. Put the file back for the next attempt (the appended
            # tail stays after it).
            async with self._lock:
                tail = self._file.read_bytes() if self._file.exists() else b""
                self._file.write_bytes(claimed.read_bytes() + tail)
                claimed.unlink()
            raise RuntimeError(f"audit spool replay failed for {len(unwritten)} rows")
        if unwritten:
            lines = "".join(
                json.dumps({name: getattr(rec, name) for name in _FIELDS}, default=str) + "\n" for rec in unwritten
            )
            async with self._lock:
                await asyncio.to_thread(self._append_sync, self._file, lines)
        if refused or unreadable:
            lines = [json.dumps({name: getattr(rec, name) for name in _FIELDS}, default=str) for rec in refused]
            await asyncio.to_thread(
                self._append_sync, self._dir / self.REJECTED, "".join(f"{x}\n" for x in [*lines, *unreadable])
            )
            AUDIT_REJECTED_ROWS.inc(len(refused) + len(unreadable))
            log.error(
                "%d audit rows refused by the database were set aside in %s",
                len(refused) + len(unreadable),
                self.REJECTED,
            )
        claimed.unlink()
        return len(written)

    async def _replay_forever(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.replay()
            await asyncio.sleep(self._interval)


def refused_by_database(error: BaseException) -> bool:
    """The database (or the driver encoding for it) rejected the row itself: bad data, which no retry will fix.
    Anything else — a refused, reset or stale connection, a timeout — is the database being unreachable."""
    from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, StatementError

    from ordergate.store.audit_pg import refused_by_postgres

    if isinstance(error, DataError | IntegrityError | ProgrammingError | UnicodeError):
        return True
    if isinstance(error, StatementError) and isinstance(error.orig, UnicodeError | ValueError):
        return True
    # asyncpg's own exceptions (DataError, IntegrityConstraintViolationError, SyntaxOrAccessError...), as the
    # asyncpg writer raises them or wrapped by SQLAlchemy in a DBAPIError whose .orig carries the SQLSTATE.
    if refused_by_postgres(error) or refused_by_postgres(getattr(error, "orig", None)):
        return True
    return isinstance(error, ValueError) and not isinstance(error, ConnectionError)


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))
    except OSError:
        return 0


def _record(data: dict[str, object]) -> AuditRecord:
    created = data.get("created_at")
    if isinstance(created, str):
        data["created_at"] = datetime.fromisoformat(created)
    return AuditRecord(**data)  # type: ignore[arg-type]
