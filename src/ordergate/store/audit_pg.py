"""Audit batches to PostgreSQL through asyncpg itself (issue 16).

Through SQLAlchemy's session and Core insert a row cost the gateway 2-3x the CPU it costs through asyncpg's own
calls (bench/audit_pg.py), so on `postgresql+asyncpg` a batch goes to asyncpg directly, on a connection checked
out of the engine's pool (pool size, pre-ping and disposal stay with the engine). Each batch is one statement, so
one transaction, in autocommit: an explicit BEGIN/COMMIT adds two round trips (90-160 µs of CPU a batch here)
to an atomicity the one statement already has.

Which statement (bench/audit_pg.py, gateway CPU per row): up to `_VALUES_MAX` rows, one prepared multi-row
INSERT, the cheapest at 1, 8 and 32 rows (one round trip; asyncpg keeps it prepared, one per row count); above,
binary COPY: at 128 rows it costs the gateway within a fraction of a µs per row of that INSERT and the server no
more, and it needs no statement per row count (asyncpg's cache holds 100 a connection), no bind-parameter limit
and no statement past the 15 KiB asyncpg still caches.

Unlike SQLAlchemy's execute, the driver connection invalidates nothing on failure, so `write` does: any failure
that is not the server (or the driver's encoder) refusing the data gives the connection up and is raised as
`AuditConnectionError`, which the spool keeps for replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

_VALUES_MAX = 32

# SQLSTATE classes of a statement refused for what it carries: data exception, integrity constraint violation,
# syntax error or access rule violation. They are what SQLAlchemy reports as DataError, IntegrityError and
# ProgrammingError (asyncpg.exceptions.DataError, IntegrityConstraintViolationError, SyntaxOrAccessError and
# their subclasses), which refused_by_database already took as refused. Connection loss (08), a server shutting
# down or a cancelled statement (57), resources (53) and the rest are not the row's fault.
_REFUSED_SQLSTATE_CLASSES = frozenset({"22", "23", "42"})


class AuditConnectionError(ConnectionError):
    """An audit write failed on its connection, not on a row: the connection was given up, the rows wait."""


def refused_by_postgres(error: BaseException | None) -> bool:
    """PostgreSQL refused the statement for its data. Reads the SQLSTATE that asyncpg's exceptions carry, and
    that SQLAlchemy's wrapper of an asyncpg error (its `.orig`) copies."""
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate[:2] in _REFUSED_SQLSTATE_CLASSES


def _refused_row(error: BaseException) -> bool:
    # A ValueError is the driver refusing to encode a value before it reached the server (asyncpg's client-side
    # DataError, UnicodeEncodeError in COPY): the connection is untouched.
    return refused_by_postgres(error) or isinstance(error, ValueError)


def pg_writer(engine: AsyncEngine | None, table: str, columns: Sequence[str]) -> PgAuditWriter | None:
    """The asyncpg writer for `engine`, or None unless it is PostgreSQL through asyncpg."""
    if engine is None or engine.dialect.name != "postgresql" or engine.dialect.driver != "asyncpg":
        return None
    return PgAuditWriter(engine, table, columns)


class PgAuditWriter:
    """Writes row tuples (in `columns` order) to `table`; all of a batch or none of it."""

    def __init__(self, engine: AsyncEngine, table: str, columns: Sequence[str]) -> None:
        self._engine = engine
        self._table = table
        self._columns = tuple(columns)
        self._inserts: dict[int, str] = {}

    def _insert(self, n: int) -> str:
        sql = self._inserts.get(n)
        if sql is None:
            width = len(self._columns)
            values = ", ".join(
                "(" + ", ".join(f"${row * width + col + 1}" for col in range(width)) + ")" for row in range(n)
            )
            # Built from the model's own names, never from input.
            sql = self._inserts[n] = f"INSERT INTO {self._table} ({', '.join(self._columns)}) VALUES {values}"  # noqa: S608
        return sql

    async def write(self, rows: Sequence[tuple[object, ...]]) -> None:
        """Commit `rows` (one statement) or raise: the database's own error for data it refused, else
        `AuditConnectionError` with the pooled connection invalidated."""
        if not rows:
            return
        try:
            pooled = await self._engine.raw_connection()
        except Exception as exc:
            raise AuditConnectionError(f"audit write: no database connection ({exc!r})") from exc
        conn: Any = pooled.driver_connection  # an asyncpg.Connection (asyncpg ships no type hints)
        try:
            if conn.is_in_transaction():
                # Autocommit is what makes the statement its own transaction; inside someone's open transaction
                # the rows would be "written" and then rolled back with it.
                raise AuditConnectionError("audit write: the pooled connection is inside a transaction")
            if len(rows) <= _VALUES_MAX:
                await conn.execute(self._insert(len(rows)), *chain.from_iterable(rows))
            else:
                await conn.copy_records_to_table(self._table, records=rows, columns=self._columns)
        except BaseException as exc:
            if isinstance(exc, Exception) and _refused_row(exc) and not conn.is_closed():
                pooled.close()
                raise
            # Reset, timed out, cancelled mid-statement, or anything unexpected: the connection's state is
            # unknown, so it never goes back to the pool. In a greenlet, as SQLAlchemy's own execute does, so
            # the close is graceful: asyncpg first completes its cancel request for a statement that timed out
            # or was cancelled. Terminating the socket at once would leave that statement running on the
            # server, to commit the rows after the write was reported failed (and they were spooled).
            await greenlet_spawn(pooled.invalidate, exc)
            if isinstance(exc, AuditConnectionError) or not isinstance(exc, Exception):
                raise
            raise AuditConnectionError(f"audit write failed on its connection ({exc!r})") from exc
        # No SQLAlchemy transaction was begun on this connection, so the pool's reset-on-return has nothing to
        # await (no greenlet needed).
        pooled.close()
