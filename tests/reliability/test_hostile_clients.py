"""Hostile clients and venues (issue 11): a lone-surrogate storm inside a cancel storm, a flood of made-up client
ids, oversized request heads on the real server, venue redirects and oversized venue answers. Figures go to
RELIABILITY.md."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import time
import uuid
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.store.clients import Scope
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.transport import ResponseTooLarge, Transport
from tests.conftest import CANCEL, GatewayHarness, gateway_harness
from tests.hardening.serving import SRC
from tests.reliability import report
from tests.support.servers import serve_asgi
from tests.test_readme import _free_port, _wait_healthy, running

SECTION = "hostile clients and venues"
DETAILS = "/api/v1/transactions/details"
LONE = b'{"authToken":"t","type":"kraken","id":"\\ud800","isCryptocurrency":true}'


async def test_surrogate_requests_inside_a_cancel_storm(gw: GatewayHarness) -> None:
    writer = await gw.client()
    reader = {**await gw.client(frozenset({Scope.read})), "Content-Type": "application/json"}
    orders = []
    for _ in range(15):  # 20 cancels per venue key: inside Kraken's per-key cancel budget
        key, secret = gw.account()
        token = gw.seal(writer, key, secret)
        orders += [(token, gw.sim.place_order(key)) for _ in range(20)]
    before = len(await gw.gateway.audit.tail(100_000))
    sends = [  # every 15th of the 300 is a lone-surrogate details request: 20 of them
        gw.http.post(DETAILS, content=LONE, headers=reader)
        if i % 15 == 0
        else gw.cancel(writer, authToken=tok, type="kraken", id=t, isCryptocurrency=True)
        for i, (tok, t) in enumerate(orders)
    ]
    answers = await asyncio.gather(*sends)
    rows = await gw.gateway.audit.tail(100_000)
    written = {r.request_id for r in rows[before:]}
    lost = sum(a.headers["x-request-id"] not in written for a in answers)
    waiting = gw.gateway.audit.spool_state()["waiting"]
    assert sorted({a.status_code for a in answers}) == [200, 400] and lost == 0 and waiting == 0
    report.count(SECTION, surrogate_storm_requests=len(answers), audit_rows_lost=lost, rows_stuck_in_spool=waiting)


async def test_flood_of_made_up_client_ids(gw: GatewayHarness) -> None:
    reads: list[str] = []
    original = gw.gateway.clients._load

    async def counting(client_id: str):  # type: ignore[no-untyped-def]
        reads.append(client_id)
        return await original(client_id)

    gw.gateway.clients._load = counting  # type: ignore[method-assign]
    before = len(await gw.gateway.audit.tail(100_000))
    started = time.monotonic()
    body = {"authToken": "t", "type": "kraken", "id": "x", "isCryptocurrency": True}
    answers = await asyncio.gather(
        *(
            gw.http.post(CANCEL, json=body, headers={"X-Client-Id": str(uuid.uuid4()), "X-Client-Secret": "s"})
            for _ in range(4000)
        )
    )
    await gw.gateway.audit.flush_aggregates()
    rows = (await gw.gateway.audit.tail(100_000))[before:]
    assert {a.status_code for a in answers} <= {401, 429}
    assert sum(r.repeat_count for r in rows) == 4000  # every request is accounted for
    settings = gw.gateway.settings
    allowed = settings.source_lookup_burst + settings.source_lookups_per_s * (time.monotonic() - started) + 1
    assert len(reads) <= allowed and len(rows) <= 4
    report.count(SECTION, flood_requests=4000, flood_database_reads=len(reads), flood_audit_rows=len(rows))


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_oversized_request_heads_on_the_real_server(tmp_path: Path) -> None:
    port = _free_port()
    with running(["serve", "--sandbox", "--port", str(port)], tmp_path, {"PYTHONPATH": SRC}) as proc:
        _wait_healthy(port, proc)
        rss_before = _rss_kb(proc.pid)
        heads = [
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (64 << 20) + b"\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(5000)) + b"\r\n",
        ]
        refused = 0
        for head in heads:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                with contextlib.suppress(OSError):  # the server closes mid-head: its answer is still readable
                    sock.sendall(head)
                answer = b""
                try:
                    while chunk := sock.recv(65536):
                        answer += chunk
                except OSError:
                    pass
            refused += answer.startswith(b"HTTP/1.1 431 ")
        growth_mb = max(0, _rss_kb(proc.pid) - rss_before) // 1024
    assert refused == len(heads) and growth_mb < 16
    report.count(
        SECTION, oversized_heads=len(heads), oversized_heads_refused_431=refused, server_rss_growth_mb=growth_mb
    )


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_venue_redirects(tmp_path: Path, kraken: tuple[KrakenSimulator, str], status: int) -> None:
    elsewhere: list[str] = []

    async def target(request: Request) -> Response:
        elsewhere.append(request.method)
        return Response("{}", media_type="application/json")

    async def redirect(request: Request) -> Response:
        return Response(status_code=status, headers={"Location": f"{target_url}{request.url.path}"})

    sim, _ = kraken
    methods = ["GET", "POST", "DELETE"]
    with (
        serve_asgi(Starlette(routes=[Route("/{p:path}", target, methods=methods)])) as target_url,
        serve_asgi(Starlette(routes=[Route("/{p:path}", redirect, methods=methods)])) as url,
    ):
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.kraken: url}) as gw:
            headers = await gw.client()
            key, secret = gw.account()
            resp = await gw.cancel(
                headers,
                authToken=gw.seal(headers, key, secret),
                type="kraken",
                id="OAAAAA-BBBBB-CCCCCC",
                isCryptocurrency=True,
            )
    assert resp.status_code == 502 and elsewhere == []
    report.count(SECTION, venue_redirects=1, requests_reaching_the_redirect_target=len(elsewhere))


@pytest.mark.parametrize("shape", ["declared", "gzip bomb"])
async def test_oversized_venue_answers(shape: str) -> None:
    big = b"0" * (8 << 20)
    answer = (
        Response(gzip.compress(big), headers={"Content-Encoding": "gzip"}) if shape == "gzip bomb" else Response(big)
    )

    async def venue(_: Request) -> Response:
        return answer

    transport = Transport(timeout_s=5)
    with serve_asgi(Starlette(routes=[Route("/x", venue)])) as url:
        try:
            with pytest.raises(ResponseTooLarge):
                await transport.send("GET", f"{url}/x")
        finally:
            await transport.close()
    report.count(SECTION, oversized_venue_answers_cut_at_1_mib=1)
