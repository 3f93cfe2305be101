"""Group commit of audit rows into a SQLite file: on the event loop's own thread when it can, else on a thread.

A request appends its row tuple to its loop's open batch and awaits the batch's one future. The batch is written
at the end of the loop iteration (and, while rows keep arriving, no sooner than `_GATHER_S` after the previous
write, so batches gather rows) with the stdlib driver: a few multi-row INSERTs and one commit. In WAL mode with
synchronous=NORMAL a commit is a write() into the WAL, no fsync, so doing it on the loop costs ~30 µs per batch
plus ~5 µs per row and no hand-off at all; a thread writer paid the same plus a wake-up of the thread, a wake-up
of the loop and the GIL passed back and forth between the two (bench/README.md has the figures).

What could block the loop is kept off it:
- the loop's connection never waits for a lock (busy_timeout 0): when another process or connection holds the
  write lock, or anything else goes wrong, the batch goes to the writer thread, whose connection waits (30 s), and
  retries row by row there, so one refused row does not take its batch-mates down;
- the loop's connection never checkpoints (wal_autocheckpoint 0, where the fsyncs of WAL mode happen): the thread
  checkpoints once a second while rows are written (`_checkpoint`), holding writers off for a few ms (~3 ms
  measured; up to `_RESTART_WAIT_MS` more while a reader is still in the WAL).
The row is committed before the request's future resolves, so before its response leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import chain

from sqlalchemy.engine import Engine

from ordergate.store.db import WAL_LIMIT_BYTES

log = logging.getLogger("ordergate.audit")

_MAX_BATCH = 500
# While rows arrive concurrently (a batch held more than one), the next write waits until this long after the
# previous one, so batches gather more rows: a commit costs ~30 µs of CPU whatever its size and a row ~5 µs.
# One request alone is never delayed.
_GATHER_S = 0.002
_CHECKPOINT_EVERY_S = 1.0
# How long a checkpoint's RESTART waits for a reader still in the WAL before giving up until the next one: it holds
# writers off meanwhile, so it must be short (a long audit query or a backup must not stall cancels).
_RESTART_WAIT_MS = 5
_LOOP_BACK_OFF_S = 1.0
# A batch whose write lock is held elsewhere is tried again on the loop this often, this many times, then handed to
# the thread (which waits for the lock): another worker's commit holds it for well under a millisecond.
_RETRY_S = 0.0005
_LOOP_ATTEMPTS = 40


def _busy(exc: sqlite3.OperationalError) -> bool:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


# sqlite3 binds int, float, str and bytes directly, but sends every None through its adapter lookup, which
# raises and formats an AttributeError (no `__adapt__` on the protocol) before binding NULL: ~2,500 instructions
# for each nullable column of each audit row. With an adapter for None registered, the lookup finds it and binds
# the same NULL. Process-wide, and the same for every sqlite3 user: None is still stored as NULL.
sqlite3.register_adapter(type(None), lambda value: value)

_ONE_SECOND = timedelta(seconds=1)
_LAST_SECOND = datetime.max.replace(microsecond=0, tzinfo=UTC)


class SqliteRows:
    """The INSERT statements and parameter shaping for one table's rows (tuples in `fields` order)."""

    def __init__(self, table: str, fields: Sequence[str]) -> None:
        self._table = table
        self._fields = tuple(fields)
        self._created_at = self._fields.index("created_at")
        self._one = f"({', '.join('?' for _ in self._fields)})"
        self._inserts: dict[int, str] = {}
        self.single = self.insert(1)
        # The UTC second [_second_start, _second_end) that `_prefix` spells; empty until the first aware row.
        self._second_start = self._second_end = datetime(1, 1, 1, tzinfo=UTC)
        self._prefix = ""

    def insert(self, n: int) -> str:
        """One INSERT of `n` rows. pysqlite releases and retakes the GIL around every statement step, so
        executemany of 50 rows asks for the GIL 50 times; a few multi-row statements (sizes: powers of two, so
        sqlite3's statement cache keeps them prepared) ask a few times. Built from the model's names only."""
        sql = self._inserts.get(n)
        if sql is None:
            sql = self._inserts[n] = (
                f"INSERT INTO {self._table} ({', '.join(self._fields)}) VALUES "  # noqa: S608
                + ", ".join(self._one for _ in range(n))
            )
        return sql

    def params(self, row: tuple[object, ...]) -> tuple[object, ...]:
        """The row as SQLAlchemy's SQLite DateTime stores it ("YYYY-MM-DD HH:MM:SS.ffffff", no offset, as UTC).
        Raises for a created_at that is not a datetime, as SQLAlchemy's DateTime type does."""
        i = self._created_at
        return (*row[:i], self.created_text(row[i]), *row[i + 1 :])

    def created_text(self, created: object) -> str:
        """created_at as `params` stores it."""
        if not isinstance(created, datetime):
            raise TypeError("created_at must be a datetime")
        tz = created.tzinfo
        if tz is None:
            return created.isoformat(" ", "microseconds")  # naive: taken as UTC, as SQLAlchemy does
        # Rows of one second share their prefix: two comparisons of datetimes in one zone instead of timestamp()
        # or isoformat per row (thousands of instructions each; isoformat makes eight sprintf calls).
        utc = created if tz is UTC else created.astimezone(UTC)
        if not self._second_start <= utc < self._second_end:
            start = utc.replace(microsecond=0)
            self._prefix = start.strftime("%Y-%m-%d %H:%M:%S.")
            # The last second datetime holds cannot be followed by another: its window stays empty (never cached).
            self._second_start, self._second_end = start, start + _ONE_SECOND if start < _LAST_SECOND else start
        return self._prefix + str(utc.microsecond + 1_000_000)[1:]

    def insert_all(self, conn: sqlite3.Connection, params: list[tuple[object, ...]]) -> None:
        self._insert_flat(conn, list(chain.from_iterable(params)), len(params))

    def _insert_flat(self, conn: sqlite3.Connection, flat: list[object], rows: int) -> None:
        """`rows` rows' values, one after another in `flat`."""
        width = len(self._fields)
        start = 0
        while start < rows:
            size = 1 << min((rows - start).bit_length() - 1, 8)  # the largest power of two left, at most 256
            conn.execute(self.insert(size), flat if size == rows else flat[start * width : (start + size) * width])
            start += size

    def write_all(self, conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
        """All of `rows` in one transaction, or none (raises)."""
        try:
            # The rows' values in one list (in C), each created_at then replaced by its text: no tuple per row.
            flat = list(chain.from_iterable(rows))
            created_text = self.created_text
            for j in range(self._created_at, len(flat), len(self._fields)):
                flat[j] = created_text(flat[j])
            self._insert_flat(conn, flat, len(rows))
            conn.commit()
        except BaseException:
            with contextlib.suppress(Exception):
                conn.rollback()
            raise

    def write_each(self, conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> list[BaseException | None]:
        """`rows` in one transaction; if that fails, each on its own, so one row the database refuses does not
        take its batch-mates down with it. Returns each row's error (None = written)."""
        params: list[tuple[object, ...]] = []
        errors: list[BaseException | None] = [None] * len(rows)
        for i, row in enumerate(rows):
            try:
                params.append(self.params(row))
            except Exception as exc:  # noqa: BLE001 - this row only
                errors[i] = exc
        if len(params) == len(rows):
            try:
                self.insert_all(conn, params)
                conn.commit()
                return errors
            except Exception as exc:  # noqa: BLE001 - retried row by row below
                with contextlib.suppress(Exception):
                    conn.rollback()
                if len(rows) == 1:
                    return [exc]
        elif not params:
            return errors
        for i, row in enumerate(rows):
            if errors[i] is not None:
                continue
            try:
                conn.execute(self.single, self.params(row))
                conn.commit()
            except Exception as exc:  # noqa: BLE001 - reported to this row's request only
                with contextlib.suppress(Exception):
                    conn.rollback()
                errors[i] = exc
        return errors


class _Batch:
    """The rows one event loop has submitted since its last write, each with the future its request awaits
    (its own: a cancelled request cancels only its own wait; its row is written with the batch all the same)."""

    __slots__ = ("attempts", "loop", "rows", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.rows: list[tuple[object, ...]] = []
        self.waiters: list[asyncio.Future[None]] = []
        self.attempts = 0  # refused BEGINs on the loop (another connection held the write lock)

    def settle(self, errors: list[BaseException | None] | None) -> None:
        """Answer each row's request: `errors` holds each row's error (None = written); None means all written."""
        if errors is None:
            for waiter in self.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            return
        for waiter, error in zip(self.waiters, errors, strict=True):
            if not waiter.done():
                if error is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(error)


_CHECKPOINT = object()  # a request to the writer thread


class SqliteAuditWriter:
    """Group commit into a SQLite file (see the module docstring): on the loop, falling back to a thread."""

    def __init__(self, engine: Engine, rows: SqliteRows) -> None:
        self._engine = engine
        self._rows = rows
        self._path = engine.url.database
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._open: dict[asyncio.AbstractEventLoop, _Batch] = {}
        self._busy: set[asyncio.AbstractEventLoop] = set()  # loops with a batch at the thread
        self._scheduled: set[asyncio.AbstractEventLoop] = set()  # loops with a write pending
        self._next_at: dict[asyncio.AbstractEventLoop, float] = {}
        self._conns: dict[asyncio.AbstractEventLoop, sqlite3.Connection] = {}
        self._checkpoint_at = 0.0
        self._loop_after = 0.0  # loop time before which batches go straight to the thread
        self._writer_thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._writer_thread.start()

    def submit(self, row: tuple[object, ...]) -> asyncio.Future[None]:
        """Add `row` to this loop's open batch; the future resolves once the batch is committed (or fails with
        the row's error). A plain function returning a future: the request awaits it with no coroutine between."""
        loop = asyncio.get_running_loop()
        batch = self._open.get(loop)
        if batch is None:
            batch = self._open[loop] = _Batch(loop)
            if loop not in self._busy and loop not in self._scheduled:
                self._schedule(loop)
        waiter = loop.create_future()
        batch.rows.append(row)
        batch.waiters.append(waiter)
        return waiter

    async def write(self, row: tuple[object, ...]) -> None:
        await self.submit(row)

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled.add(loop)
        wait = self._next_at.get(loop, 0.0) - loop.time()
        if wait > 0:
            loop.call_later(wait, self._flush, loop)
        else:
            loop.call_soon(self._flush, loop)  # after this loop iteration's other requests add theirs

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled.discard(loop)
        if loop in self._busy:
            return  # _written schedules the open batch
        batch = self._open.pop(loop, None)
        if batch is None:
            return
        rows = batch.rows
        self._next_at[loop] = loop.time() + _GATHER_S if len(rows) > 1 else 0.0
        if len(rows) <= _MAX_BATCH and loop.time() >= self._loop_after:
            conn = self._loop_connection(loop)
            try:
                # The write lock first, before any row is bound: refused at once while another connection (another
                # worker, typically, for the ~50 µs of its commit) holds it.
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _busy(exc) and batch.attempts < _LOOP_ATTEMPTS:
                    # Tried again on the loop shortly, rows arriving meanwhile joining the batch: a hand-off to the
                    # thread costs more than a few refused BEGINs. A lock held longer goes to the thread below.
                    batch.attempts += 1
                    self._open[loop] = batch
                    self._scheduled.add(loop)
                    loop.call_later(_RETRY_S, self._flush, loop)
                    return
                log.debug("audit batch handed to the writer thread: %s", exc)
                if not _busy(exc):
                    self._loop_after = loop.time() + _LOOP_BACK_OFF_S
            else:
                try:
                    self._rows.write_all(conn, rows)
                except Exception as exc:  # noqa: BLE001 - the thread retries it, waiting and row by row
                    log.debug("audit batch handed to the writer thread: %s", exc)
                    # Not a lock (that was taken): the thread takes the batches for a while before the loop retries.
                    self._loop_after = loop.time() + _LOOP_BACK_OFF_S
                else:
                    batch.settle(None)
                    self._maybe_checkpoint(loop)
                    return
        self._busy.add(loop)
        self._queue.put(batch)

    def _loop_connection(self, loop: asyncio.AbstractEventLoop) -> sqlite3.Connection:
        conn = self._conns.get(loop)
        if conn is None:
            # Only ever used on `loop`'s thread; check_same_thread is off so that stop() can close it from another.
            conn = sqlite3.connect(self._path, timeout=0, check_same_thread=False)  # type: ignore[arg-type]
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=0")
            conn.execute("PRAGMA wal_autocheckpoint=0")
            conn.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            self._conns[loop] = conn
        return conn

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        """A PASSIVE pass copies the WAL into the database without holding anyone off; then a RESTART copies what
        was committed meanwhile (a few ms of rows) and makes the next writer start the WAL from its beginning.

        PASSIVE alone never catches up under steady load (batches commit while it copies and syncs), so SQLite
        never restarted the WAL: it grew ~6 MB a second, and the TRUNCATE that bounded it held writers off for
        tens of ms while it copied 64 MB (bench/README.md). The RESTART holds writers off only while it copies
        the remainder and syncs (~3 ms measured at 5,000 rows/s); while a reader still uses the WAL it gives up
        after `_RESTART_WAIT_MS` and the next checkpoint tries again."""
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        (waits,) = conn.execute("PRAGMA busy_timeout").fetchone()
        conn.execute(f"PRAGMA busy_timeout={_RESTART_WAIT_MS}")
        try:
            conn.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(waits)}")

    def _maybe_checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        if now >= self._checkpoint_at:
            self._checkpoint_at = now + _CHECKPOINT_EVERY_S
            self._queue.put(_CHECKPOINT)

    def _written(self, batch: _Batch, errors: list[BaseException | None]) -> None:
        loop = batch.loop
        self._busy.discard(loop)
        batch.settle(errors)
        if loop in self._open and loop not in self._scheduled:
            self._schedule(loop)

    async def stop(self) -> None:
        for loop in list(self._open):  # rows already submitted are written before the thread stops
            batch = self._open.pop(loop)
            self._busy.add(loop)
            self._queue.put(batch)
        # The sentinel queues behind every batch already handed over, so those are written first.
        self._queue.put(None)
        await asyncio.to_thread(self._writer_thread.join)
        for conn in self._conns.values():
            with contextlib.suppress(Exception):
                conn.close()
        self._conns.clear()
        self._engine.dispose()

    def _run(self) -> None:
        pooled = None  # SQLAlchemy's pooled connection (the pragmas applied on connect), used through its driver
        while True:
            batch = self._queue.get()
            if batch is None:
                break
            if batch is _CHECKPOINT:
                with contextlib.suppress(Exception):
                    if pooled is None:
                        pooled = self._engine.raw_connection()
                    self._checkpoint(pooled.driver_connection)  # type: ignore[arg-type]
                continue
            assert isinstance(batch, _Batch)
            errors: list[BaseException | None] = []
            for start in range(0, len(batch.rows), _MAX_BATCH):
                rows = batch.rows[start : start + _MAX_BATCH]
                try:
                    if pooled is None:
                        pooled = self._engine.raw_connection()
                    chunk = self._rows.write_each(pooled.driver_connection, rows)  # type: ignore[arg-type]
                except Exception as exc:  # noqa: BLE001 - no connection: reported to each waiting request
                    chunk = [exc] * len(rows)
                if any(chunk):
                    log.error("audit write failed for %d of %d rows", sum(e is not None for e in chunk), len(rows))
                    if all(chunk) and pooled is not None:
                        with contextlib.suppress(Exception):
                            pooled.invalidate()
                        pooled = None
                errors += chunk
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting any more
                batch.loop.call_soon_threadsafe(self._written, batch, errors)
        if pooled is not None:
            pooled.close()
