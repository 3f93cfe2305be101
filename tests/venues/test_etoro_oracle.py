"""etoropy (0.1.7, independent of ordergate) against the simulator over real HTTP.

etoropy pulls pydantic-settings and websockets with it, so it runs from its own venv as a subprocess
(tests/support/oracle_venvs.py builds it). It sends its own x-api-key / x-user-key / x-request-id headers, places
orders through eToro's v1 execution paths, reads them back through the portfolio and the order-info endpoint (its
pydantic models validate every body), and cancels them through the v1 paths; ordergate's adapter cancels through v2.
When that works, the simulator speaks eToro's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.etoro.adapter import EtoroAdapter
from ordergate.venues.etoro.simulator import EtoroSimulator
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.oracle_venvs import ETOROPY, RegistryUnreachable, etoropy_python
from tests.support.servers import serve_asgi

CLIENT = Path(__file__).with_name("etoro_etoropy_client.py")


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return etoropy_python()
    except RegistryUnreachable as exc:
        pytest.skip(f"the package registry is unreachable, so etoropy {ETOROPY} (eToro's oracle) is missing: {exc}")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EtoroSimulator, str]]:
    sim = EtoroSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def adapter(served: tuple[EtoroSimulator, str]) -> AsyncIterator[EtoroAdapter]:
    transport = Transport(timeout_s=5.0)
    await transport.start()
    yield EtoroAdapter(SPECS[IntegrationType.etoro], served[1], transport)
    await transport.close()


def run(python: Path, url: str, account: SimAccount, *steps: dict[str, Any], mode: str = "demo") -> list[dict]:
    job = {"url": url, "apiKey": account.api_key, "userKey": account.secret, "mode": mode, "steps": list(steps)}
    done = subprocess.run(
        [str(python), str(CLIENT)], input=json.dumps(job), capture_output=True, text=True, timeout=120, check=True
    )
    output = json.loads(done.stdout)
    assert output["version"] == ETOROPY
    return output["results"]


def _creds(account: SimAccount) -> Credentials:
    return Credentials(IntegrationType.etoro, account.api_key, account.secret, account.passphrase, account.extras)


def test_etoropy_places_reads_and_cancels_a_limit_order(python: Path, served: tuple[EtoroSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    placed, portfolio = run(
        python, url, account, {"op": "open_limit", "instrument": 1001, "units": 2, "rate": 150.5}, {"op": "portfolio"}
    )
    assert set(placed["ok"]) == {"token"}
    (pending,) = portfolio["ok"]["clientPortfolio"]["orders"]
    order_id = pending["orderID"]
    assert (pending["instrumentID"], pending["units"], pending["rate"]) == (1001, 2.0, 150.5)
    assert sim.status(str(order_id)).value == "inProgress"

    sim.fill(str(order_id), "0.5")
    info, cancelled, again, after, portfolio = run(
        python,
        url,
        account,
        {"op": "order", "id": order_id},
        {"op": "cancel_limit", "id": order_id},
        {"op": "cancel_limit", "id": order_id},  # eToro: idempotent for a cancelled order
        {"op": "order", "id": order_id},
        {"op": "portfolio"},
    )
    assert (info["ok"]["statusID"], info["ok"]["units"], info["ok"]["positions"][0]["units"]) == (4, 2.0, 0.5)
    assert set(cancelled["ok"]) == {"token"} and set(again["ok"]) == {"token"}
    assert after["ok"]["statusID"] == 2 and sim.status(str(order_id)).value == "cancelled"
    assert portfolio["ok"]["clientPortfolio"]["orders"] == []
    assert [p["orderID"] for p in portfolio["ok"]["clientPortfolio"]["positions"]] == [order_id]


def test_etoropy_cancels_a_pending_market_open_order(python: Path, served: tuple[EtoroSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    (placed,) = run(python, url, account, {"op": "open_market", "instrument": 1002, "amount": 500})
    order_id = placed["ok"]["orderForOpen"]["orderID"]
    assert placed["ok"]["orderForOpen"]["statusID"] == 0
    wrong_kind, cancelled, unknown = run(
        python,
        url,
        account,
        {"op": "cancel_limit", "id": order_id},  # v1 needs the order's own kind: a market-open order is no limit order
        {"op": "cancel_market_open", "id": order_id},
        {"op": "order", "id": order_id + 1_000_000_000},
    )
    assert (wrong_kind["error"], wrong_kind["status"]) == ("EToroApiError", 404)
    assert set(cancelled["ok"]) == {"token"} and sim.status(str(order_id)).value == "cancelled"
    assert (unknown["error"], unknown["status"]) == ("EToroApiError", 404)


def test_etoropy_sees_eToros_auth_and_environment_refusals(python: Path, served: tuple[EtoroSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    reader = sim.new_account(can_trade=False)
    (wrong_key,) = run(python, url, SimAccount(account.api_key, "not-the-user-key"), {"op": "portfolio"})
    (wrong_env,) = run(python, url, account, {"op": "portfolio"}, mode="real")
    read_ok, write_refused = run(
        python, url, reader, {"op": "portfolio"}, {"op": "open_limit", "instrument": 1, "units": 1, "rate": 1}
    )
    assert wrong_key["error"] == wrong_env["error"] == "EToroAuthError"
    assert "clientPortfolio" in read_ok["ok"] and write_refused["error"] == "EToroAuthError"


async def test_ordergate_cancels_through_v2_what_etoropy_placed(
    python: Path, served: tuple[EtoroSimulator, str], adapter: EtoroAdapter
) -> None:
    sim, url = served
    account = sim.new_account()
    _, portfolio = run(
        python, url, account, {"op": "open_limit", "instrument": 1001, "units": 1, "rate": 99}, {"op": "portfolio"}
    )
    order_id = str(portfolio["ok"]["clientPortfolio"]["orders"][0]["orderID"])
    ack = await adapter.cancel(_creds(account), OrderRef(order_id, False))
    assert (ack.order_id, ack.status.value) == (order_id, "cancelled")
    assert (sim.count(account.api_key, "info"), sim.count(account.api_key, "cancel")) == (2, 1)  # read, cancel, read
    (after,) = run(python, url, account, {"op": "order", "id": int(order_id)})
    assert after["ok"]["statusID"] == 2
