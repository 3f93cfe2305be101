"""Two gateway worker processes on different ports sharing PostgreSQL + Redis behave as one gateway."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.simkit import Fault
from tests.scaleout.workers import Cluster, cluster
from tests.support.servers import serve_asgi

CANCEL = "/api/v1/transactions/cancel"


@pytest.fixture(scope="module")
def kraken() -> Iterator[tuple[KrakenSimulator, str]]:
    sim = KrakenSimulator(jitter_s=0.002)  # concurrent requests may overtake each other, as on the internet
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, pg_url: str, redis_url: str, kraken) -> Iterator[Cluster]:
    _, url = kraken
    with cluster(tmp_path_factory.mktemp("mw"), pg_url=pg_url, redis_url=redis_url, kraken_url=url) as c:
        yield c


def _body(token: str, txid: str) -> dict:
    return {"authToken": token, "type": "kraken", "id": txid, "isCryptocurrency": True}


async def _audit_request_ids(pg_url: str) -> set[str]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(pg_url)
    try:
        async with engine.connect() as conn:
            return {row[0] for row in await conn.execute(text("select request_id from audit_events"))}
    finally:
        await engine.dispose()


async def test_same_idempotency_key_on_both_workers_cancels_once(two_workers: Cluster, kraken) -> None:
    sim, _ = kraken
    key, secret = sim.new_credentials()
    txid = sim.place_order(key)
    sim.inject(Fault("delay_before", "CancelOrder", api_key=key, seconds=0.5))
    headers = {**two_workers.headers, "Idempotency-Key": "same-everywhere"}
    body = _body(two_workers.token(key, secret), txid)
    async with httpx.AsyncClient(timeout=10) as http:
        first, second = await asyncio.gather(
            *(http.post(url + CANCEL, json=body, headers=headers) for url in two_workers.urls)
        )
        again = await http.post(two_workers.urls[1] + CANCEL, json=body, headers=headers)
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert sim.requests[(key, "CancelOrder")] == 1


async def test_one_kraken_key_through_both_workers_has_no_nonce_errors(
    two_workers: Cluster, kraken, pg_url: str
) -> None:
    sim, _ = kraken
    key, secret = sim.new_credentials()
    token = two_workers.token(key, secret)
    txids = [sim.place_order(key) for _ in range(80)]
    nonce_errors = sim.errors["EAPI:Invalid nonce"]
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=64)) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    two_workers.urls[i % 2] + CANCEL,
                    json=_body(token, txid),
                    headers={**two_workers.headers, "X-Request-Id": f"nonce-{i}"},
                )
                for i, txid in enumerate(txids)
            )
        )
    assert [a.status_code for a in answers] == [200] * len(txids)
    assert sim.errors["EAPI:Invalid nonce"] == nonce_errors == 0
    assert sim.max_in_flight[key] == 1  # one request at a time for the key, across both processes
    assert all(sim.order(t)["status"] == "canceled" for t in txids)
    # Audit rows from both workers are complete.
    ids = await _audit_request_ids(pg_url)
    assert {f"nonce-{i}" for i in range(len(txids))} <= ids


async def test_client_rate_limit_holds_across_both_workers(tmp_path: Path, pg_url: str, redis_url: str, kraken) -> None:
    sim, url = kraken
    rate, burst, duration = 20.0, 10, 3.0
    env = {"ORDERGATE_CLIENT_RATE_PER_S": str(rate), "ORDERGATE_CLIENT_BURST": str(burst)}
    with cluster(tmp_path, pg_url=pg_url, redis_url=redis_url, kraken_url=url, extra_env=env) as c:
        key, secret = sim.new_credentials()
        body = {"authToken": c.token(key, secret), "type": "kraken"}
        allowed = limited = 0
        async with httpx.AsyncClient(timeout=10) as http:
            started = time.monotonic()

            async def loop(worker: int) -> None:
                nonlocal allowed, limited
                while time.monotonic() - started < duration:
                    resp = await http.post(
                        c.urls[worker % 2] + "/api/v1/transactions/featureList", json=body, headers=c.headers
                    )
                    if resp.status_code == 429:
                        limited += 1
                    else:
                        assert resp.status_code == 200, resp.text
                        allowed += 1

            await asyncio.gather(*(loop(i) for i in range(32)))  # enough to saturate the limit
            elapsed = time.monotonic() - started
    expected = burst + rate * elapsed
    assert limited > 0
    assert abs(allowed - expected) <= 0.1 * expected, (allowed, expected)
