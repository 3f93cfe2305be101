"""Batch cancel (issue 18) against the Kraken, Bybit and OKX simulators: one definite answer per order, in order."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.venues.bybit.simulator import BybitSimulator
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase
from tests.conftest import CANCEL, GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi
from tests.venues.kit import _unknown_like

BATCH = "/api/v1/transactions/cancel/batch"
VENUES = (IntegrationType.kraken, IntegrationType.bybit, IntegrationType.okx)


@pytest.fixture(scope="module")
def venues(kraken: tuple[KrakenSimulator, str]) -> Iterator[dict[IntegrationType, tuple[SimulatorBase, str]]]:
    bybit, okx = BybitSimulator(), OkxSimulator()
    with serve_asgi(bybit.app) as bybit_url, serve_asgi(okx.app) as okx_url:
        yield {
            IntegrationType.kraken: kraken,
            IntegrationType.bybit: (bybit, bybit_url),
            IntegrationType.okx: (okx, okx_url),
        }


@dataclass
class Batch:
    gw: GatewayHarness
    headers: dict[str, str]
    sims: dict[IntegrationType, SimulatorBase]

    def body(self, integration: IntegrationType, account: SimAccount, order_id: str, extra: dict[str, Any]) -> dict:
        creds = Credentials(integration, account.api_key, account.secret, account.passphrase, dict(account.extras))
        token = self.gw.gateway.sealer.seal(self.headers["X-Client-Id"], creds)
        return {"authToken": token, "type": integration.value, "id": order_id, "isCryptocurrency": True, **extra}

    async def post(self, payload: dict[str, Any], **headers: str) -> Any:
        return await self.gw.http.post(BATCH, json=payload, headers={**self.headers, **headers})


@pytest.fixture
async def batch(tmp_path: Path, venues: dict[IntegrationType, tuple[SimulatorBase, str]]) -> AsyncIterator[Batch]:
    kraken_sim, kraken_url = venues[IntegrationType.kraken]
    base_urls = {integration: url for integration, (_, url) in venues.items()}
    async with gateway_harness(tmp_path, kraken_sim, kraken_url, base_urls=base_urls) as gw:  # type: ignore[arg-type]
        yield Batch(gw, await gw.client(), {integration: sim for integration, (sim, _) in venues.items()})


async def test_a_hundred_mixed_orders_over_three_venues_answer_in_order(batch: Batch) -> None:
    accounts = {v: [batch.sims[v].new_account(), batch.sims[v].new_account()] for v in VENUES}
    kinds = itertools.cycle(["open", "filled", "unknown", "cancelled", "open"])
    plan: list[tuple[IntegrationType, str, str, dict[str, Any]]] = []  # (venue, kind, order id, body)
    for i, kind in zip(range(100), kinds, strict=False):
        venue = VENUES[i % 3]
        sim, account = batch.sims[venue], accounts[venue][(i // 3) % 2]
        order_id, extra = sim.place(account)
        body = batch.body(venue, account, order_id, extra)
        if kind == "filled":
            sim.fill(order_id)
        elif kind == "unknown":
            body["id"] = _unknown_like(order_id)
        elif kind == "cancelled":
            assert (await batch.gw.http.post(CANCEL, json=body, headers=batch.headers)).status_code == 200
            assert sim.status(order_id).value == "cancelled"
        plan.append((venue, kind, order_id, body))
    before = {v: sum(batch.sims[v].count_key(a.api_key) for a in accounts[v]) for v in VENUES}

    resp = await batch.post({"orders": [body for *_, body in plan]}, **{"Idempotency-Key": "batch-100"})

    assert resp.status_code == 200, resp.text
    answer = resp.json()
    assert (answer["status"], answer["errorType"]) == ("ok", "")
    results = answer["content"]["results"]
    assert answer["content"]["complete"] is True and len(results) == 100
    for (venue, kind, order_id, body), item in zip(plan, results, strict=True):
        if kind == "open":
            expected = "cancelled" if venue is IntegrationType.kraken else "inProgress"  # Bybit, OKX only acknowledge
            assert (item["httpStatus"], item["status"], item["content"]) == (
                200,
                "ok",
                {"orderId": order_id, "status": expected},
            )
            assert batch.sims[venue].status(order_id).value == "cancelled"
        elif kind == "unknown":
            assert (item["httpStatus"], item["errorType"], item["errorData"]["orderId"]) == (
                404,
                "orderNotFound",
                body["id"],
            )
        elif kind == "cancelled" and venue is IntegrationType.kraken:
            # Kraken's CancelOrderBatch answers only how many it cancelled; in a batch where it cancelled some, an
            # order found cancelled cannot be told from one the batch cancelled (as after a lost answer): ok.
            assert (item["httpStatus"], item["content"]) == (200, {"orderId": order_id, "status": "cancelled"})
        else:
            final = "success" if kind == "filled" else "cancelled"
            assert (item["httpStatus"], item["errorType"], item["errorData"]["orderStatus"]) == (
                409,
                "orderNotCancelable",
                final,
            )
            assert batch.sims[venue].status(order_id).value == final
        assert set(item) >= {"status", "message", "displayMessage", "errorType", "errorData", "content"}
    counts = answer["content"]["summary"]
    kraken_cancelled = sum(1 for venue, kind, *_ in plan if venue is IntegrationType.kraken and kind == "cancelled")
    assert counts["orderNotFound"] == 20 and counts["orderNotCancelable"] == 40 - kraken_cancelled
    assert counts.get("cancelled", 0) + counts.get("inProgress", 0) == 40 + kraken_cancelled

    # One audit row per order, under the batch's request id; none for the batch itself.
    rows = [r for r in await batch.gw.gateway.audit.tail(300) if r.endpoint == "transactions/cancel/batch"]
    assert len(rows) == 100 and len({r.request_id for r in rows}) == 1
    assert sorted(r.order_id for r in rows) == sorted(body["id"] for *_, body in plan)
    assert {(r.order_id, r.http_status) for r in rows} == {
        (body["id"], item["httpStatus"]) for (*_, body), item in zip(plan, results, strict=True)
    }

    # The Idempotency-Key covers the whole batch: replayed, nothing sent upstream again.
    sent = {v: sum(batch.sims[v].count_key(a.api_key) for a in accounts[v]) for v in VENUES}
    assert all(sent[v] > before[v] for v in VENUES)
    again = await batch.post({"orders": [body for *_, body in plan]}, **{"Idempotency-Key": "batch-100"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == answer
    assert {v: sum(batch.sims[v].count_key(a.api_key) for a in accounts[v]) for v in VENUES} == sent


async def test_orders_past_a_keys_burst_are_paced_not_refused(batch: Batch) -> None:
    sim = batch.sims[IntegrationType.bybit]
    account = sim.new_account()
    placed = [sim.place(account) for _ in range(30)]  # Bybit's budget: 20 cancels/s per key, burst 20
    resp = await batch.post({"orders": [batch.body(IntegrationType.bybit, account, o, e) for o, e in placed]})
    assert resp.status_code == 200, resp.text
    assert [item["httpStatus"] for item in resp.json()["content"]["results"]] == [200] * 30
    # In native batches of 10 (Bybit spot's maximum), each order spending the key's budget as a single cancel would.
    assert sim.count(account.api_key, "cancel-batch") == 3 and sim.count(account.api_key, "cancel") == 0


async def test_a_failing_order_is_its_own_item_and_an_incomplete_batch_frees_its_key(batch: Batch) -> None:
    sim = batch.sims[IntegrationType.okx]
    # Two keys, one order each: each is a single cancel (a key's several orders would share a native batch).
    account, other = sim.new_account(), sim.new_account()
    (good, good_extra), (bad, bad_extra) = sim.place(account), sim.place(other)
    orders = [batch.body(IntegrationType.okx, account, good, good_extra)]
    orders.append(batch.body(IntegrationType.okx, other, bad, bad_extra))
    orders.append({"type": "okx", "id": good})  # not a valid cancel request: its own 400, not the batch's
    sim.inject(Fault("http_error", "cancel-order", api_key=other.api_key, status=503))
    resp = await batch.post({"orders": orders}, **{"Idempotency-Key": "incomplete"})
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert [item["httpStatus"] for item in content["results"][:2]] == [200, 502]
    assert (content["results"][2]["httpStatus"], content["results"][2]["errorType"]) == (400, "missingField")
    assert set(content["results"][2]["errorData"]["fields"]) == {"authToken", "isCryptocurrency"}
    assert content["complete"] is False
    # Not kept: the same key runs the batch again, and what the first run cancelled now answers 409 cancelled.
    again = await batch.post({"orders": orders}, **{"Idempotency-Key": "incomplete"})
    assert "Idempotent-Replayed" not in again.headers
    items = again.json()["content"]["results"]
    assert [(i["httpStatus"], i["errorType"]) for i in items[:2]] == [(409, "orderNotCancelable"), (200, "")]
    assert again.json()["content"]["complete"] is True


@pytest.mark.parametrize(
    ("payload", "field", "error_type"),
    [
        ({}, "orders", "missingField"),
        ({"orders": []}, "orders", "invalidField"),
        ({"orders": "x"}, "orders", "invalidField"),
        ({"orders": [{}] * 101}, "orders", "invalidField"),
        ({"orders": [{}, 3]}, "orders.1", "invalidField"),
        ({"orders": [{}], "waitSeconds": 31}, "waitSeconds", "invalidField"),
        ({"orders": [{}], "waitSeconds": -1}, "waitSeconds", "invalidField"),
        ({"orders": [{}], "waitSeconds": True}, "waitSeconds", "invalidField"),
        ({"orders": [{}], "waitSeconds": "5"}, "waitSeconds", "invalidField"),
    ],
)
async def test_a_malformed_batch_is_400_and_audited_once(
    batch: Batch, payload: dict, field: str, error_type: str
) -> None:
    resp = await batch.post(payload)
    assert resp.status_code == 400, resp.text
    assert (resp.json()["errorType"], list(resp.json()["errorData"]["fields"])) == (error_type, [field])
    rows = [r for r in await batch.gw.gateway.audit.tail(10) if r.endpoint == "transactions/cancel/batch"]
    assert [(r.http_status, r.error_type) for r in rows] == [(400, error_type)]


async def test_client_auth_and_scope_apply(batch: Batch) -> None:
    from ordergate.store.clients import Scope

    assert (await batch.gw.http.post(BATCH, json={"orders": [{}]})).status_code == 401
    reader = await batch.gw.client(frozenset({Scope.read}))
    resp = await batch.gw.http.post(BATCH, json={"orders": [{}]}, headers=reader)
    assert (resp.status_code, resp.json()["errorType"]) == (403, "insufficientScope")


async def test_the_batch_is_documented_under_its_own_tag(batch: Batch) -> None:
    doc = (await batch.gw.http.get("/openapi.json")).json()
    op = doc["paths"][BATCH]["post"]
    assert op["tags"] == ["ordergate extensions"]
    assert "ordergate extensions" in {t["name"] for t in doc["tags"]}
    extensions = {BATCH, "/api/v1/transactions/cancel/all", "/api/v1/transactions/cancel/after"}
    for path, item in doc["paths"].items():
        if path not in extensions:  # Mesh's own operations keep their tags
            for op in item.values():
                assert "ordergate extensions" not in op.get("tags", [])
