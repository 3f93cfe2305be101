"""robin_stocks 3.4.0 (PyPI; independent of ordergate) against the simulator's equities half over real HTTP: it
logs in with its own password grant and device token, goes through Robinhood's current verification workflow
(pathfinder user_machine, the sheriff challenge, the sms code, the workflow approval) and the repeated token
request, reads the account, looks orders up and cancels them. It runs as a subprocess
(robinhood_robin_stocks_client.py): its URLs and session are module globals, redirected there to the simulator.
When this works, the simulator speaks the protocol robin_stocks speaks to Robinhood, not ordergate's idea of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from tests.support.servers import serve_asgi

CLIENT = Path(__file__).with_name("robinhood_robin_stocks_client.py")
ROBIN_STOCKS = "3.4.0"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RobinhoodSimulator, str]]:
    sim = RobinhoodSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def run(url: str, home: Path, username: str, password: str, code: str, *steps: dict[str, Any]) -> dict[str, Any]:
    job = {"url": url, "username": username, "password": password, "code": code, "home": str(home),
           "steps": list(steps)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(CLIENT)], input=json.dumps(job), capture_output=True, text=True, timeout=120, check=True
    )
    output = json.loads(done.stdout)
    assert output["version"] == ROBIN_STOCKS
    return output


def test_robin_stocks_logs_in_through_the_verification_workflow_and_cancels(
    served: tuple[RobinhoodSimulator, str], tmp_path: Path
) -> None:
    sim, url = served
    login = sim.equities.add_login("oracle@example.com", "s3cret-pass", verification="workflow", code="246810")
    resting = sim.equities.place_for(login.accounts[0], quantity="5", price="10")
    filled = sim.equities.place_for(login.accounts[0])
    sim.fill(filled)
    out = run(url, tmp_path, login.username, login.password, "246810",
              {"op": "account"}, {"op": "order", "id": resting}, {"op": "cancel", "id": resting},
              {"op": "order", "id": resting}, {"op": "cancel", "id": filled})  # fmt: skip
    assert out["login"]["token_type"] == "Bearer" and out["login"]["access_token"] in sim.equities.sessions
    assert out["prompts"] == ["Enter the sms verification code sent to your device: "]
    (challenge,) = [c for c in sim.equities.challenges.values() if c.username == login.username]
    assert challenge.status == "validated"
    assert sim.count(login.username, "token") == 2  # refused pending verification, then granted to the device
    assert len(login.devices) == 1  # the device robin_stocks generated is now approved
    profile, before, cancelled, after, refused = out["results"]
    assert profile["account_number"] == login.accounts[0]
    assert before["state"] == "confirmed" and before["cancel"].endswith(f"/orders/{resting}/cancel/")
    assert cancelled == {}
    assert after["state"] == "cancelled" and after["cancel"] is None and sim.status(resting).value == "cancelled"
    assert refused == {"detail": "Order cannot be cancelled."} and sim.status(filled).value == "success"
    assert out["session"]["X-Robinhood-API-Version"] == "1.431.4"


def test_robin_stocks_reuses_its_stored_session_and_fails_on_a_wrong_password(
    served: tuple[RobinhoodSimulator, str], tmp_path: Path
) -> None:
    sim, url = served
    login = sim.equities.add_login("again@example.com", "pass-again", verification="workflow", code="135790")
    first = run(url, tmp_path, login.username, login.password, "135790")
    assert first["login"]["access_token"] in sim.equities.sessions
    # robin_stocks keeps its tokens in a pickle and checks them with GET /positions/ (not simulated: 404), then logs
    # in again from the same device, which Robinhood now knows: no code this time.
    second = run(url, tmp_path, login.username, login.password, "000000")
    assert second["prompts"] == [] and second["login"]["access_token"] in sim.equities.sessions
    other = tmp_path / "other"
    other.mkdir()
    wrong = run(url, other, login.username, "wrong-pass", "000000")
    assert wrong["login"] is None and sim.equities.sessions  # robin_stocks prints the failure and answers None
