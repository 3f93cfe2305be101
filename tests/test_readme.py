"""The README's curl walk-through, run literally against `ordergate serve --sandbox` in a fresh directory."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

README = Path(__file__).parents[1] / "README.md"
ORDERGATE = [sys.executable, "-m", "ordergate.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [*ORDERGATE, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_healthy(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def _walkthrough(marker: str = "walkthrough") -> str:
    match = re.search(rf"<!-- {marker} -->\n```bash\n(.*?)```", README.read_text(), re.S)
    assert match, f"README lost its {marker} block"
    return match.group(1)


def test_readme_walkthrough_cancels_a_sandbox_order(tmp_path: Path) -> None:
    port = _free_port()
    with running(["serve", "--sandbox", "--port", str(port)], tmp_path) as proc:
        _wait_healthy(port, proc)
        script = "set -euo pipefail\n" + _walkthrough().replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    placed, cancelled, after, again = lines
    assert placed["order"]["status"] == "open"
    assert cancelled["status"] == "ok" and cancelled["content"]["status"] == "cancelled"
    assert cancelled["content"]["orderId"] == placed["txid"]
    assert after["order"]["status"] == "canceled"
    assert again["errorType"] == "orderNotCancelable" and again["errorData"]["orderStatus"] == "cancelled"
    # The sandbox kept everything under the working directory, and audited both cancels.
    assert (tmp_path / ".ordergate" / "sandbox.db").exists()
    audit = subprocess.run(
        [*ORDERGATE, "audit", "tail", "--sandbox", "--json"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    rows = [json.loads(line) for line in audit.stdout.splitlines()]
    assert [(r["endpoint"], r["http_status"]) for r in rows][-2:] == [
        ("transactions/cancel", 200),
        ("transactions/cancel", 409),
    ]


def test_readme_robinhood_login_goes_through_the_verification_code(tmp_path: Path) -> None:
    """The README's Robinhood equities walk-through, literally: login → mfaRequired, the sandbox's demo code with the
    challengeId → an authToken, and an equities order cancelled with it."""
    port = _free_port()
    with running(["serve", "--sandbox", "--port", str(port)], tmp_path) as proc:
        _wait_healthy(port, proc)
        env = urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox/env", timeout=5).read().decode()  # noqa: S310
        script = "set -euo pipefail\n" + _walkthrough("walkthrough-robinhood").replace(
            "127.0.0.1:8080", f"127.0.0.1:{port}"
        )
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        banner = proc.stdout  # the code is shown at start, as the README says
    assert "export ROBINHOOD_CODE=123456" in env
    password = re.search(r"export ROBINHOOD_PASSWORD=(\S+)", env).group(1)  # type: ignore[union-attr]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    asked, connected, cancelled = lines
    assert asked["content"]["status"] == "mfaRequired" and asked["content"]["mfaType"] == "sms"
    assert connected["content"]["status"] == "succeeded" and len(connected["content"]["accountTokens"]) == 1
    assert password not in connected["content"]["accountTokens"][0]["accessToken"]
    assert cancelled["status"] == "ok" and cancelled["content"]["status"] == "inProgress"
    assert banner is not None and "ROBINHOOD_CODE" in banner.read()


def test_readme_etrade_three_legged_connect(tmp_path: Path) -> None:
    """The README's E*TRADE walk-through, literally: request token → challengeIssued with the authorize page, the
    page's verification code with the challengeId → one authToken per account, and an order cancelled with it."""
    port = _free_port()
    with running(["serve", "--sandbox", "--port", str(port)], tmp_path) as proc:
        _wait_healthy(port, proc)
        script = "set -euo pipefail\n" + _walkthrough("walkthrough-etrade").replace(
            "127.0.0.1:8080", f"127.0.0.1:{port}"
        )
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
    issued, connected, cancelled = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert issued["content"]["status"] == "challengeIssued"
    assert f"127.0.0.1:{port}/sandbox/" in issued["content"]["redirectLink"]
    assert connected["content"]["status"] == "succeeded" and len(connected["content"]["accountTokens"]) == 2
    assert cancelled["status"] == "ok" and cancelled["content"]["status"] == "inProgress"


def test_production_mode_refuses_to_start_without_token_keys(tmp_path: Path) -> None:
    out = subprocess.run(
        [*ORDERGATE, "serve", "--port", str(_free_port())], cwd=tmp_path, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 2
    assert "ORDERGATE_TOKEN_KEYS" in out.stderr


def test_production_mode_mounts_no_simulator_and_migrates(tmp_path: Path) -> None:
    port = _free_port()
    env = {"ORDERGATE_TOKEN_KEYS": "k1:" + "A" * 43 + "="}
    with running(["serve", "--port", str(port)], tmp_path, env) as proc:
        _wait_healthy(port, proc)
        for path in ("/sandbox/env", "/sandbox/kraken/_control/stats"):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2)  # noqa: S310
            assert err.value.code == 404
    assert (tmp_path / "ordergate.db").exists()
    assert not (tmp_path / ".ordergate" / "sandbox.db").exists()
    assert not (tmp_path / ".ordergate" / "sandbox.json").exists()


def test_cli_clients_tokens_and_audit(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ORDERGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db",
        "ORDERGATE_TOKEN_KEYS": "k1:" + "B" * 43 + "=",
    }

    def og(*args: str) -> str:
        return subprocess.run([*ORDERGATE, *args], env=env, capture_output=True, text=True, check=True).stdout

    created = json.loads(og("clients", "create", "--name", "ci", "--scopes", "read", "--json"))
    assert set(created) == {"clientId", "clientSecret"} and len(created["clientSecret"]) > 40
    listed = json.loads(og("clients", "list", "--json"))
    assert [c["clientId"] for c in listed] == [created["clientId"]] and listed[0]["scopes"] == ["read"]
    assert created["clientSecret"] not in json.dumps(listed)
    og("clients", "disable", created["clientId"])
    assert json.loads(og("clients", "list", "--json"))[0]["disabled"] is True
    sealed = json.loads(
        og(
            "tokens",
            "seal",
            "--client-id",
            created["clientId"],
            "--type",
            "kraken",
            "--username",
            "KEY",
            "--password",
            "c2VjcmV0",
            "--json",
        )
    )
    assert sealed["authToken"].startswith("ogt1.k1.") and "KEY" not in sealed["authToken"]
    assert og("audit", "tail", "--json") == ""
    assert re.fullmatch(r"k7:[A-Za-z0-9+/]{43}=\n", og("tokens", "new-key", "--kid", "k7"))


def test_sandbox_serves_every_simulated_venue(tmp_path: Path) -> None:
    """`make run` mounts every venue's simulator: each type cancels a demo order through the gateway."""
    from ordergate.sandbox import other_families
    from ordergate.venues.catalog import SPECS

    types = [spec.type for spec in SPECS.values() if spec.family in other_families()]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with running(["serve", "--sandbox", "--port", str(port)], tmp_path) as proc:
        _wait_healthy(port, proc)
        with httpx.Client(base_url=base, timeout=20) as http:
            demo = http.get("/sandbox").json()
            headers = {"X-Client-Id": demo["clientId"], "X-Client-Secret": demo["clientSecret"]}
            env = http.get("/sandbox/env").text
            for spec in SPECS.values():
                if spec.cancel_supported:  # Kraken's two types too
                    assert f"AUTH_TOKEN_{spec.type.env_name}=" in env, spec.type
            answers = {}
            for integration in types:
                assert f"AUTH_TOKEN_{integration.env_name}=" in env
                placed = http.post("/sandbox/orders", params={"type": integration.value}).json()
                body = {
                    "authToken": demo["authTokens"][integration.value],
                    "type": integration.value,
                    "id": placed["orderId"],
                    "isCryptocurrency": True,
                    **placed["cancelFields"],
                }
                answers[integration.value] = http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert len(types) >= 14
    assert {t: a.status_code for t, a in answers.items()} == {t.value: 200 for t in types}
    assert all(a.json()["content"]["status"] in ("cancelled", "inProgress") for a in answers.values())
