"""ccxt's `coinlist` (4.4.88, independent of ordergate) against the simulator over real HTTP.

ccxt dropped CoinList after 4.4.88, so this client runs from its own venv as a subprocess
(tests/support/oracle_venvs.py builds it). It signs, places, fetches and cancels the way it did against
trade-api.coinlist.co; when that works and its error mapping recognises the simulator's message codes, the simulator
speaks CoinList's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ordergate.venues.coinlist.simulator import CoinlistSimulator
from ordergate.venues.simkit import SimAccount
from tests.support.oracle_venvs import CCXT_COINLIST, RegistryUnreachable, ccxt_coinlist_python
from tests.support.servers import serve_asgi

CLIENT = Path(__file__).with_name("coinlist_ccxt_client.py")


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return ccxt_coinlist_python()
    except RegistryUnreachable as exc:
        pytest.skip(
            f"the package registry is unreachable, so ccxt {CCXT_COINLIST} (CoinList's oracle) is missing: {exc}"
        )


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[CoinlistSimulator, str]]:
    sim = CoinlistSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def run(python: Path, url: str, account: SimAccount, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    job = {"url": url, "apiKey": account.api_key, "secret": account.secret, "steps": list(steps)}
    done = subprocess.run(
        [str(python), str(CLIENT)], input=json.dumps(job), capture_output=True, text=True, timeout=120, check=True
    )
    output = json.loads(done.stdout)
    assert output["version"] == CCXT_COINLIST
    return output["results"]


def test_ccxt_places_fetches_and_cancels(python: Path, served: tuple[CoinlistSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    markets, placed = run(
        python,
        url,
        account,
        {"op": "load_markets"},
        {"op": "create", "symbol": "BTC/USDT", "side": "buy", "amount": 0.5, "price": 25000},
    )
    assert "BTC/USDT" in markets["ok"]
    order_id = placed["ok"]["id"]
    assert uuid.UUID(order_id) and sim.status(order_id).value == "inProgress"

    (fetched,) = run(python, url, account, {"op": "fetch", "id": order_id})
    order = fetched["ok"]
    assert (order["status"], order["amount"], order["price"], order["symbol"], order["side"]) == (
        "open",
        0.5,
        25000.0,
        "BTC/USDT",
        "buy",
    )

    sim.fill(order_id, "0.2")
    cancelled, after, again = run(
        python, url, account, {"op": "cancel", "id": order_id}, {"op": "fetch", "id": order_id},
        {"op": "cancel", "id": order_id},
    )  # fmt: skip
    # The ack names the order; ccxt keeps the "request received" message as info.
    assert cancelled["ok"]["id"] == order_id
    assert cancelled["ok"]["info"]["message"] == "Cancel order request received."
    assert (after["ok"]["status"], after["ok"]["filled"]) == ("canceled", 0.2)
    # ORDER_REJECT_BAD_STATUS is ccxt's InvalidOrder.
    assert again["error"] == "InvalidOrder" and "ORDER_REJECT_BAD_STATUS" in again["message"]
    assert sim.status(order_id).value == "cancelled"


def test_filled_unknown_and_other_traders_orders(python: Path, served: tuple[CoinlistSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    filled, _ = sim.place(account)
    sim.fill(filled)
    foreign, _ = sim.place(other)
    unknown = str(uuid.uuid4())
    fetched, cancel_filled, cancel_foreign, fetch_unknown, cancel_unknown, not_a_guid = run(
        python,
        url,
        account,
        {"op": "fetch", "id": filled},
        {"op": "cancel", "id": filled},
        {"op": "cancel", "id": foreign},
        {"op": "fetch", "id": unknown},
        {"op": "cancel", "id": unknown},
        {"op": "cancel", "id": "12345"},
    )
    assert (fetched["ok"]["status"], fetched["ok"]["filled"]) == ("closed", 1.0)
    assert cancel_filled["error"] == "InvalidOrder"
    assert cancel_foreign["error"] == "OrderNotFound" and "ORDER_REJECT_NOT_FOUND" in cancel_foreign["message"]
    # A GET of an order the trader does not have: 404 with an empty body, which ccxt turns into OrderNotFound.
    assert fetch_unknown["error"] == "OrderNotFound"
    assert cancel_unknown["error"] == "OrderNotFound"
    assert not_a_guid["error"] == "BadRequest" and "must be a valid GUID" in not_a_guid["message"]
    assert sim.status(foreign).value == "inProgress"


def test_a_wrong_secret_is_ccxts_authentication_error(python: Path, served: tuple[CoinlistSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id, _ = sim.place(account)
    wrong = SimAccount(account.api_key, CoinlistSimulator().new_account().secret)
    (answer,) = run(python, url, wrong, {"op": "cancel", "id": order_id})
    assert answer["error"] == "AuthenticationError" and "AUTH_SIG_INVALID" in answer["message"]
    assert sim.status(order_id).value == "inProgress"


def test_ccxt_lists_orders_by_status_time_and_count(python: Path, served: tuple[CoinlistSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    ids = [sim.place(account)[0] for _ in range(3)]
    for age, order_id in zip((300, 200, 100), ids, strict=True):
        sim.set_created(order_id, time.time() - age)
    sim.fill(ids[0])
    # ccxt's default `status` is the repr of a Python list, which no server parses: one status at a time.
    accepted, done, recent, bounded = run(
        python, url, account,
        {"op": "list", "params": {"status": "accepted"}},
        {"op": "list", "symbol": "BTC/USDT", "params": {"status": "done"}},
        {"op": "list", "since": int((time.time() - 250) * 1000), "params": {"status": "accepted"}},
        {"op": "list", "limit": 1, "params": {"status": "accepted", "until": int((time.time() - 150) * 1000)}},
    )  # fmt: skip
    assert {o["id"] for o in accepted["ok"]} == set(ids[1:]) and {o["status"] for o in accepted["ok"]} == {"open"}
    assert [(o["id"], o["status"]) for o in done["ok"]] == [(ids[0], "closed")]
    assert {o["id"] for o in recent["ok"]} == set(ids[1:])
    assert [o["id"] for o in bounded["ok"]] == [ids[1]]  # end_time bounds, newest first, `count` cuts
