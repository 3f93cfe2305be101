"""publicdotcom-py (Public's official SDK, independent of ordergate) against the simulator over real HTTP.

The SDK runs from its own venv as a subprocess (tests/support/oracle_venvs.py builds it). It exchanges the API secret
for an access token in its constructor, then lists accounts, places, reads and cancels orders with that token the
way it does against api.public.com; its error mapping (ValidationError, AuthenticationError, NotFoundError) must
recognise the simulator's answers.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ordergate.venues.public.simulator import PublicSimulator
from ordergate.venues.simkit import SimAccount
from tests.support.oracle_venvs import PUBLICDOTCOM_PY, RegistryUnreachable, publicdotcom_python
from tests.support.servers import serve_asgi

CLIENT = Path(__file__).with_name("public_sdk_client.py")


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return publicdotcom_python()
    except RegistryUnreachable as exc:
        pytest.skip(f"the package registry is unreachable, so publicdotcom-py {PUBLICDOTCOM_PY} is missing: {exc}")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[PublicSimulator, str]]:
    sim = PublicSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def run(python: Path, url: str, account: SimAccount, *steps: dict[str, Any], secret: str | None = None) -> dict:
    job = {"url": url, "secret": secret or account.secret, "account": account.api_key, "steps": list(steps)}
    done = subprocess.run(
        [str(python), str(CLIENT)], input=json.dumps(job), capture_output=True, text=True, timeout=120, check=True
    )
    output = json.loads(done.stdout)
    assert output["version"] == PUBLICDOTCOM_PY
    return output


def test_sdk_lists_places_reads_and_cancels(python: Path, served: tuple[PublicSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    order_id = str(uuid.uuid4())
    out = run(
        python,
        url,
        account,
        {"op": "accounts"},
        {"op": "place", "id": order_id, "quantity": "2", "price": "150.25"},
        {"op": "get", "id": order_id},
    )
    accounts, placed, fetched = out["results"]
    assert [a["accountId"] for a in accounts["ok"]["accounts"]] == [account.api_key]
    assert placed["ok"] == order_id and sim.status(order_id).value == "inProgress"
    order = fetched["ok"]
    assert (order["orderId"], order["status"], order["type"], order["side"]) == (order_id, "NEW", "LIMIT", "BUY")
    assert (order["quantity"], order["limitPrice"], order["instrument"]["symbol"]) == ("2", "150.25", "AAPL")
    # The constructor exchanged the secret once; every call after it carried the bearer token.
    assert [r[:2] for r in out["requests"]][:1] == [["GET", "/userapigateway/trading/account"]]
    assert all(bearer for _, _, bearer in out["requests"])
    assert sim.count(f"token:{account.api_key}", "token") == 1

    sim.fill(order_id, "0.5")
    out = run(python, url, account, {"op": "cancel", "id": order_id}, {"op": "get", "id": order_id})
    cancelled, after = out["results"]
    assert cancelled == {"ok": None}  # 200 with an empty body: the SDK returns None
    assert ["DELETE", f"/userapigateway/trading/{account.api_key}/order/{order_id}", True] in out["requests"]
    assert (after["ok"]["status"], after["ok"]["filledQuantity"]) == ("CANCELLED", "0.5")
    assert sim.status(order_id).value == "cancelled"


def test_sdk_error_mapping(python: Path, served: tuple[PublicSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    filled, _ = sim.place(account)
    sim.fill(filled)
    foreign, _ = sim.place(other)
    unknown = str(uuid.uuid4())
    out = run(
        python,
        url,
        account,
        {"op": "cancel", "id": filled},
        {"op": "get", "id": foreign},
        {"op": "cancel", "id": unknown},
        {"op": "get", "id": filled},
    )
    cancel_filled, get_foreign, cancel_unknown, get_filled = out["results"]
    assert (cancel_filled["error"], cancel_filled["status"]) == ("ValidationError", 400)
    assert (get_foreign["error"], cancel_unknown["error"]) == ("NotFoundError", "NotFoundError")
    assert get_filled["ok"]["status"] == "FILLED"
    assert sim.status(foreign).value == "inProgress"

    refused = run(python, url, account, {"op": "accounts"}, secret="not-" + account.secret)
    assert refused["fatal"] == "AuthenticationError"  # user_api_auth.personal.invalid_secret, from the constructor


def test_sdk_reads_the_portfolios_open_orders(python: Path, served: tuple[PublicSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    first, second, done = (sim.place(account, volume="2")[0] for _ in range(3))
    sim.fill(first, "0.5")
    sim.fill(done)
    out = run(python, url, account, {"op": "portfolio"})
    portfolio = out["results"][0]["ok"]  # the SDK's Portfolio model parsed the simulator's answer
    assert portfolio["accountId"] == account.api_key
    assert {o["orderId"]: o["status"] for o in portfolio["orders"]} == {first: "PARTIALLY_FILLED", second: "NEW"}
    assert ["GET", f"/userapigateway/trading/{account.api_key}/portfolio/v2", True] in out["requests"]
