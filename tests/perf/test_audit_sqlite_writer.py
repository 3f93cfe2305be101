"""The SQLite audit writer (issue 16): batches are committed on the event loop when that cannot block it, and go to
the writer thread when it could (another connection holds the write lock); checkpoints run on the thread."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordergate.store import audit_sqlite
from ordergate.store import db as db_module
from ordergate.store.audit import FIELDS, AuditLog, AuditRecord
from ordergate.store.db import make_engine, migrate, sessions


def _row(i: int, created: datetime | None = None) -> tuple[object, ...]:
    rec = AuditRecord(f"r{i}", "transactions/cancel", "c", "kraken", f"o{i}", "ok", "", 200, 200, 1, 1.0)
    rec.created_at = created or datetime.now(UTC)
    return tuple(getattr(rec, name) for name in FIELDS)


class _Spy:
    """The writer's queue to its thread, recording what was handed over."""

    def __init__(self, queue: object) -> None:
        self.queue = queue
        self.items: list[object] = []

    def put(self, item: object) -> None:
        self.items.append(item)
        self.queue.put(item)  # type: ignore[attr-defined]

    def get(self) -> object:
        return self.queue.get()  # type: ignore[attr-defined]


async def _log(tmp_path: Path) -> tuple[AuditLog, Path]:
    db = tmp_path / "a.db"
    engine = make_engine(f"sqlite+aiosqlite:///{db}")
    await migrate(engine)
    log = AuditLog(sessions(engine), engine=engine, spool_dir=tmp_path / "spool")
    await log.start()
    return log, db


def _size(path: str) -> int:
    return os.path.getsize(path)


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM audit_events").fetchone()[0])


async def test_a_batch_is_committed_on_the_loop_without_the_thread(tmp_path: Path) -> None:
    log, db = await _log(tmp_path)
    writer = log._thread_writer
    assert writer is not None
    spy = writer._queue = _Spy(writer._queue)  # type: ignore[assignment]
    await asyncio.gather(*(log.record_row(_row(i)) for i in range(50)))
    assert _count(db) == 50  # committed: visible to another connection before record_row returned
    assert not [item for item in spy.items if isinstance(item, audit_sqlite._Batch)]
    await log.stop()


async def test_a_locked_database_sends_the_batch_to_the_thread_and_never_blocks_the_loop(tmp_path: Path) -> None:
    log, db = await _log(tmp_path)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process's write transaction
    released = threading.Event()

    def release_later() -> None:
        time.sleep(0.5)
        holder.execute("COMMIT")
        released.set()

    threading.Thread(target=release_later).start()
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while not released.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    started = time.monotonic()
    tick_task = asyncio.create_task(ticker())
    await asyncio.gather(*(log.record_row(_row(i)) for i in range(20)))
    assert released.is_set() and time.monotonic() - started >= 0.45  # waited for the lock, on the thread
    assert _count(db) == 20
    assert ticks >= 20  # the loop kept running while the thread waited
    await tick_task
    # Once the lock is free again, the loop writes the next batch itself.
    writer = log._thread_writer
    assert writer is not None
    spy = writer._queue = _Spy(writer._queue)  # type: ignore[assignment]
    await log.record_row(_row(99))
    assert _count(db) == 21 and not [item for item in spy.items if isinstance(item, audit_sqlite._Batch)]
    holder.close()
    await log.stop()


async def test_a_lock_held_briefly_is_waited_for_on_the_loop_without_the_thread(tmp_path: Path) -> None:
    """Another worker's commit holds the write lock for well under a millisecond: the batch is tried again on the
    loop (rows arriving meanwhile joining it) rather than handed to the thread, and no row is bound before the lock
    is taken."""
    log, db = await _log(tmp_path)
    writer = log._thread_writer
    assert writer is not None
    spy = writer._queue = _Spy(writer._queue)  # type: ignore[assignment]
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.004, holder.execute, "COMMIT")
    first = asyncio.gather(*(log.record_row(_row(i)) for i in range(10)))
    await asyncio.sleep(0.001)
    later = asyncio.gather(*(log.record_row(_row(i)) for i in range(10, 15)))
    await asyncio.gather(first, later)
    assert _count(db) == 15
    assert not [item for item in spy.items if isinstance(item, audit_sqlite._Batch)]
    holder.close()
    await log.stop()


async def test_checkpoints_run_on_the_writer_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_sqlite, "_CHECKPOINT_EVERY_S", 0.0)
    log, db = await _log(tmp_path)
    writer = log._thread_writer
    assert writer is not None
    spy = writer._queue = _Spy(writer._queue)  # type: ignore[assignment]
    for i in range(30):
        await log.record_row(_row(i))
    assert sum(item is audit_sqlite._CHECKPOINT for item in spy.items) >= 30
    await log.stop()
    # The loop's connection never checkpoints on its own; the thread's passive checkpoints kept the WAL applied.
    with sqlite3.connect(db) as conn:
        busy, log_frames, checkpointed = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and checkpointed == log_frames


async def test_created_at_is_stored_as_sqlalchemy_stores_it(tmp_path: Path) -> None:
    log, db = await _log(tmp_path)
    plus_two = timezone(timedelta(hours=2))
    moments = [
        datetime(2026, 1, 2, 3, 4, 5, 0, UTC),
        datetime(2026, 1, 2, 5, 4, 5, 123456, plus_two),  # 03:04:05.123456 UTC
        datetime(2026, 1, 2, 3, 4, 5, 7),  # naive: taken as UTC
    ]
    for i, moment in enumerate(moments):
        await log.record_row(_row(i, moment))
    with sqlite3.connect(db) as conn:
        stored = [r[0] for r in conn.execute("SELECT created_at FROM audit_events ORDER BY id")]
    assert stored == ["2026-01-02 03:04:05.000000", "2026-01-02 03:04:05.123456", "2026-01-02 03:04:05.000007"]
    tail = await log.tail(3)
    assert [r.created_at.replace(tzinfo=None) for r in tail] == [  # type: ignore[union-attr]
        datetime(2026, 1, 2, 3, 4, 5, 0),
        datetime(2026, 1, 2, 3, 4, 5, 123456),
        datetime(2026, 1, 2, 3, 4, 5, 7),
    ]
    await log.stop()


def test_checkpoints_restart_the_wal_under_steady_load(tmp_path: Path) -> None:
    """A passive checkpoint alone never catches up while batches keep committing, so SQLite never restarted the
    WAL and it grew without bound; the checkpoint's RESTART lets the next writer start it over from the top."""
    db = str(tmp_path / "w.db")
    setup = sqlite3.connect(db, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    setup.close()
    stop = threading.Event()

    def write_batches() -> None:  # the event loop's writer: a batch every millisecond or so
        conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("PRAGMA busy_timeout=30000")
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO t (v) VALUES (?)", [("x" * 200,)] * 20)
            conn.execute("COMMIT")
            time.sleep(0.001)
        conn.close()

    writer = threading.Thread(target=write_batches)
    writer.start()
    checkpointer = sqlite3.connect(db, isolation_level=None)
    checkpointer.execute("PRAGMA busy_timeout=30000")
    peak = 0
    try:
        for _ in range(40):
            time.sleep(0.02)
            peak = max(peak, _size(f"{db}-wal"))
            audit_sqlite.SqliteAuditWriter._checkpoint(checkpointer)
    finally:
        stop.set()
        writer.join()
        checkpointer.close()
    # ~2.5 MB went through the WAL; restarted at each checkpoint it holds ~20 ms of batches (0.25 MB measured),
    # where passive checkpoints alone let it reach 1.6-4.9 MB over five runs.
    assert peak < 1 << 20


async def test_a_reader_in_the_wal_delays_no_write_and_the_wal_is_cut_back_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The RESTART waits for readers only `_RESTART_WAIT_MS` (a long audit query or a backup must not hold the
    writers off), and a WAL that grew past journal_size_limit while one read is cut back once it restarts."""
    monkeypatch.setattr(audit_sqlite, "_CHECKPOINT_EVERY_S", 0.0)
    monkeypatch.setattr(audit_sqlite, "WAL_LIMIT_BYTES", 32 * 1024)
    monkeypatch.setattr(db_module, "WAL_LIMIT_BYTES", 32 * 1024)
    log, db = await _log(tmp_path)
    await log.record_row(_row(0))
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM audit_events").fetchone()  # a snapshot in the WAL, held
    slowest = 0.0
    for i in range(1, 21):
        started = time.perf_counter()
        await asyncio.gather(*(log.record_row(_row(i * 100 + j)) for j in range(20)))
        slowest = max(slowest, time.perf_counter() - started)
    grown = _size(f"{db}-wal")
    reader.execute("COMMIT")
    reader.close()
    # The thread's checkpoints run when it gets the CPU: the WAL restarts with the first write after a RESTART
    # that found no reader, whenever that lands. Writes go on (as under load) until it has; 50 x 20 ms at most.
    written = 401
    for i in range(50):
        await log.record_row(_row(9000 + i))
        written += 1
        if _size(f"{db}-wal") <= 64 * 1024:
            break
        await asyncio.sleep(0.02)
    cut_back = _size(f"{db}-wal")
    await log.stop()
    assert slowest < 0.5  # with the connection's own 30 s busy timeout, each checkpoint would wait for the reader
    # Cut back to the limit when it restarted, plus the frames committed since (535 KB -> 37 KB measured).
    assert grown > 256 * 1024
    assert cut_back <= 64 * 1024
    assert _count(db) == written


_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30)), None])


@given(
    st.lists(
        st.tuples(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 31)), _ZONES), max_size=40
    ),
    st.lists(st.integers(min_value=0, max_value=2_000_000), max_size=40),
)
def test_created_text_matches_isoformat_in_utc_whatever_came_before(
    moments: list[tuple[datetime, timezone | None]], steps_us: list[int]
) -> None:
    """The text is cached per UTC second: rows in the same second, the next one, an earlier one, another zone
    and naive rows in any order all give what isoformat gives for the moment in UTC."""
    rows = audit_sqlite.SqliteRows("t", ["id", "created_at"])
    base = datetime(2026, 12, 6, 23, 59, 58, 999_999, UTC)
    stream = [base + timedelta(microseconds=sum(steps_us[: i + 1])) for i in range(len(steps_us))]
    stream += [m.replace(tzinfo=z) for m, z in moments]
    stream += [
        datetime.max.replace(tzinfo=UTC),
        datetime.max.replace(microsecond=0, tzinfo=UTC),
        stream[0] if stream else base,
    ]
    for moment in stream:
        utc = moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
        assert rows.created_text(moment) == utc.isoformat(" ", "microseconds")
