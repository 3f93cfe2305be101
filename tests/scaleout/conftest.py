"""PostgreSQL and Redis for the scale-out tests: the machine's services (CI has them too), each test module on a
fresh database and a Redis database of its own. Unreachable services fail the run in CI and skip elsewhere."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator

import pytest

PG_HOST = os.environ.get("ORDERGATE_TEST_PG", "postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("ORDERGATE_TEST_REDIS", "redis://127.0.0.1:6379/9")


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(message + "; CI must have it")
    pytest.skip(message)


async def _admin(sql: str) -> None:
    import asyncpg

    user, _, hostport = PG_HOST.partition("@")
    host, _, port = hostport.partition(":")
    conn = await asyncpg.connect(host=host, port=int(port or 5432), user=user, database="test", timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    name = "og_test_" + secrets.token_hex(4)
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        _unavailable("PostgreSQL", exc)
    yield f"postgresql+asyncpg://{PG_HOST}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.flushdb()
        client.close()
    except Exception as exc:  # noqa: BLE001
        _unavailable("Redis", exc)
    yield REDIS_URL
