"""Issue 11: `ordergate audit tail` never prints request fields raw (ESC, CR, LF would drive the terminal)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from ordergate.store.clients import Scope
from tests.conftest import GatewayHarness

DETAILS = "/api/v1/transactions/details"


async def test_audit_tail_escapes_terminal_controls(gw: GatewayHarness, tmp_path: Path) -> None:
    headers = {**await gw.client(frozenset({Scope.read})), "Content-Type": "application/json"}
    hostile = "\x1b]0;owned\x07\x1b[2J\rOK\nfake line\u202e\x9b"
    body = {"authToken": "t", "type": "kraken\x1b[31m", "id": hostile, "isCryptocurrency": True}
    resp = await gw.http.post(DETAILS, content=json.dumps(body).encode(), headers=headers)
    assert resp.status_code == 400
    assert (await gw.gateway.audit.tail(1))[0].order_id == hostile  # stored as received
    env = {
        **os.environ,
        "ORDERGATE_DATABASE_URL": f"sqlite+aiosqlite:///{gw.db_path}",
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ordergate.cli", "audit", "tail", "--n", "1"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    assert out.count("\n") == 1  # one row, one line
    for control in ("\x1b", "\r", "\x07", "\u202e", "\x9b"):
        assert control not in out
    assert "\\x1b]0;owned\\x07\\x1b[2J\\rOK\\nfake line\\u202e\\x9b" in out and "kraken\\x1b[31m" in out
