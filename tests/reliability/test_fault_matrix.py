"""The fault matrix: every venue with an adapter × every fault, answers checked against the simulator's truth.

Invariants, for every scenario:
- no false `ok`: 200 only if the order is cancelled at the venue (or, for `inProgress`, a cancel is pending);
- no false `notFound`: every order in the matrix exists, so 404 is always a violation;
- `orderNotCancelable` only for an order that is final, with its real status;
- `institutionUnavailable` (502) claims the cancel did not take effect: the order must not be cancelled.
Counts go to RELIABILITY.md (`make reliability`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ordergate.domain.orders import Credentials
from ordergate.venues.simkit import Fault, SimulatorBase
from tests.conftest import CANCEL, GatewayHarness, gateway_harness
from tests.reliability import report
from tests.reliability.venues import kit_venues
from tests.support.servers import serve_asgi
from tests.venues.kit import VenueConformance

TIMEOUT_S = 0.4
FAULTS: dict[str, dict[str, Any]] = {
    "latency within timeout": {"kind": "delay_before", "seconds": 0.05},
    "read timeout after cancel took effect": {"kind": "delay_after", "seconds": TIMEOUT_S * 3},
    "500 before processing": {"kind": "http_error", "status": 500},
    "502 before processing": {"kind": "http_error", "status": 502},
    "503 before processing": {"kind": "http_error", "status": 503},
    "502 after processing": {"kind": "http_error", "status": 502, "process": True},
    "reset before processing": {"kind": "reset"},
    "reset after processing": {"kind": "reset", "process": True},
    "garbage body before processing": {"kind": "garbage"},
    "truncated body after processing": {"kind": "garbage", "process": True},
    "429 rate limit": {"kind": "venue_error", "error": "rate_limit"},
    "ban / lockout": {"kind": "venue_error", "error": "ban"},
    "venue unavailable": {"kind": "venue_error", "error": "unavailable"},
}
_FINAL = {"success", "cancelled", "rejected", "expired"}


@dataclass
class Venue:
    case: type[VenueConformance]
    sim: SimulatorBase
    gw: GatewayHarness
    headers: dict[str, str]

    async def cancel(self, account: Any, order_id: str, extra: dict[str, Any]) -> httpx.Response:
        creds = Credentials(self.case.integration, account.api_key, account.secret, account.passphrase, account.extras)
        token = self.gw.gateway.sealer.seal(self.headers["X-Client-Id"], creds)
        body = {"authToken": token, "type": self.case.integration.value, "id": order_id, "isCryptocurrency": True}
        return await self.gw.http.post(CANCEL, json={**body, **extra}, headers=self.headers)


def violations(venue: Venue, order_id: str, resp: httpx.Response) -> list[str]:
    truth = venue.sim.status(order_id).value
    body = resp.json()
    name = venue.case.integration.value
    found: list[str] = []
    if resp.status_code == 200:
        claimed = body["content"]["status"]
        if claimed == "cancelled" and truth != "cancelled":
            found.append(f"{name}: false ok (venue says {truth})")
        if claimed == "inProgress" and truth not in ("cancelled", "inProgress", "partiallyFilled"):
            found.append(f"{name}: ok/inProgress for an order that is {truth}")
    elif resp.status_code == 404:
        found.append(f"{name}: false notFound (venue says {truth})")
    elif body["errorType"] == "orderNotCancelable":
        if truth not in _FINAL or body["errorData"]["orderStatus"] != truth:
            found.append(f"{name}: 409 {body['errorData']['orderStatus']} but venue says {truth}")
    elif resp.status_code == 502 and truth == "cancelled":
        found.append(f"{name}: 502 'did not take effect' but the order is cancelled")
    return found


@pytest.fixture(scope="module")
def simulators() -> Any:
    cases = kit_venues()
    with _serving([c.make_simulator() for c in cases]) as urls:
        yield list(zip(cases, urls, strict=True))


class _serving:
    def __init__(self, sims: list[SimulatorBase]) -> None:
        self.sims, self._managers = sims, []

    def __enter__(self) -> list[tuple[SimulatorBase, str]]:
        out = []
        for sim in self.sims:
            manager = serve_asgi(sim.app)
            out.append((sim, manager.__enter__()))
            self._managers.append(manager)
        return out

    def __exit__(self, *exc: object) -> None:
        for manager in reversed(self._managers):
            manager.__exit__(None, None, None)


@pytest.fixture
async def venues(tmp_path: Path, simulators: Any) -> AsyncIterator[list[Venue]]:
    base_urls = {case.integration: url for case, (_, url) in simulators}
    first_sim = simulators[0][1][0]
    async with gateway_harness(tmp_path, first_sim, "", base_urls=base_urls, upstream_timeout_s=TIMEOUT_S) as gw:
        headers = await gw.client()
        yield [Venue(case, sim, gw, headers) for case, (sim, _) in simulators]


async def _scenario(venue: Venue, fault: dict[str, Any] | None, *, race_fill: bool = False) -> list[str]:
    account = venue.sim.new_account()
    order_id, extra = venue.sim.place(account)
    if fault is not None:
        venue.sim.inject(Fault(op=venue.case.cancel_op, api_key=account.api_key, **fault))
    if race_fill:
        venue.sim.inject(Fault("delay_before", venue.case.cancel_op, api_key=account.api_key, seconds=0.1))
        pending = asyncio.ensure_future(venue.cancel(account, order_id, extra))
        await asyncio.sleep(0.02)
        with contextlib.suppress(ValueError):  # the cancel may win the race on a slow machine: that is fine too
            venue.sim.fill(order_id)
        resp = await pending
    else:
        resp = await venue.cancel(account, order_id, extra)
    assert resp.status_code < 500 or resp.status_code in (502, 504), resp.text
    return violations(venue, order_id, resp)


async def test_fault_matrix(venues: list[Venue]) -> None:
    assert venues, "no venue found on the conformance kit"
    jobs = [(v, name, fault) for v in venues for name, fault in FAULTS.items()]
    results = await asyncio.gather(*(_scenario(v, fault) for v, _, fault in jobs))
    races = await asyncio.gather(*(_scenario(v, None, race_fill=True) for v in venues))
    found = [msg for result in [*results, *races] for msg in result]
    report.record(
        "fault matrix",
        venues=len(venues),
        faults=len(FAULTS) + 1,
        scenarios=len(jobs) + len(races),
        violations=len(found),
    )
    assert found == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_random_fault_schedules_never_lie(venues: list[Venue], data: st.DataObject) -> None:
    venue = data.draw(st.sampled_from(venues), label="venue")
    account = venue.sim.new_account()
    order_id, extra = venue.sim.place(account, volume="2")
    if data.draw(st.booleans(), label="partially filled first"):
        venue.sim.fill(order_id, "0.5")
    ops = (venue.case.cancel_op, venue.case.lookup_op)
    schedule = data.draw(
        st.lists(st.tuples(st.sampled_from(ops), st.sampled_from(sorted(FAULTS))), max_size=4), label="faults"
    )
    for op, name in schedule:
        venue.sim.inject(Fault(op=op, api_key=account.api_key, **FAULTS[name]))
    resp = await venue.cancel(account, order_id, extra)
    found = violations(venue, order_id, resp)
    report.count("random fault schedules", examples=1, faults=len(schedule), violations=len(found))
    assert found == []
