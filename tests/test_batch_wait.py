"""`waitSeconds` on batch cancel: at every venue whose conformance class says it only acknowledges, an `inProgress`
becomes `cancelled` once the venue finishes the cancel; a fill meanwhile is 409 `success`; time up is `inProgress`."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ordergate.domain.orders import Credentials
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi
from tests.venues.kit import VenueConformance

BATCH = "/api/v1/transactions/cancel/batch"


def _acknowledging() -> list[type[VenueConformance]]:
    classes = []
    for path in sorted((Path(__file__).parent / "venues").glob("test_*_conformance.py")):
        module = importlib.import_module(f"tests.venues.{path.stem}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, VenueConformance)
                and value is not VenueConformance
                and value.__module__ == module.__name__
                and value.acknowledges_only
            ):
                classes.append(value)
    return classes


ACKNOWLEDGING = _acknowledging()


@pytest.fixture
async def venue(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Any, SimulatorBase, GatewayHarness]]:
    case: type[VenueConformance] = request.param
    sim = case.make_simulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={case.integration: url}) as gw:  # type: ignore[arg-type]
            yield case, sim, gw


async def _batch(gw: GatewayHarness, case: Any, account: SimAccount, order_id: str, extra: dict, wait: float) -> dict:
    headers = await gw.client()
    creds = Credentials(case.integration, account.api_key, account.secret, account.passphrase, dict(account.extras))
    order = {
        "authToken": gw.gateway.sealer.seal(headers["X-Client-Id"], creds),
        "type": case.integration.value,
        "id": order_id,
        "isCryptocurrency": True,
        **extra,
    }
    resp = await gw.http.post(BATCH, json={"orders": [order], "waitSeconds": wait}, headers=headers)
    assert resp.status_code == 200, resp.text
    (item,) = resp.json()["content"]["results"]
    return item


def test_the_acknowledging_venues_are_all_here() -> None:
    families = {SPECS[case.integration].family for case in ACKNOWLEDGING}
    assert len(families) >= 13 and {"bybit", "okx", "coinbase", "kucoin", "huobi", "crypto_com"} <= families


@pytest.mark.parametrize("venue", ACKNOWLEDGING, indirect=True, ids=lambda c: c.integration.value)
async def test_wait_turns_an_acknowledgement_into_cancelled(venue: tuple[Any, SimulatorBase, GatewayHarness]) -> None:
    case, sim, gw = venue
    account = sim.new_account()
    order_id, extra = sim.place(account)
    # The venue acknowledges now and finishes the cancel a little later (simulators without a `pending` mode finish
    # at once; their acknowledgement is still `inProgress` until a lookup shows the order cancelled).
    sim.inject(Fault("pending", case.cancel_op, api_key=account.api_key, seconds=0.3))
    item = await _batch(gw, case, account, order_id, extra, wait=20)
    assert (item["httpStatus"], item["content"]) == (200, {"orderId": order_id, "status": "cancelled"}), item
    assert item["message"] == "Order cancelled."
    assert sim.status(order_id).value == "cancelled"
    assert _lookups(sim, case) >= 1


BYBIT = [c for c in ACKNOWLEDGING if c.integration.value == "bybit"]


@pytest.mark.parametrize("venue", BYBIT, indirect=True, ids=["bybit"])
async def test_a_fill_while_waiting_is_409_success(venue: tuple[Any, SimulatorBase, GatewayHarness]) -> None:
    case, sim, gw = venue
    account = sim.new_account()
    order_id, extra = sim.place(account)
    sim.inject(Fault("pending", case.cancel_op, api_key=account.api_key, seconds=60))
    waiting = asyncio.create_task(_batch(gw, case, account, order_id, extra, wait=20))
    for _ in range(1000):  # until the venue has acknowledged (the simulator runs in another thread)
        if sim.count(account.api_key, case.cancel_op):
            break
        await asyncio.sleep(0.01)
    sim.fill(order_id)
    item = await waiting
    assert (item["httpStatus"], item["errorType"], item["errorData"]["orderStatus"]) == (
        409,
        "orderNotCancelable",
        "success",
    )


@pytest.mark.parametrize("venue", BYBIT, indirect=True, ids=["bybit"])
async def test_time_up_answers_the_acknowledgement(venue: tuple[Any, SimulatorBase, GatewayHarness]) -> None:
    case, sim, gw = venue
    account = sim.new_account()
    order_id, extra = sim.place(account)
    sim.inject(Fault("pending", case.cancel_op, api_key=account.api_key, seconds=60))
    item = await _batch(gw, case, account, order_id, extra, wait=0.5)
    assert (item["httpStatus"], item["content"]) == (200, {"orderId": order_id, "status": "inProgress"})
    assert _lookups(sim, case) >= 1 and sim.status(order_id).value == "inProgress"


def _lookups(sim: Any, case: Any) -> int:
    """Lookups of any key: Interactive Brokers' status endpoint names no account, so its simulator counts it under
    the gateway's login."""
    return sum(n for (_, op), n in sim.requests.items() if op == case.lookup_op)
