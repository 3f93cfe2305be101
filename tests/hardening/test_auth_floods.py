"""Issue 11: a flood of requests with made-up client ids costs a bounded number of database reads and audit rows
(per-source limit on failed authentication before any lookup, a negative cache, aggregated audit rows)."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

from ordergate.store.clients import ClientStore, Scope
from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.conftest import CANCEL, GatewayHarness, gateway_harness

BODY = {"authToken": "t", "type": "kraken", "id": "OABCDE-FGHIJ-KLMNOP", "isCryptocurrency": True}


def _count_loads(store: ClientStore) -> list[str]:
    loads: list[str] = []
    original = store._load

    async def counting(client_id: str):  # type: ignore[no-untyped-def]
        loads.append(client_id)
        return await original(client_id)

    store._load = counting  # type: ignore[method-assign]
    return loads


async def test_random_client_ids_cost_bounded_reads_and_audit_rows(gw: GatewayHarness) -> None:
    loads = _count_loads(gw.gateway.clients)
    before = len(await gw.gateway.audit.tail(100_000))
    started = time.monotonic()
    flood = [
        gw.http.post(CANCEL, json=BODY, headers={"X-Client-Id": str(uuid.uuid4()), "X-Client-Secret": "x"})
        for _ in range(1000)
    ]
    answers = await asyncio.gather(*flood)
    codes = [a.status_code for a in answers]
    # The burst, plus what the bucket refilled while the flood ran.
    allowed = gw.gateway.settings.source_lookup_burst + (time.monotonic() - started) * 1.0 + 1
    assert codes.count(401) <= allowed and codes.count(401) + codes.count(429) == 1000
    assert {a.json()["errorData"]["limit"] for a in answers if a.status_code == 429} == {"source"}
    assert len(loads) <= allowed  # database reads: one per failure the source was allowed, not one per request
    await gw.gateway.audit.flush_aggregates()
    rows = (await gw.gateway.audit.tail(100_000))[before:]
    assert len(rows) == 4  # per (source, errorType) and window: the first request's row, one row for the rest
    assert {r.source for r in rows} == {"127.0.0.1"} and sum(r.repeat_count for r in rows) == 1000
    assert {r.error_type for r in rows} == {"invalidClientCredentials", "rateLimited"}


async def test_a_real_client_behind_a_flooding_address_keeps_working(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account()
    token = gw.seal(headers, key, secret)
    assert (await gw.cancel(headers, **{**BODY, "authToken": token, "id": gw.sim.place_order(key)})).status_code == 200
    for _ in range(100):
        await gw.http.post(CANCEL, json=BODY, headers={"X-Client-Id": str(uuid.uuid4()), "X-Client-Secret": "x"})
    blocked = await gw.http.post(CANCEL, json=BODY, headers={"X-Client-Id": str(uuid.uuid4()), "X-Client-Secret": "x"})
    assert blocked.status_code == 429
    resp = await gw.cancel(headers, **{**BODY, "authToken": token, "id": gw.sim.place_order(key)})
    assert resp.status_code == 200, resp.text


async def test_an_unknown_client_id_is_read_once(tmp_path: Path, kraken: tuple[KrakenSimulator, str]) -> None:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url, source_lookups_per_s=0) as gw:
        loads = _count_loads(gw.gateway.clients)
        ghost = {"X-Client-Id": str(uuid.uuid4()), "X-Client-Secret": "x"}
        for _ in range(50):
            assert (await gw.http.post(CANCEL, json=BODY, headers=ghost)).status_code == 401
        assert len(loads) == 1


async def test_403_and_429_rows_name_the_client(tmp_path: Path, kraken: tuple[KrakenSimulator, str]) -> None:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url, client_rate_per_s=0.001, client_burst=1) as gw:
        reader = await gw.client(frozenset({Scope.read}))
        writer = await gw.client()
        assert (await gw.cancel(reader, **BODY)).status_code == 403
        await gw.cancel(writer, **BODY)
        assert (await gw.cancel(writer, **BODY)).status_code == 429
        rows = await gw.gateway.audit.tail(3)
    assert [(r.http_status, r.client_id) for r in rows] == [
        (403, reader["X-Client-Id"]),
        (401, writer["X-Client-Id"]),
        (429, writer["X-Client-Id"]),
    ]
