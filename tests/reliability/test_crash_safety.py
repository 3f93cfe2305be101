"""kill -9 in the middle of a cancel storm: every cancel the client saw answered has its audit row, and the
database opens cleanly afterwards (SQLite WAL; rows are committed before the response leaves)."""

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
from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.reliability import report
from tests.support.servers import serve_asgi
from tests.test_readme import _free_port, _wait_healthy

STORM = 400


def _env(tmp_path: Path, sim_url: str, keys: str) -> dict[str, str]:
    return {
        **os.environ,
        "ORDERGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/crash.db",
        "ORDERGATE_TOKEN_KEYS": keys,
        "ORDERGATE_BASE_URL_KRAKEN": sim_url,
        "ORDERGATE_CLIENT_RATE_PER_S": "0",
    }


def _start(env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ordergate.cli", "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _storm(port: int, headers: dict[str, str], bodies: list[dict], proc: subprocess.Popen) -> dict[str, int]:
    answered: dict[str, int] = {}
    enough = asyncio.Event()
    all_sent = asyncio.Event()  # never wait for a kill threshold that cannot be reached
    done: list[int] = []
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10, limits=limits) as http:

        async def one(i: int, body: dict) -> None:
            rid = f"storm-{i:05d}"
            try:
                resp = await http.post(
                    "/api/v1/transactions/cancel", json=body, headers={**headers, "X-Request-Id": rid}
                )
            except httpx.HTTPError:
                return  # cut off by the kill: not answered, so nothing is promised
            finally:
                done.append(i)
                if len(done) == len(bodies) and all_sent.is_set() is False:
                    all_sent.set()
            answered[rid] = resp.status_code
            if len(answered) >= STORM // 4:
                enough.set()

        async def killer() -> None:
            waiters = [asyncio.ensure_future(enough.wait()), asyncio.ensure_future(all_sent.wait())]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            proc.send_signal(signal.SIGKILL)

        await asyncio.gather(killer(), *(one(i, b) for i, b in enumerate(bodies)))
    return answered


def test_kill_9_mid_storm_loses_no_answered_audit_row(tmp_path: Path) -> None:
    sim = KrakenSimulator()
    keys = generate_key_spec("crash")
    sealer = TokenSealer(parse_token_keys(keys))
    with serve_asgi(sim.app) as sim_url:
        env = _env(tmp_path, sim_url, keys)
        created = subprocess.run(
            [sys.executable, "-m", "ordergate.cli", "clients", "create", "--name", "storm", "--json"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        client = json.loads(created.stdout)
        headers = {"X-Client-Id": client["clientId"], "X-Client-Secret": client["clientSecret"]}
        bodies = []
        for _ in range(STORM // 10):
            key, secret = sim.new_credentials()
            token = sealer.seal(client["clientId"], Credentials(IntegrationType.kraken, key, secret))
            for _ in range(10):
                bodies.append(
                    {"authToken": token, "type": "kraken", "id": sim.place_order(key), "isCryptocurrency": True}
                )
        port = _free_port()
        proc = _start(env, port, tmp_path)
        try:
            _wait_healthy(port, proc)
            answered = asyncio.run(_storm(port, headers, bodies, proc))
            proc.wait(10)
            assert proc.returncode == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()

        # The database opens cleanly, and a restarted server serves again.
        conn = sqlite3.connect(tmp_path / "crash.db")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = {rid for (rid,) in conn.execute("select request_id from audit_events")}
        conn.close()
        restarted = _start(env, port, tmp_path)
        try:
            _wait_healthy(port, restarted)
        finally:
            restarted.terminate()
            restarted.wait(15)
    missing = sorted(set(answered) - rows)
    report.record(
        "crash safety (kill -9)",
        cancels_sent=len(bodies),
        answered_before_kill=len(answered),
        audit_rows_after_restart=len(rows),
        answered_without_audit_row=len(missing),
    )
    assert len(answered) >= STORM // 4
    assert missing == []
