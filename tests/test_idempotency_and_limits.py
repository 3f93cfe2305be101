"""Idempotency-Key, the per-client token bucket, and venue-key cool-downs after a venue's 429/ban."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ordergate.limits import Cooldowns, TokenBuckets
from ordergate.venues.kraken.simulator import Fault
from tests.conftest import CANCEL, GatewayHarness, gateway_harness


def _body(token: str, txid: str) -> dict:
    return {"authToken": token, "type": "kraken", "id": txid, "isCryptocurrency": True}


async def _setup(gw: GatewayHarness):
    headers = await gw.client()
    key, secret = gw.account()
    return headers, key, gw.seal(headers, key, secret)


async def test_same_key_and_body_replays_without_a_second_upstream_call(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    txid = gw.sim.place_order(key)
    idem = {**headers, "Idempotency-Key": "cancel-1"}
    first = await gw.http.post(CANCEL, json=_body(token, txid), headers=idem)
    second = await gw.http.post(CANCEL, json=_body(token, txid), headers=idem)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert gw.sim.requests[(key, "CancelOrder")] == 1
    # Without the key the same cancel is a new request: a definite 409 now.
    third = await gw.http.post(CANCEL, json=_body(token, txid), headers=headers)
    assert third.status_code == 409
    rows = await gw.gateway.audit.tail(3)
    assert [(r.http_status, r.upstream_requests) for r in rows] == [(200, 1), (200, 0), (409, 2)]


async def test_same_key_other_body_is_422(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    a, b = gw.sim.place_order(key), gw.sim.place_order(key)
    idem = {**headers, "Idempotency-Key": "k"}
    assert (await gw.http.post(CANCEL, json=_body(token, a), headers=idem)).status_code == 200
    resp = await gw.http.post(CANCEL, json=_body(token, b), headers=idem)
    assert resp.status_code == 422
    assert (resp.json()["status"], resp.json()["errorType"]) == ("badRequest", "idempotencyKeyReused")
    assert gw.sim.order(b)["status"] == "open"


async def test_keys_are_per_client(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    other = await gw.client()
    other_token = gw.seal(other, key, gw.sim._accounts[key].secret_b64)
    a, b = gw.sim.place_order(key), gw.sim.place_order(key)
    assert (
        await gw.http.post(CANCEL, json=_body(token, a), headers={**headers, "Idempotency-Key": "x"})
    ).status_code == 200
    resp = await gw.http.post(CANCEL, json=_body(other_token, b), headers={**other, "Idempotency-Key": "x"})
    assert resp.status_code == 200 and resp.json()["content"]["orderId"] == b


async def test_concurrent_duplicate_is_409_and_only_one_upstream_cancel(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    txid = gw.sim.place_order(key)
    gw.sim.inject(Fault("delay_before", "CancelOrder", api_key=key, seconds=0.3))
    idem = {**headers, "Idempotency-Key": "dup"}
    first, second = await asyncio.gather(
        gw.http.post(CANCEL, json=_body(token, txid), headers=idem),
        gw.http.post(CANCEL, json=_body(token, txid), headers=idem),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["errorType"] == "idempotencyKeyInFlight"
    assert gw.sim.requests[(key, "CancelOrder")] == 1


async def test_transient_answers_free_the_key(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    txid = gw.sim.place_order(key)
    gw.sim.inject(Fault("venue_error", "CancelOrder", api_key=key, error="EService:Unavailable"))
    idem = {**headers, "Idempotency-Key": "retry-me"}
    assert (await gw.http.post(CANCEL, json=_body(token, txid), headers=idem)).status_code == 502
    retried = await gw.http.post(CANCEL, json=_body(token, txid), headers=idem)
    assert retried.status_code == 200 and "idempotent-replayed" not in retried.headers


async def test_bad_idempotency_key_is_invalid_field(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    resp = await gw.http.post(CANCEL, json=_body(token, "x"), headers={**headers, "Idempotency-Key": "k" * 256})
    assert resp.status_code == 400 and resp.json()["errorData"]["fields"] == {
        "Idempotency-Key": "1-255 printable ASCII characters"
    }


async def test_authenticate_is_idempotent_too(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account()
    idem = {**headers, "Idempotency-Key": "connect-1"}
    body = {"type": "kraken", "username": key, "password": secret}
    first = await gw.http.post("/api/v1/authenticate", params={"userId": "u"}, json=body, headers=idem)
    second = await gw.http.post("/api/v1/authenticate", params={"userId": "u"}, json=body, headers=idem)
    assert first.json() == second.json() and first.json()["content"]["status"] == "succeeded"
    assert gw.sim.requests[(key, "Balance")] == 1
    other_user = await gw.http.post("/api/v1/authenticate", params={"userId": "v"}, json=body, headers=idem)
    assert other_user.status_code == 422


async def test_client_token_bucket(tmp_path: Path, kraken) -> None:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url, client_rate_per_s=1.0, client_burst=3) as gw:
        headers, key, token = await _setup(gw)
        answers = [
            await gw.http.post(CANCEL, json=_body(token, gw.sim.place_order(key)), headers=headers) for _ in range(5)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        limited = answers[3].json()
        assert (limited["status"], limited["errorType"]) == ("tooManyRequest", "rateLimited")
        assert limited["errorData"]["limit"] == "client"
        assert int(answers[3].headers["retry-after"]) >= 1
        # Another client has its own bucket.
        other = await gw.client()
        other_token = gw.seal(other, key, gw.sim._accounts[key].secret_b64)
        assert (
            await gw.http.post(CANCEL, json=_body(other_token, gw.sim.place_order(key)), headers=other)
        ).status_code == 200
        assert gw.sim.requests[(key, "CancelOrder")] == 4


async def test_venue_rate_limit_stops_further_calls_with_that_key(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    gw.sim.inject(Fault("venue_error", "CancelOrder", api_key=key, error="EAPI:Rate limit exceeded"))
    first = await gw.http.post(CANCEL, json=_body(token, gw.sim.place_order(key)), headers=headers)
    assert first.status_code == 429 and first.headers["retry-after"] == "5"
    second = await gw.http.post(CANCEL, json=_body(token, gw.sim.place_order(key)), headers=headers)
    assert second.status_code == 429 and second.json()["errorData"] == {"limit": "venue"}
    assert 1 <= int(second.headers["retry-after"]) <= 5
    assert gw.sim.requests[(key, "CancelOrder")] == 1  # the second answer cost no upstream call
    # Other keys are unaffected.
    headers2, key2, token2 = await _setup(gw)
    assert (
        await gw.http.post(CANCEL, json=_body(token2, gw.sim.place_order(key2)), headers=headers2)
    ).status_code == 200


async def test_venue_lockout_answers_423_until_it_passes(gw: GatewayHarness) -> None:
    headers, key, token = await _setup(gw)
    gw.sim.inject(Fault("venue_error", "CancelOrder", api_key=key, error="EGeneral:Temporary lockout"))
    assert (await gw.http.post(CANCEL, json=_body(token, gw.sim.place_order(key)), headers=headers)).status_code == 423
    again = await gw.http.post(CANCEL, json=_body(token, gw.sim.place_order(key)), headers=headers)
    assert again.status_code == 423 and again.json()["errorType"] == "institutionLocked"
    assert gw.sim.requests[(key, "CancelOrder")] == 1


def test_token_bucket_and_cooldown_arithmetic() -> None:
    bucket = TokenBuckets(rate=2.0, burst=2)
    assert [bucket.take("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.5]
    assert bucket.take("a", now=0.5) == 0.0
    assert TokenBuckets(rate=0, burst=0).take("a") == 0.0
    cool = Cooldowns()
    cool.block("k", 10, "rateLimited", now=100.0)
    cool.block("k", 1, "rateLimited", now=100.0)  # a shorter block never shortens a longer one
    assert cool.check("k", now=105.0) == (5.0, "rateLimited")
    assert cool.check("k", now=110.0) is None


async def test_expired_keys_are_purged_and_fresh_ones_kept(gw: GatewayHarness) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select, update

    from ordergate.store.models import IdempotencyKey

    headers, key, token = await _setup(gw)
    for name in ("old", "new"):
        txid = gw.sim.place_order(key)
        assert (
            await gw.http.post(CANCEL, json=_body(token, txid), headers={**headers, "Idempotency-Key": name})
        ).status_code == 200
    sessions = gw.gateway.idempotency._sessions
    async with sessions() as session, session.begin():
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == "old")
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await gw.gateway.idempotency.purge_expired() == 1
    async with sessions() as session:
        left = (await session.execute(select(IdempotencyKey.key))).scalars().all()
        assert left == ["new"]
        assert (await session.execute(select(func.count()).select_from(IdempotencyKey))).scalar() == 1
    assert "idempotency-purge" in [t.get_name() for t in gw.gateway.background]
