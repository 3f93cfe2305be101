"""CPU per audit row on PostgreSQL: the SQLAlchemy Core insert the audit writer used vs asyncpg itself (issue 16).

    PYTHONPATH=src .venv/bin/python bench/audit_pg.py [--admin-url postgresql://postgres@127.0.0.1:5432/test]

In-process, on a temporary database (created and dropped through --admin-url). Two tables of figures, µs per row
at batch sizes 1, 8, 32 and 128, the median of --rounds interleaved rounds:

1. `statements`: which asyncpg call, on one held connection (no pool): a prepared multi-row INSERT (`values`;
   `values+tx` inside BEGIN/COMMIT), binary COPY (`copy_records_to_table`), prepared `executemany`, and one
   INSERT ... SELECT FROM unnest(arrays). What store/audit_pg.py chose from.
2. `writer`: AuditLog._write_each, what the writer task calls per batch, through the engine's pool as the gateway
   runs it (make_engine: pre-ping on every checkout): `sqlalchemy` = the session + Core insert; `asyncpg` =
   store/audit_pg.py.

`cpu` is this process's CPU (the gateway's cost); `server` is the PostgreSQL backends' CPU when they run on this
machine and /proc shows them (10 ms ticks: coarse at small totals), else blank. Not a timed assertion: on a shared
machine read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from itertools import chain
from typing import Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]

from ordergate.store.audit import FIELDS, AuditLog, AuditRecord, as_row
from ordergate.store.audit_pg import pg_writer
from ordergate.store.db import make_engine, migrate, sessions
from ordergate.store.models import AuditEvent

SIZES = (1, 8, 32, 128)
TABLE = AuditEvent.__tablename__
PG_TYPES = ["text"] * 7 + ["int4", "int4", "int4", "float8", "timestamptz", "text", "int4"]  # FIELDS' order


def _records(n: int) -> list[AuditRecord]:
    now = datetime.now(UTC)
    return [
        AuditRecord(
            request_id=f"bench-{secrets.token_hex(8)}",
            endpoint="transactions/cancel",
            client_id="cl_0123456789",
            integration_type="kraken",
            order_id=f"OABCDE-FGHIJ-{i:06d}",
            status="ok",
            error_type="",
            http_status=200,
            upstream_status=200,
            upstream_requests=1,
            latency_ms=3.25,
            created_at=now,
        )
        for i in range(n)
    ]


def _server_cpu(pids: list[int]) -> float | None:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                rest = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += int(rest[11]) + int(rest[12])
    return total / os.sysconf("SC_CLK_TCK")


async def _measure(
    variants: dict[str, Callable[[Any], Awaitable[object]]],
    make: Callable[[int], Any],
    size: int,
    rows: int,
    rounds: int,
    backends: Callable[[], Awaitable[list[int]]],
) -> dict[str, tuple[float, float | None]]:
    """Median µs of this process's CPU (and the server's) per row, variants interleaved round by round."""
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    server: dict[str, list[float]] = {name: [] for name in variants}
    batches = max(rows // size, 24)
    for fn in variants.values():
        for _ in range(5):  # connections opened, statements prepared
            await fn(make(size))
    for _ in range(rounds):
        for name, fn in variants.items():
            data = [make(size) for _ in range(batches)]
            pids = await backends()
            s0, c0 = _server_cpu(pids), time.process_time()
            for batch in data:
                await fn(batch)
            c1, s1 = time.process_time(), _server_cpu(pids)
            cpu[name].append((c1 - c0) / (batches * size) * 1e6)
            if s0 is not None and s1 is not None:
                server[name].append((s1 - s0) / (batches * size) * 1e6)
    return {n: (statistics.median(cpu[n]), statistics.median(server[n]) if server[n] else None) for n in variants}


def _print(title: str, size: int, figures: dict[str, tuple[float, float | None]]) -> None:
    cells = "  ".join(
        f"{name:>11} cpu {c:6.1f}" + (f" server {s:5.1f}" if s is not None else "") for name, (c, s) in figures.items()
    )
    print(f"{title:10} batch {size:4d}  {cells}", flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rows", type=int, default=4096, help="rows per variant per round (at least 24 batches)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    name = "og_bench_" + secrets.token_hex(4)
    admin = await asyncpg.connect(args.admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(args.admin_url)
    url = parts._replace(scheme="postgresql+asyncpg", path=f"/{name}").geturl()
    engine = make_engine(url)
    try:
        await migrate(engine)
        held = await asyncpg.connect(parts._replace(path=f"/{name}").geturl())

        async def backends() -> list[int]:
            rows = await held.fetch("select pid from pg_stat_activity where datname = current_database()")
            return [r[0] for r in rows]

        cols = ", ".join(FIELDS)
        one = "(" + ", ".join(f"${i + 1}" for i in range(len(FIELDS))) + ")"
        unnest = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(PG_TYPES))
        inserts: dict[int, str] = {}

        def values_sql(n: int) -> str:
            if n not in inserts:
                width = len(FIELDS)
                rows = ", ".join("(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(n))
                inserts[n] = f"INSERT INTO {TABLE} ({cols}) VALUES {rows}"  # noqa: S608
            return inserts[n]

        async def values_tx(r: list[tuple[object, ...]]) -> None:
            async with held.transaction():
                await held.execute(values_sql(len(r)), *chain.from_iterable(r))

        statements: dict[str, Callable[[Any], Awaitable[object]]] = {
            "values": lambda r: held.execute(values_sql(len(r)), *chain.from_iterable(r)),
            "values+tx": values_tx,
            "copy": lambda r: held.copy_records_to_table(TABLE, records=r, columns=FIELDS),
            "executemany": lambda r: held.executemany(f"INSERT INTO {TABLE} ({cols}) VALUES {one}", r),  # noqa: S608
            "unnest": lambda r: held.execute(
                f"INSERT INTO {TABLE} ({cols}) SELECT * FROM unnest({unnest})",  # noqa: S608
                *zip(*r, strict=True),
            ),
        }
        old = AuditLog(sessions(engine), engine=engine)
        new = AuditLog(sessions(engine), engine=engine)
        new._pg = pg_writer(engine, TABLE, FIELDS)  # what AuditLog.start chooses on postgresql+asyncpg
        assert new._pg is not None
        writers: dict[str, Callable[[Any], Awaitable[object]]] = {
            "sqlalchemy": old._write_each,
            "asyncpg": new._write_each,
        }
        for size in SIZES:
            figures = await _measure(
                statements, lambda n: [as_row(r) for r in _records(n)], size, args.rows, args.rounds, backends
            )
            _print("statements", size, figures)
        for size in SIZES:
            figures = await _measure(writers, _records, size, args.rows, args.rounds, backends)
            _print("writer", size, figures)
        await held.close()
    finally:
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
