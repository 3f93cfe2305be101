"""Issue 16: audit batches on PostgreSQL go through asyncpg itself (store/audit_pg.py), with the SQLAlchemy path's
failure semantics: a batch is all or nothing and is retried row by row, a row PostgreSQL refuses is classified as
refused (asyncpg's own exceptions too), and a write that fails on its connection invalidates that pooled
connection and reports a connection error, so the spool keeps the rows."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from ordergate.store import audit as audit_module
from ordergate.store.audit import FIELDS, AuditLog, AuditRecord, AuditSpool, as_row, refused_by_database
from ordergate.store.audit_pg import AuditConnectionError, PgAuditWriter
from ordergate.store.db import make_engine, migrate, sessions
from tests.scaleout.conftest import PG_HOST, _admin, _unavailable
from tests.scaleout.proxy import CuttableProxy

COLUMNS = ", ".join(FIELDS)
TOO_LONG = "x" * 300  # endpoint is VARCHAR(64): PostgreSQL refuses the row (22001)


# --- classification: no database needed ---------------------------------------------------------------------

REFUSED = [
    asyncpg.exceptions.DataError("invalid input for query argument $12"),
    asyncpg.exceptions.StringDataRightTruncationError("value too long for type character varying(64)"),
    asyncpg.exceptions.CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00'),
    asyncpg.exceptions.InvalidDatetimeFormatError("invalid input syntax for type timestamp"),
    asyncpg.exceptions.NumericValueOutOfRangeError("integer out of range"),
    asyncpg.exceptions.NotNullViolationError('null value in column "status"'),
    asyncpg.exceptions.UniqueViolationError("duplicate key value"),
    asyncpg.exceptions.UndefinedColumnError('column "x" does not exist'),
    asyncpg.exceptions._base.DataError("invalid input for query argument $1"),  # raised before sending
]
NOT_REFUSED = [
    asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.exceptions.ConnectionFailureError("connection failure"),
    asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    asyncpg.exceptions.QueryCanceledError("canceling statement due to statement timeout"),
    asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.exceptions.InterfaceError("connection is closed"),
    TimeoutError(),
    ConnectionResetError(104, "Connection reset by peer"),
    ConnectionRefusedError(111, "Connection refused"),
    AuditConnectionError("audit write failed on its connection"),
]


@pytest.mark.parametrize("error", REFUSED, ids=lambda e: type(e).__name__)
def test_asyncpg_errors_about_the_data_are_refused_by_the_database(error: BaseException) -> None:
    assert refused_by_database(error)


@pytest.mark.parametrize("error", NOT_REFUSED, ids=lambda e: type(e).__name__)
def test_asyncpg_connection_errors_are_not_refused_rows(error: BaseException) -> None:
    assert not refused_by_database(error)


# --- against PostgreSQL ----------------------------------------------------------------------------------------


async def _migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh database with the audit table, for this module."""
    name = "og_test_" + secrets.token_hex(4)
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        _unavailable("PostgreSQL", exc)
    url = f"postgresql+asyncpg://{PG_HOST}/{name}"
    asyncio.run(_migrated(url))
    yield url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(pg_url)  # as the gateway makes it: pool, pre-ping, timeouts
    yield engine
    await engine.dispose()


@pytest.fixture
async def db(pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own (outside the engine's pool), to look, lock and kill."""
    url = urlsplit(pg_url.replace("postgresql+asyncpg", "postgresql"))
    conn = await asyncpg.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, database=url.path.lstrip("/")
    )
    yield conn
    await conn.close()


class _NoSessions:
    """A session factory that fails the test if the SQLAlchemy path is taken."""

    def __call__(self) -> object:
        raise AssertionError("the audit write went through SQLAlchemy, not asyncpg")


def _rec(tag: str, i: int, **changes: object) -> AuditRecord:
    base: dict[str, object] = dict(
        request_id=f"{tag}-{i}",
        endpoint="transactions/cancel",
        client_id="cl_1",
        integration_type="kraken",
        order_id=f"O{i}",
        status="ok",
        error_type="",
        http_status=200,
        upstream_status=200,
        upstream_requests=1,
        latency_ms=1.25,
        created_at=datetime(2026, 12, 4, 18, 0, 0, i, tzinfo=UTC),
    )
    return AuditRecord(**{**base, **changes})  # type: ignore[arg-type]


async def _ids(db: asyncpg.Connection, tag: str) -> set[str]:
    return {r[0] for r in await db.fetch("select request_id from audit_events where request_id like $1", f"{tag}-%")}


def _invalidations(engine: AsyncEngine) -> list[BaseException | None]:
    seen: list[BaseException | None] = []
    event.listen(engine.sync_engine.pool, "invalidate", lambda _conn, _rec, exc: seen.append(exc))
    return seen


async def _pg_log(engine: AsyncEngine, spool: Path | None = None) -> AuditLog:
    log = AuditLog(_NoSessions(), engine=engine, spool_dir=spool)  # type: ignore[arg-type]
    await log.start()
    assert isinstance(log._pg, PgAuditWriter)
    if log._spool is not None:
        log._spool._task.cancel()  # type: ignore[union-attr]  # replays are the test's to call, not a timer's
    return log


def _writer(engine: AsyncEngine) -> PgAuditWriter:
    return PgAuditWriter(engine, "audit_events", FIELDS)


@pytest.mark.parametrize("size", [1, 8, 32, 33, 128])
async def test_a_batch_is_written_through_asyncpg_as_it_was_recorded(
    engine: AsyncEngine, db: asyncpg.Connection, size: int
) -> None:
    tag = f"batch{size}"
    plus5 = timezone(timedelta(hours=5))
    records = [
        _rec(tag, i, created_at=datetime(2026, 12, 4, 23, 0, 0, i, tzinfo=plus5), client_id=None, source="1.2.3.4")
        if i % 3 == 0
        else _rec(tag, i, order_id="\\ud800 \\x00 é", upstream_status=None, repeat_count=7)
        for i in range(size)
    ]
    log = await _pg_log(engine)
    try:
        assert await log._write_each(records) == [None] * size
    finally:
        await log.stop()
    rows = await db.fetch(f"select {COLUMNS} from audit_events where request_id like $1", f"{tag}-%")
    got = {r["request_id"]: tuple(r.values()) for r in rows}
    assert got == {rec.request_id: as_row(rec) for rec in records}
    assert all(r["created_at"].utcoffset() is not None for r in rows)  # timestamptz: the same instant back


@pytest.mark.parametrize("size", [8, 100])
async def test_a_batch_is_one_transaction(engine: AsyncEngine, db: asyncpg.Connection, size: int) -> None:
    tag = f"atomic{size}"
    writer = _writer(engine)
    rows = [as_row(_rec(tag, i, endpoint=TOO_LONG if i == size // 2 else "transactions/cancel")) for i in range(size)]
    with pytest.raises(asyncpg.exceptions.StringDataRightTruncationError):
        await writer.write(rows)
    assert await _ids(db, tag) == set()  # none of its batch-mates went in


@pytest.mark.parametrize("size", [8, 100])
async def test_one_refused_row_does_not_take_its_batch_with_it(
    engine: AsyncEngine, db: asyncpg.Connection, size: int
) -> None:
    tag = f"mixed{size}"
    bad = size // 2
    records = [_rec(tag, i, endpoint=TOO_LONG if i == bad else "transactions/cancel") for i in range(size)]
    invalidated = _invalidations(engine)
    log = await _pg_log(engine)
    try:
        errors = await log._write_each(records)
    finally:
        await log.stop()
    assert [i for i, e in enumerate(errors) if e is not None] == [bad]
    assert isinstance(errors[bad], asyncpg.exceptions.StringDataRightTruncationError)
    assert refused_by_database(errors[bad])  # type: ignore[arg-type]
    assert await _ids(db, tag) == {f"{tag}-{i}" for i in range(size) if i != bad}
    assert invalidated == []  # the server refused data: the connection was fine and went back to the pool


class _Counted:
    """Stands in for the process-wide rejected-rows counter, which other tests read as absolute figures."""

    def __init__(self) -> None:
        self.value = 0

    def inc(self, n: int = 1) -> None:
        self.value += n


async def test_a_refused_row_is_set_aside_by_the_spool_and_the_rest_answered(
    engine: AsyncEngine, db: asyncpg.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = "spooled"
    rejected = _Counted()
    monkeypatch.setattr(audit_module, "AUDIT_REJECTED_ROWS", rejected)
    log = await _pg_log(engine, tmp_path / "spool")
    try:
        results = await asyncio.gather(
            *(log.record(_rec(tag, i, endpoint=TOO_LONG if i == 7 else "transactions/cancel")) for i in range(40))
        )
        assert results == [None] * 40  # every request learns its row is durable (the refused one: spooled)
        assert await _ids(db, tag) == {f"{tag}-{i}" for i in range(40) if i != 7}
        spool: AuditSpool = log._spool  # type: ignore[assignment]
        await spool.replay()
        assert log.spool_state() == {"waiting": 0, "rejected": 1, "stuckSeconds": 0.0}
        assert rejected.value == 1
    finally:
        await log.stop()


async def test_the_sqlalchemy_path_on_asyncpg_classifies_refused_rows_too(engine: AsyncEngine) -> None:
    # Without start(), AuditLog writes through its sessions: SQLAlchemy wraps asyncpg's error in a DBAPIError.
    log = AuditLog(sessions(engine), engine=engine)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is what is under test
        await log._write([_rec("sa", 0, endpoint=TOO_LONG)])
    assert refused_by_database(caught.value)


async def _blocked_write(
    engine: AsyncEngine, db: asyncpg.Connection, rows: int
) -> tuple[asyncio.Task[list[BaseException | None]], int]:
    """Start a write of `rows` rows that waits on a lock the test holds; returns it and its server pid."""
    await db.execute("BEGIN; LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
    task = asyncio.create_task(_write_once(_writer(engine), [as_row(_rec("blocked", i)) for i in range(rows)]))
    for _ in range(250):
        await db.execute("select pg_stat_clear_snapshot()")  # else the transaction sees its first snapshot
        pid = await db.fetchval(
            "select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
            " and pid <> pg_backend_pid()"
        )
        if pid is not None:
            return task, pid
        await asyncio.sleep(0.02)
    raise AssertionError("the audit write never reached the server")


async def _write_once(writer: PgAuditWriter, rows: list[tuple[object, ...]]) -> list[BaseException | None]:
    try:
        await writer.write(rows)
    except Exception as exc:  # noqa: BLE001 - returned for the test to look at
        return [exc]
    return [None]


async def _pids(db: asyncpg.Connection) -> set[int]:
    await db.execute("select pg_stat_clear_snapshot()")
    rows = await db.fetch("select pid from pg_stat_activity where datname = current_database()")
    return {r[0] for r in rows}


@pytest.mark.parametrize("size", [8, 100])
async def test_a_connection_killed_mid_write_is_invalidated_and_the_next_batch_works(
    engine: AsyncEngine, db: asyncpg.Connection, size: int
) -> None:
    invalidated = _invalidations(engine)
    task, pid = await _blocked_write(engine, db, size)
    await db.fetchval("select pg_terminate_backend($1)", pid)  # PostgreSQL "restarting" under that connection
    (error,) = await asyncio.wait_for(task, 10)
    await db.execute("ROLLBACK")
    assert isinstance(error, AuditConnectionError) and isinstance(error, ConnectionError)
    assert not refused_by_database(error)  # so the spool keeps the rows for replay
    assert len(invalidated) == 1  # given up at once, not left in the pool for the next checkout to find
    log = await _pg_log(engine)
    try:
        assert await log._write_each([_rec("after-kill", i) for i in range(size)]) == [None] * size
    finally:
        await log.stop()
    assert len(await _ids(db, "after-kill")) == size
    assert len(invalidated) == 1  # the next batch had a fresh connection: pre-ping found nothing to throw away


async def test_a_timed_out_write_gives_its_connection_up(pg_url: str, db: asyncpg.Connection) -> None:
    # asyncpg leaves a timed-out connection open (SQLAlchemy's own execute would return it to the pool as is);
    # its state is unknown, so the writer invalidates it.
    engine = create_async_engine(pg_url, pool_pre_ping=True, connect_args={"timeout": 3, "command_timeout": 0.3})
    try:
        invalidated = _invalidations(engine)
        task, pid = await _blocked_write(engine, db, 8)
        (error,) = await asyncio.wait_for(task, 10)
        assert isinstance(error, AuditConnectionError) and isinstance(error.__cause__, TimeoutError)
        assert len(invalidated) == 1 and isinstance(invalidated[0], TimeoutError)
        for _ in range(100):  # the server ends the backend once the terminated socket is noticed
            if pid not in await _pids(db):
                break
            await asyncio.sleep(0.02)
        assert pid not in await _pids(db)
        await db.execute("ROLLBACK")
        assert await _ids(db, "blocked") == set()  # cancelled on the server, not left to commit once unblocked
        log = await _pg_log(engine)
        try:
            assert await log._write_each([_rec("after-timeout", i) for i in range(3)]) == [None] * 3
        finally:
            await log.stop()
    finally:
        await engine.dispose()


async def test_a_cancelled_write_gives_its_connection_up(engine: AsyncEngine, db: asyncpg.Connection) -> None:
    invalidated = _invalidations(engine)
    task, _ = await _blocked_write(engine, db, 8)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await db.execute("ROLLBACK")
    assert len(invalidated) == 1  # interrupted mid-statement: never back in the pool
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    await asyncio.sleep(0.2)
    assert await _ids(db, "blocked") == set()  # the statement was cancelled on the server too


async def test_postgres_unreachable_keeps_the_rows_in_the_spool_until_it_is_back(
    pg_url: str, db: asyncpg.Connection, tmp_path: Path
) -> None:
    url = urlsplit(pg_url.replace("postgresql+asyncpg", "postgresql"))
    proxy = CuttableProxy(url.hostname or "127.0.0.1", url.port or 5432)
    engine = make_engine(pg_url.replace(f"@{url.hostname}:{url.port}", f"@127.0.0.1:{proxy.port}"))
    try:
        log = await _pg_log(engine, tmp_path / "spool")
        try:
            assert await log._write_each([_rec("up", 0)]) == [None]  # a pooled connection through the proxy
            proxy.cut()  # every connection reset, new ones refused: the database restarting
            try:
                errors = await log._write_each([_rec("down", i) for i in range(5)])
                assert all(isinstance(e, ConnectionError) and not refused_by_database(e) for e in errors)
                results = await asyncio.gather(*(log.record(_rec("down", i)) for i in range(5)))
                assert results == [None] * 5  # spooled: durable though the database is down
                spool: AuditSpool = log._spool  # type: ignore[assignment]
                with pytest.raises(RuntimeError):
                    await spool.replay()
                assert log.spool_state()["waiting"] == 5 and log.spool_state()["rejected"] == 0
            finally:
                proxy.restore()
            assert await spool.replay() == 5
            assert log.spool_state()["waiting"] == 0 and log.spool_state()["rejected"] == 0
            assert await _ids(db, "down") == {f"down-{i}" for i in range(5)}
        finally:
            await log.stop()
    finally:
        await engine.dispose()
        proxy.close()
