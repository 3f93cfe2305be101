"""Engine, sessions and schema migration (Alembic, run on start)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# A WAL that grew while a reader kept checkpoints from restarting it is cut back to this size once it restarts.
WAL_LIMIT_BYTES = 64 << 20


def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
    # WAL survives a process crash with synchronous=NORMAL and lets readers run beside the writer.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
    cur.close()


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"timeout": 3, "command_timeout": 10} if "+asyncpg" in url else {}
    # Fail fast while the database is down (the request answers 503, the audit row is spooled) instead of
    # hanging a cancel on a dead connection.
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, pool_timeout=5, connect_args=connect_args
    )


def sqlite_file_engine(engine: AsyncEngine) -> Engine | None:
    """A blocking (pysqlite) engine on the same SQLite file as `engine`, for work done on a thread of its own;
    None unless `engine` is SQLite on a file (an in-memory database is private to its connection)."""
    url: URL = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or "mode=memory" in str(url):
        return None
    sync = create_engine(url.set(drivername="sqlite"), connect_args={"timeout": 30})
    event.listen(sync, "connect", _sqlite_pragmas)
    return sync


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Created owner-only before SQLite opens it (SQLite would use 0644 under the usual umask); its -wal and
        # -shm files copy the database file's permissions. The audit log and hashed client secrets live here.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def sessions(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; safe to run on every start."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_alembic_config(sync_conn), "head"))
