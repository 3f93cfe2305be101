"""Issue 11: input the database cannot store (a lone surrogate) is refused as 400 and still audited; one row the
database refuses never takes its batch-mates with it; a stuck or refused spool shows in /readyz and /metrics."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from ordergate.store.audit import AuditLog, AuditRecord, AuditSpool
from ordergate.store.clients import Scope
from tests.conftest import CANCEL, GatewayHarness

DETAILS = "/api/v1/transactions/details"
# A lone surrogate as the attacker sent it: valid JSON text, not encodable as UTF-8 once parsed.
LONE = b'{"authToken":"t","type":"kraken","id":"\\ud800","isCryptocurrency":true}'


def _spooled(gw: GatewayHarness) -> int:
    return int(gw.gateway.audit.spool_state()["waiting"])


async def test_lone_surrogate_from_a_read_only_client_is_400_and_audited_escaped(gw: GatewayHarness) -> None:
    headers = {**await gw.client(frozenset({Scope.read})), "Content-Type": "application/json"}
    resp = await gw.http.post(DETAILS, content=LONE, headers=headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["errorType"] == "invalidField" and set(resp.json()["errorData"]["fields"]) == {"id"}
    rows = await gw.gateway.audit.tail(1)
    assert rows[0].request_id == resp.headers["x-request-id"]
    assert rows[0].order_id == "\\ud800"  # what was received, escaped
    assert _spooled(gw) == 0


async def test_lone_surrogate_in_any_field_with_an_idempotency_key_is_400(gw: GatewayHarness) -> None:
    headers = {**await gw.client(), "Content-Type": "application/json", "Idempotency-Key": "surrogate-1"}
    for field in ("authToken", "symbolPair", "mfaCode", "extra"):
        body = {"authToken": "t", "type": "kraken", "id": "OABCDE-FGHIJ-KLMNOP", "isCryptocurrency": True}
        raw = json.dumps({**body, field: "x"}).replace('"x"', '"\\udfff"').encode()
        resp = await gw.http.post(CANCEL, content=raw, headers=headers)
        assert resp.status_code == 400, (field, resp.text)
        assert set(resp.json()["errorData"]["fields"]) == {field}
    key_in_name = b'{"\\ud800":1,"authToken":"t","type":"kraken","id":"x","isCryptocurrency":true}'
    resp = await gw.http.post(CANCEL, content=key_in_name, headers=headers)
    assert resp.status_code == 400 and resp.json()["errorType"] == "invalidField"
    assert _spooled(gw) == 0


async def test_surrogates_mixed_into_a_cancel_storm_lose_no_row(gw: GatewayHarness) -> None:
    writer = await gw.client()
    reader = {**await gw.client(frozenset({Scope.read})), "Content-Type": "application/json"}
    key, secret = gw.account()
    token = gw.seal(writer, key, secret)
    txids = [gw.sim.place_order(key) for _ in range(60)]
    before = len(await gw.gateway.audit.tail(100_000))
    cancels = [gw.cancel(writer, authToken=token, type="kraken", id=t, isCryptocurrency=True) for t in txids]
    hostile = [gw.http.post(DETAILS, content=LONE, headers=reader) for _ in range(10)]
    answers = await asyncio.gather(*cancels, *hostile)
    assert [a.status_code for a in answers] == [200] * 60 + [400] * 10
    rows = await gw.gateway.audit.tail(100_000)
    assert len(rows) == before + 70
    assert {a.headers["x-request-id"] for a in answers} <= {r.request_id for r in rows}
    assert _spooled(gw) == 0


def _rec(i: int, **changes: object) -> AuditRecord:
    base = dict(
        request_id=f"r{i}",
        endpoint="transactions/cancel",
        client_id="c",
        integration_type="kraken",
        order_id=f"o{i}",
        status="ok",
        error_type="",
        http_status=200,
        upstream_status=200,
        upstream_requests=1,
        latency_ms=1.0,
    )
    return AuditRecord(**{**base, **changes})  # type: ignore[arg-type]


async def test_a_row_the_database_refuses_does_not_take_its_batch_with_it(gw: GatewayHarness) -> None:
    # SQLite's DateTime type refuses anything but a datetime: a row no retry will ever write.
    poison = _rec(0, created_at="not a time")
    good = [_rec(i) for i in range(1, 200)]
    audit = gw.gateway.audit
    results = await asyncio.gather(*(audit.record(r) for r in [*good[:100], poison, *good[100:]]))
    assert results == [None] * 200  # every request learns its row is durable (the poison one: spooled)
    ids = {r.request_id for r in await audit.tail(100_000)}
    assert {r.request_id for r in good} <= ids and "r0" not in ids
    spool: AuditSpool = audit._spool  # type: ignore[assignment]
    await spool.replay()  # the refused row is set aside rather than retried forever
    state = audit.spool_state()
    assert state["waiting"] == 0 and state["rejected"] == 1
    ready = (await gw.http.get("/readyz")).json()
    assert ready["status"] == "ready" and ready["auditSpool"] == "ok" and ready["auditRejected"].startswith("1 rows")
    assert "ordergate_audit_rejected_rows_total 1.0" in (await gw.http.get("/metrics")).text


async def test_a_stuck_spool_makes_readyz_unavailable(tmp_path: Path, gw: GatewayHarness) -> None:
    audit = gw.gateway.audit
    spool: AuditSpool = audit._spool  # type: ignore[assignment]
    spool._file.write_text(json.dumps({"request_id": "x"}) + "\n")  # waiting, as if the database were down
    try:
        spool._failing_since = 0.0  # replays have been failing since long ago
        ready = await gw.http.get("/readyz")
        assert ready.status_code == 503 and "stuck" in ready.json()["auditSpool"]
        assert "ordergate_audit_spool_rows 1.0" in (await gw.http.get("/metrics")).text
    finally:
        spool._file.unlink(missing_ok=True)


async def test_spool_lines_written_before_the_fix_are_replayed_escaped(tmp_path: Path) -> None:
    from ordergate.store.db import make_engine, migrate, sessions

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/a.db")
    await migrate(engine)
    log = AuditLog(sessions(engine), spool_dir=tmp_path / "spool")
    (tmp_path / "spool").mkdir()
    row = {**{k: getattr(_rec(7), k) for k in AuditRecord.__slots__}, "order_id": "\ud800"}
    row["created_at"] = datetime.now(UTC).isoformat()
    (tmp_path / "spool" / "audit-spool-1.jsonl").write_text(json.dumps(row) + "\n")
    assert await log._spool.replay() == 1  # type: ignore[union-attr]
    assert (await log.tail(1))[0].order_id == "\\ud800"
    await engine.dispose()
