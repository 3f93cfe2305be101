"""ibind (Voyz/ibind 0.2.2, independent of ordergate) against the simulator over real HTTP.

ibind's pins clash with the test venv (urllib3), so it runs from its own venv as a subprocess
(tests/support/oracle_venvs.py builds it). It checks the session, lists the accounts, places a limit order (its
question/answer loop included), reads the order's status and cancels it the way it does against a CP Gateway; when
that works, the simulator speaks the Client Portal protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ordergate.venues.ibkr.simulator import IbkrSimulator
from tests.support.oracle_venvs import IBIND, RegistryUnreachable, ibind_python
from tests.support.servers import serve_asgi

CLIENT = Path(__file__).with_name("ibkr_ibind_client.py")


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return ibind_python()
    except RegistryUnreachable as exc:
        pytest.skip(
            f"the package registry is unreachable, so ibind {IBIND} (Interactive Brokers' oracle) is missing: {exc}"
        )


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[IbkrSimulator, str]]:
    sim = IbkrSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def run(python: Path, url: str, account: str, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    job = {"url": url, "account": account, "steps": list(steps)}
    done = subprocess.run(
        [str(python), str(CLIENT)], input=json.dumps(job), capture_output=True, text=True, timeout=120, check=True
    )
    output = json.loads(done.stdout)
    assert output["version"] == IBIND
    return output["results"]


def test_ibind_checks_the_session_places_reads_and_cancels(python: Path, served: tuple[IbkrSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account().api_key
    auth, accounts, tickle, placed = run(
        python, url, account, {"op": "auth"}, {"op": "accounts"}, {"op": "tickle"},
        {"op": "place", "side": "BUY", "quantity": 2, "price": 101.5},
    )  # fmt: skip
    assert auth["ok"]["authenticated"] is True
    assert account in accounts["ok"]["accounts"] and accounts["ok"]["isPaper"] is True
    assert tickle["ok"]["iserver"]["authStatus"]["authenticated"] is True
    order_id = str(placed["ok"]["order_id"])
    assert order_id.isdigit() and sim.status(order_id).value == "inProgress"

    sim.fill(order_id, "0.5")
    status, cancelled, after, again = run(
        python, url, account, {"op": "status", "id": order_id}, {"op": "cancel", "id": order_id},
        {"op": "status", "id": order_id}, {"op": "cancel", "id": order_id},
    )  # fmt: skip
    assert (status["ok"]["order_status"], status["ok"]["cum_fill"], status["ok"]["account"]) == (
        "Submitted",
        "0.5",
        account,
    )
    assert cancelled["ok"]["msg"] == "Request was submitted" and str(cancelled["ok"]["order_id"]) == order_id
    assert (after["ok"]["order_status"], after["ok"]["cum_fill"]) == ("Cancelled", "0.5")
    assert again["error"] == "ExternalBrokerError" and again["status"] == 400
    assert sim.status(order_id).value == "cancelled"


def test_unknown_foreign_and_unheld_accounts(python: Path, served: tuple[IbkrSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account().api_key
    foreign, _ = sim.place(sim.new_account())
    unknown = str(int(foreign) + 7919)
    cancel_foreign, status_unknown = run(
        python, url, account, {"op": "cancel", "id": foreign}, {"op": "status", "id": unknown}
    )
    assert cancel_foreign["status"] == 400 and "doesn't exist" in cancel_foreign["message"]
    assert status_unknown["status"] == 400 and "doesn't exist" in status_unknown["message"]
    (unheld,) = run(python, url, "DU0000001", {"op": "cancel", "id": foreign})
    assert unheld["status"] == 401
    assert sim.status(foreign).value == "inProgress"


def test_an_expired_session_is_what_ibind_reports(python: Path) -> None:
    sim = IbkrSimulator()
    holder = sim.new_account()
    account = holder.api_key
    order_id, _ = sim.place(holder)
    with serve_asgi(sim.app) as url:
        sim.drop_bridge()
        (no_bridge,) = run(python, url, account, {"op": "cancel", "id": order_id})
        sim.expire_session()
        auth, gone = run(python, url, account, {"op": "auth"}, {"op": "cancel", "id": order_id})
    # ibind's own wording for the first: it recognises IBKR's "no bridge".
    assert no_bridge["status"] is None and "initialize_brokerage_session" in no_bridge["message"]
    assert auth["ok"]["authenticated"] is False
    assert gone["status"] == 401 and "not authenticated" in gone["message"]
    assert sim.status(order_id).value == "inProgress"
