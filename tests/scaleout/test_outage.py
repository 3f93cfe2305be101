"""PostgreSQL or Redis "restarted" mid-run (every connection reset, new ones refused, through a cuttable proxy):
the workers answer 503 serviceUnavailable while it is down, recover by themselves, and no answered cancel loses
its audit row (rows wait in the fsync'd spool and are replayed)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.scaleout.proxy import CuttableProxy
from tests.scaleout.test_multiworker import _audit_request_ids, _body
from tests.scaleout.workers import Cluster, cluster
from tests.support.servers import serve_asgi

CANCEL = "/api/v1/transactions/cancel"


def _via(url: str, proxy: CuttableProxy) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    auth = netloc[0] + "@" if len(netloc) == 2 else ""
    return parts._replace(netloc=f"{auth}127.0.0.1:{proxy.port}").geturl()


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, pg_url: str, redis_url: str) -> Iterator[tuple]:
    pg = urlsplit(pg_url.replace("postgresql+asyncpg", "postgresql"))
    rd = urlsplit(redis_url)
    pg_proxy = CuttableProxy(pg.hostname or "127.0.0.1", pg.port or 5432)
    redis_proxy = CuttableProxy(rd.hostname or "127.0.0.1", rd.port or 6379)
    sim = KrakenSimulator()
    try:
        with (
            serve_asgi(sim.app) as kraken_url,
            cluster(
                tmp_path_factory.mktemp("outage"),
                pg_url=_via(pg_url, pg_proxy),
                redis_url=_via(redis_url, redis_proxy),
                kraken_url=kraken_url,
            ) as c,
        ):
            yield c, sim, pg_proxy, redis_proxy
    finally:
        pg_proxy.close()
        redis_proxy.close()


async def _cancel(http: httpx.AsyncClient, c: Cluster, sim: KrakenSimulator, rid: str, worker: int = 0):
    key, secret = sim.new_credentials()
    txid = sim.place_order(key)
    resp = await http.post(
        c.urls[worker % len(c.urls)] + CANCEL,
        json=_body(c.token(key, secret), txid),
        headers={**c.headers, "X-Request-Id": rid},
    )
    return resp, sim.order(txid)["status"]


async def _until_ok(http: httpx.AsyncClient, c: Cluster, sim: KrakenSimulator, tag: str) -> float:
    started = time.monotonic()
    for i in range(200):
        resp, _ = await _cancel(http, c, sim, f"{tag}-recover-{i}", i)
        if resp.status_code == 200:
            return time.monotonic() - started
        assert resp.status_code == 503, resp.text
        await asyncio.sleep(0.1)
    raise AssertionError("the gateway did not recover")


async def test_redis_outage_is_503_then_recovers(setup: tuple) -> None:
    c, sim, _, redis_proxy = setup
    async with httpx.AsyncClient(timeout=15) as http:
        assert (await _cancel(http, c, sim, "redis-before"))[0].status_code == 200
        redis_proxy.cut()
        try:
            for i in range(4):
                resp, venue_status = await _cancel(http, c, sim, f"redis-down-{i}", i)
                assert resp.status_code == 503, resp.text
                assert (resp.json()["status"], resp.json()["errorType"]) == ("serverFailure", "serviceUnavailable")
                assert venue_status == "open"  # nothing was sent to the venue
        finally:
            redis_proxy.restore()
        await _until_ok(http, c, sim, "redis")


async def test_postgres_outage_loses_no_answered_audit_row(setup: tuple, pg_url: str) -> None:
    c, sim, pg_proxy, _ = setup
    answered_ok: list[str] = []
    async with httpx.AsyncClient(timeout=15) as http:
        pg_proxy.cut()
        try:
            deadline = time.monotonic() + 3  # past the 1 s client cache: both kinds of answer happen
            i = 0
            while time.monotonic() < deadline:
                rid = f"pg-down-{i}"
                resp, venue_status = await _cancel(http, c, sim, rid, i)
                assert resp.status_code in (200, 503), resp.text
                if resp.status_code == 200:
                    assert venue_status == "canceled"
                    answered_ok.append(rid)
                else:
                    assert resp.json()["errorType"] == "serviceUnavailable"
                i += 1
        finally:
            pg_proxy.restore()
        await _until_ok(http, c, sim, "pg")
    assert answered_ok, "expected some cancels answered from the client cache while the database was down"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        missing = set(answered_ok) - await _audit_request_ids(pg_url)
        if not missing:
            break
        await asyncio.sleep(0.5)
    assert not missing, f"answered cancels without an audit row: {sorted(missing)}"
