"""Operations: health and readiness, Prometheus metrics, JSON logs with the request id (and no secret), and a
graceful SIGTERM that finishes in-flight cancels."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.tokens import TokenSealer, generate_key_spec, parse_token_keys
from ordergate.venues.kraken.simulator import Fault, KrakenSimulator
from tests.conftest import GatewayHarness
from tests.support.servers import serve_asgi
from tests.test_readme import _free_port, _wait_healthy


async def test_health_readiness_and_metrics(gw: GatewayHarness) -> None:
    assert (await gw.http.get("/healthz")).json() == {"status": "ok"}
    ready = await gw.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "redis": "not configured", "auditSpool": "ok"}
    headers = await gw.client()
    key, secret = gw.account()
    txid = gw.sim.place_order(key)
    await gw.cancel(headers, authToken=gw.seal(headers, key, secret), type="kraken", id=txid, isCryptocurrency=True)
    await gw.cancel({}, authToken="x", type="kraken", id=txid, isCryptocurrency=True)
    text = (await gw.http.get("/metrics")).text
    assert (
        'ordergate_requests_total{endpoint="transactions/cancel",error_type="",http_status="200",venue="kraken"}'
        in text
    )
    assert 'error_type="invalidClientCredentials",http_status="401"' in text
    assert 'ordergate_upstream_request_seconds_bucket{le="0.5",outcome="200",venue="kraken"}' in text
    assert "ordergate_in_flight_requests" in text and "ordergate_rate_limit_rejections_total" in text
    assert secret not in text and key not in text


async def test_readiness_reports_an_unreachable_database(gw: GatewayHarness) -> None:
    await gw.gateway.engine.dispose()
    gw.db_path.unlink()
    gw.db_path.parent.chmod(0o500)  # the file cannot be recreated: the database is gone
    try:
        resp = await gw.http.get("/readyz")
    finally:
        gw.db_path.parent.chmod(0o700)
    if os.geteuid() == 0:  # root ignores directory permissions; SQLite recreates the file
        assert resp.status_code in (200, 503)
    else:
        assert resp.status_code == 503 and resp.json()["database"].startswith("unreachable")


def _server(tmp_path: Path, sim_url: str, keys: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "ORDERGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/ops.db",
        "ORDERGATE_TOKEN_KEYS": keys,
        "ORDERGATE_BASE_URL_KRAKEN": sim_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "ordergate.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _client(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "ORDERGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/ops.db"}
    out = subprocess.run(
        [sys.executable, "-m", "ordergate.cli", "clients", "create", "--name", "ops", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    created = json.loads(out.stdout)
    return {"X-Client-Id": created["clientId"], "X-Client-Secret": created["clientSecret"]}


def test_sigterm_finishes_in_flight_cancels_and_logs_are_json(tmp_path: Path) -> None:
    sim = KrakenSimulator()
    keys = generate_key_spec("ops")
    headers = _client(tmp_path)
    sealer = TokenSealer(parse_token_keys(keys))
    with serve_asgi(sim.app) as sim_url:
        port = _free_port()
        proc = _server(tmp_path, sim_url, keys, port)
        try:
            _wait_healthy(port, proc)
            key, secret = sim.new_credentials()
            token = sealer.seal(headers["X-Client-Id"], Credentials(IntegrationType.kraken, key, secret))
            txids = [sim.place_order(key) for _ in range(3)]
            for _ in txids:
                sim.inject(Fault("delay_before", "CancelOrder", api_key=key, seconds=0.7))

            async def storm() -> list[httpx.Response]:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=20) as http:
                    sends = [
                        http.post(
                            "/api/v1/transactions/cancel",
                            json={"authToken": token, "type": "kraken", "id": t, "isCryptocurrency": True},
                            headers={**headers, "X-Request-Id": f"graceful-{i}"},
                        )
                        for i, t in enumerate(txids)
                    ]
                    pending = asyncio.gather(*sends)
                    await asyncio.sleep(0.3)  # all three are at the venue now
                    proc.send_signal(signal.SIGTERM)
                    return await pending

            answers = asyncio.run(storm())
            proc.wait(30)
            _, stderr = proc.communicate()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert [a.status_code for a in answers] == [200, 200, 200]
    # uvicorn re-raises the SIGTERM it handled once shutdown is complete, so the exit status names the signal.
    assert proc.returncode in (0, -signal.SIGTERM)
    conn = sqlite3.connect(tmp_path / "ops.db")
    rows = {r for (r,) in conn.execute("select request_id from audit_events")}
    conn.close()
    assert {"graceful-0", "graceful-1", "graceful-2"} <= rows
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any("shutdown" in line["message"].lower() for line in lines)
    for secret_value in (secret, key, token, headers["X-Client-Secret"]):
        assert secret_value not in stderr
