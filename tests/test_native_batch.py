"""Native venue batch cancels (issue 18) through `POST /api/v1/transactions/cancel/batch`, against the simulators:
one upstream request per group of a key's orders, one definite answer per order in request order, and a lost batch
answer resolved by per-order lookups as a single cancel's would be."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ordergate.domain.batch import MAX_ORDERS
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.venues.bybit.simulator import BybitSimulator
from ordergate.venues.coinbase.simulator import CoinbaseSimulator
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase
from tests.conftest import CANCEL, GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi
from tests.venues.kit import _unknown_like

BATCH = "/api/v1/transactions/cancel/batch"


@dataclass(frozen=True)
class Venue:
    integration: IntegrationType
    batch_op: str  # the simulator's name for the native batch request
    single_op: str  # the same as batch_op where a single cancel is a batch of one (Coinbase)
    lookup_op: str
    max_batch: int
    acked: str  # what an accepted cancel answers: "cancelled" where the venue confirms, else "inProgress"


VENUES = {
    IntegrationType.kraken: Venue(
        IntegrationType.kraken, "CancelOrderBatch", "CancelOrder", "QueryOrders", 50, "cancelled"
    ),
    IntegrationType.okx: Venue(IntegrationType.okx, "cancel-batch-orders", "cancel-order", "order", 20, "inProgress"),
}
VENUES[IntegrationType.bybit] = Venue(IntegrationType.bybit, "cancel-batch", "cancel", "realtime", 10, "inProgress")
VENUES[IntegrationType.coinbase] = Venue(
    IntegrationType.coinbase, "batch_cancel", "batch_cancel", "get_order", 100, "inProgress"
)
SIMULATORS = {
    IntegrationType.okx: OkxSimulator,
    IntegrationType.bybit: BybitSimulator,
    IntegrationType.coinbase: CoinbaseSimulator,
}


@pytest.fixture(scope="module")
def venues(kraken: tuple[KrakenSimulator, str]) -> Iterator[dict[IntegrationType, tuple[SimulatorBase, str]]]:
    served: dict[IntegrationType, tuple[SimulatorBase, str]] = {IntegrationType.kraken: kraken}
    stack = []
    for integration, factory in SIMULATORS.items():
        sim = factory()
        context = serve_asgi(sim.app)
        served[integration] = (sim, context.__enter__())
        stack.append(context)
    yield served
    for context in reversed(stack):
        context.__exit__(None, None, None)


@dataclass
class Batch:
    gw: GatewayHarness
    headers: dict[str, str]
    sims: dict[IntegrationType, SimulatorBase]

    def body(self, integration: IntegrationType, account: SimAccount, order_id: str, extra: dict[str, Any]) -> dict:
        creds = Credentials(integration, account.api_key, account.secret, account.passphrase, dict(account.extras))
        token = self.gw.gateway.sealer.seal(self.headers["X-Client-Id"], creds)
        return {"authToken": token, "type": integration.value, "id": order_id, "isCryptocurrency": True, **extra}

    async def post(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        resp = await self.gw.http.post(BATCH, json={"orders": orders}, headers=self.headers)
        assert resp.status_code == 200, resp.text
        return resp.json()["content"]["results"]


@pytest.fixture
async def batch(tmp_path: Path, venues: dict[IntegrationType, tuple[SimulatorBase, str]]) -> AsyncIterator[Batch]:
    kraken_sim, kraken_url = venues[IntegrationType.kraken]
    base_urls = {integration: url for integration, (_, url) in venues.items()}
    async with gateway_harness(tmp_path, kraken_sim, kraken_url, base_urls=base_urls) as gw:  # type: ignore[arg-type]
        yield Batch(gw, await gw.client(), {integration: sim for integration, (sim, _) in venues.items()})


def _ok(item: dict[str, Any], order_id: str, status: str) -> None:
    assert (item["httpStatus"], item["status"], item["content"]) == (200, "ok", {"orderId": order_id, "status": status})


@pytest.fixture(params=list(VENUES), ids=lambda i: i.value)
def venue(request: pytest.FixtureRequest) -> Venue:
    return VENUES[request.param]


async def test_a_keys_open_orders_go_in_one_request_per_max_batch(batch: Batch, venue: Venue) -> None:
    sim = batch.sims[venue.integration]
    account = sim.new_account()
    count = min(venue.max_batch + 3, MAX_ORDERS)  # Coinbase's 100 fit in one request
    placed = [sim.place(account) for _ in range(count)]
    results = await batch.post([batch.body(venue.integration, account, o, e) for o, e in placed])
    for (order_id, _), item in zip(placed, results, strict=True):
        _ok(item, order_id, venue.acked)
        assert sim.status(order_id).value == "cancelled"
    # One request per max_batch orders; nothing sent alone, nothing looked up.
    assert sim.count(account.api_key, venue.batch_op) == -(-count // venue.max_batch)
    assert venue.single_op == venue.batch_op or sim.count(account.api_key, venue.single_op) == 0
    assert sim.count(account.api_key, venue.lookup_op) == 0


async def test_mixed_outcomes_are_each_orders_own_definite_answer_in_order(batch: Batch, venue: Venue) -> None:
    sim = batch.sims[venue.integration]
    account, other = sim.new_account(), sim.new_account()
    kinds = ["open", "filled", "unknown", "open", "cancelled", "open", "filled"]
    plan: list[tuple[str, str, dict[str, Any]]] = []
    for kind in kinds:
        order_id, extra = sim.place(account)
        body = batch.body(venue.integration, account, order_id, extra)
        if kind == "filled":
            sim.fill(order_id)
        elif kind == "unknown":
            body["id"] = _unknown_like(order_id)
        elif kind == "cancelled":
            assert (await batch.gw.http.post(CANCEL, json=body, headers=batch.headers)).status_code == 200
        plan.append((kind, order_id, body))
    # Another key's order between them goes in its own request: a batch is per (integration, key).
    other_id, other_extra = sim.place(other)
    plan.insert(3, ("other", other_id, batch.body(venue.integration, other, other_id, other_extra)))
    sent_before = sim.count(account.api_key, venue.batch_op)

    results = await batch.post([body for *_, body in plan])

    assert sim.count(account.api_key, venue.batch_op) == sent_before + 1
    assert sim.count(other.api_key, venue.single_op) == 1  # alone for its key: a single cancel
    assert venue.single_op == venue.batch_op or sim.count(other.api_key, venue.batch_op) == 0
    for (kind, order_id, body), item in zip(plan, results, strict=True):
        if kind in ("open", "other"):
            _ok(item, order_id, venue.acked)
            assert sim.status(order_id).value == "cancelled"
        elif kind == "unknown":
            assert (item["httpStatus"], item["errorType"], item["errorData"]["orderId"]) == (
                404,
                "orderNotFound",
                body["id"],
            )
        elif kind == "filled":
            assert (item["httpStatus"], item["errorType"], item["errorData"]["orderStatus"]) == (
                409,
                "orderNotCancelable",
                "success",
            )
            assert sim.status(order_id).value == "success"
        elif venue.integration is IntegrationType.kraken:
            # Kraken answers a batch with a count only; when it cancelled some, an order found cancelled cannot be
            # told from one this batch cancelled, so it is resolved as after a lost answer: cancelled, ok.
            _ok(item, order_id, "cancelled")
        else:  # the venue names this order as already final; the lookup shows it cancelled before: 409
            assert (item["httpStatus"], item["errorType"], item["errorData"]["orderStatus"]) == (
                409,
                "orderNotCancelable",
                "cancelled",
            )


async def test_a_lost_batch_answer_is_resolved_by_lookups(batch: Batch, venue: Venue) -> None:
    sim = batch.sims[venue.integration]
    account = sim.new_account()
    placed = [sim.place(account) for _ in range(4)]
    filled_id = placed[1][0]
    sim.fill(filled_id)
    # The venue processes the batch, then the connection drops before its answer arrives.
    sim.inject(Fault("reset", venue.batch_op, api_key=account.api_key, process=True))
    results = await batch.post([batch.body(venue.integration, account, o, e) for o, e in placed])
    for (order_id, _), item in zip(placed, results, strict=True):
        if order_id == filled_id:
            assert (item["httpStatus"], item["errorData"]["orderStatus"]) == (409, "success")
        else:
            _ok(item, order_id, "cancelled")  # the lookup saw it cancelled after the batch was sent
    assert sim.count(account.api_key, venue.batch_op) == 1
    assert sim.count(account.api_key, venue.lookup_op) == 4
    assert venue.single_op == venue.batch_op or sim.count(account.api_key, venue.single_op) == 0


async def test_a_refused_batch_answers_every_order_alike(batch: Batch, venue: Venue) -> None:
    sim = batch.sims[venue.integration]
    account = sim.new_account()
    placed = [sim.place(account) for _ in range(3)]
    sim.inject(Fault("venue_error", venue.batch_op, api_key=account.api_key, error="auth"))
    results = await batch.post([batch.body(venue.integration, account, o, e) for o, e in placed])
    assert {(item["httpStatus"], item["errorType"]) for item in results} == {(401, "institutionAuthFailed")}
    assert all(sim.status(o).value == "inProgress" for o, _ in placed)
    assert sim.count(account.api_key, venue.batch_op) == 1


async def test_kraken_count_zero_is_each_orders_unknown_order_answer(batch: Batch) -> None:
    sim = batch.sims[IntegrationType.kraken]
    account = sim.new_account()
    (filled, e1), (cancelled, e2) = sim.place(account), sim.place(account)
    sim.fill(filled)
    body = batch.body(IntegrationType.kraken, account, cancelled, e2)
    assert (await batch.gw.http.post(CANCEL, json=body, headers=batch.headers)).status_code == 200
    # Kraken cancelled none of them: exactly CancelOrder's count 0, so each is looked up and answered as alone.
    results = await batch.post([batch.body(IntegrationType.kraken, account, filled, e1), body])
    assert [(i["httpStatus"], i["errorData"]["orderStatus"]) for i in results] == [(409, "success"), (409, "cancelled")]
    assert sim.count(account.api_key, "CancelOrderBatch") == 1
    assert sim.count(account.api_key, "CancelOrder") == 1  # only the earlier single cancel


async def test_a_batch_refused_over_an_unknown_order_goes_order_by_order(batch: Batch) -> None:
    sim = batch.sims[IntegrationType.kraken]
    account = sim.new_account()
    placed = [sim.place(account) for _ in range(2)]
    # Should Kraken refuse a whole batch with "Unknown order", nothing was cancelled: each order goes alone.
    sim.inject(Fault("venue_error", "CancelOrderBatch", api_key=account.api_key, error="EOrder:Unknown order"))
    results = await batch.post([batch.body(IntegrationType.kraken, account, o, e) for o, e in placed])
    for (order_id, _), item in zip(placed, results, strict=True):
        _ok(item, order_id, "cancelled")
    assert sim.count(account.api_key, "CancelOrderBatch") == 1
    assert sim.count(account.api_key, "CancelOrder") == 2
