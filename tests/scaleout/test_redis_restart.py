"""A real Redis restart (a private redis-server process, stopped and started again on the same port) under two
workers: 503 serviceUnavailable while it is gone, recovery by itself once it is back."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.scaleout.test_outage import _cancel, _until_ok
from tests.scaleout.workers import cluster
from tests.support.servers import serve_asgi
from tests.test_readme import _free_port


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_real_redis_restart(tmp_path: Path, pg_url: str, private_redis: PrivateRedis) -> None:
    sim = KrakenSimulator()
    with (
        serve_asgi(sim.app) as kraken_url,
        cluster(
            tmp_path, pg_url=pg_url, redis_url=f"redis://127.0.0.1:{private_redis.port}/0", kraken_url=kraken_url
        ) as c,
    ):
        async with httpx.AsyncClient(timeout=15) as http:
            assert (await _cancel(http, c, sim, "real-redis-before"))[0].status_code == 200
            private_redis.stop()
            for i in range(2):
                resp, venue_status = await _cancel(http, c, sim, f"real-redis-down-{i}", i)
                assert resp.status_code == 503, resp.text
                assert resp.json()["errorType"] == "serviceUnavailable"
                assert venue_status == "open"
            await asyncio.to_thread(private_redis.start)
            await _until_ok(http, c, sim, "real-redis")
