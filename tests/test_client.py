"""ordergate.client: the sync client against `ordergate serve --sandbox`, the async one in-process (ASGITransport),
both against the venue simulators."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordergate.api import envelope
from ordergate.client import (
    BY_ERROR_TYPE,
    AsyncClient,
    CancelOrder,
    CancelOutcomeUnknown,
    Client,
    GatewayUnreachable,
    InstitutionAuthFailed,
    InvalidAuthToken,
    InvalidClientCredentials,
    OrderNotCancelable,
    OrderNotFound,
    RateLimited,
    RetryPolicy,
    ServerFeatureUnavailable,
)
from ordergate.client import gen as client_gen
from ordergate.domain.errors import CATALOGUE, ErrorType, GatewayError
from ordergate.venues.simkit import Fault
from tests.conftest import GatewayHarness, gateway_harness
from tests.test_readme import README, _free_port, _wait_healthy, running

# -- generated exceptions --------------------------------------------------------------------------------------


def test_the_exceptions_file_is_generated_from_the_catalogue() -> None:
    assert client_gen.TARGET.read_text() == client_gen.render(), "run python -m ordergate.client.gen"
    assert set(BY_ERROR_TYPE) == {t.value for t in CATALOGUE}
    for error_type, info in CATALOGUE.items():
        cls = BY_ERROR_TYPE[error_type.value]
        assert (cls.error_type, cls.http_status) == (error_type.value, info.http_status)
    assert issubclass(ServerFeatureUnavailable, NotImplementedError)


# -- async client, in-process --------------------------------------------------------------------------------


class Recording(httpx.AsyncBaseTransport):
    """The in-process gateway, with what reached it recorded; `refuse` connections fail before anything is sent,
    `answers` are envelopes the gateway itself renders, given instead of calling it."""

    def __init__(self, inner: httpx.AsyncBaseTransport, refuse: int = 0, answers: list[Any] | None = None) -> None:
        self.inner, self.refuse, self.answers = inner, refuse, list(answers or [])
        self.keys: list[str | None] = []
        self.tries = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.tries += 1
        if self.refuse:
            self.refuse -= 1
            raise httpx.ConnectError("connection refused", request=request)
        self.keys.append(request.headers.get("idempotency-key"))
        if self.answers:
            answer = self.answers.pop(0)
            return httpx.Response(answer.status_code, headers=dict(answer.headers), content=bytes(answer.body))
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def og(gw: GatewayHarness) -> AsyncIterator[tuple[AsyncClient, GatewayHarness, dict[str, str], Recording]]:
    headers = await gw.client()
    recording = Recording(gw.http._transport)  # the harness's ASGITransport
    client = AsyncClient("http://gateway", headers["X-Client-Id"], headers["X-Client-Secret"], transport=recording)
    async with client:
        yield client, gw, headers, recording


def _order(gw: GatewayHarness, headers: dict[str, str]) -> tuple[str, str, str]:
    key, secret = gw.account()
    txid = gw.sim.place_order(key, pair="XBTUSD", side="buy", volume="1", price="100")
    return txid, gw.seal(headers, key, secret), key


async def test_cancel_then_typed_409_and_404(og: Any) -> None:
    client, gw, headers, recording = og
    txid, token, _ = _order(gw, headers)
    result = await client.cancel(token, "kraken", txid)
    assert (result.order_id, result.status, result.cancelled) == (txid, "cancelled", True)
    with pytest.raises(OrderNotCancelable) as err:
        await client.cancel(token, "kraken", txid)
    assert (err.value.http_status, err.value.status, err.value.error_data["orderStatus"]) == (
        409,
        "conflict",
        "cancelled",
    )
    assert err.value.idempotency_key and err.value.request_id
    with pytest.raises(OrderNotFound):
        await client.cancel(token, "kraken", "OAAAAA-BBBBB-CCCCCC")
    assert len(set(recording.keys)) == 3  # one fresh key per call


async def test_bad_token_and_bad_client(og: Any, gw: GatewayHarness) -> None:
    client, _, headers, recording = og
    txid, token, _ = _order(gw, headers)
    with pytest.raises(InvalidAuthToken):
        await client.cancel(token[:-4] + "AAAA", "kraken", txid)
    async with AsyncClient("http://gateway", headers["X-Client-Id"], "wrong", transport=recording) as stranger:
        with pytest.raises(InvalidClientCredentials) as err:
            await stranger.cancel(token, "kraken", txid)
    assert err.value.http_status == 401


async def test_details_and_batch(og: Any) -> None:
    client, gw, headers, _ = og
    open_id, token, _ = _order(gw, headers)
    filled_id, _, _ = _order(gw, headers)
    gw.sim.fill(filled_id)
    assert (await client.details(token, "kraken", open_id))["status"] == "inProgress"
    other_token = _order(gw, headers)[1]
    orders = [
        CancelOrder(token, "kraken", open_id),
        CancelOrder(other_token, "kraken", filled_id),  # someone else's order: that account has none such
        CancelOrder(token, "kraken", "OAAAAA-BBBBB-CCCCCC"),
    ]
    batch = await client.cancel_batch(orders)
    assert batch.complete and len(batch) == 3 and batch.idempotency_key
    assert [i.ok for i in batch] == [True, False, False]
    assert batch.items[0].result is not None and batch.items[0].result.status == "cancelled"
    assert [type(i.error) for i in batch.items[1:]] == [OrderNotFound, OrderNotFound]
    assert (await client.details(token, "kraken", open_id))["status"] == "cancelled"


async def test_cancel_all_names_every_order_it_touched(og: Any) -> None:
    client, gw, headers, recording = og
    txid, token, _ = _order(gw, headers)
    content = await client.cancel_all(token, "kraken", side="buy")
    assert [i["orderId"] for i in content["results"]] == [txid] and content["notCancelled"] == []
    assert gw.sim.status(txid).value == "cancelled" and recording.keys[-1]


async def test_list_orders_pages_with_the_cursor(og: Any) -> None:
    client, gw, headers, _ = og
    txid, token, _ = _order(gw, headers)
    first = await client.list_orders(token, "kraken", count=1, statuses=["inProgress"], since=0)
    assert [t["id"] for t in first["transactions"]] == [txid] and first["total"] == 1 and first["cursor"] is None


async def test_a_connection_that_never_opened_is_retried_with_the_same_key(og: Any) -> None:
    client, gw, headers, recording = og
    txid, token, _ = _order(gw, headers)
    recording.refuse = 2
    assert (await client.cancel(token, "kraken", txid)).status == "cancelled"
    assert recording.tries == 3 and len(recording.keys) == 1
    recording.refuse = 10
    with pytest.raises(GatewayUnreachable):
        await client.cancel(token, "kraken", txid)
    assert recording.refuse == 10 - RetryPolicy().attempts


async def test_503_is_retried_with_the_same_key(og: Any) -> None:
    client, gw, headers, recording = og
    txid, token, _ = _order(gw, headers)
    down = GatewayError(ErrorType.serviceUnavailable, "database unreachable", retry_after=0.05)
    recording.answers = [envelope.error(down)]
    assert (await client.cancel(token, "kraken", txid)).status == "cancelled"
    assert len(recording.keys) == 2 and recording.keys[0] == recording.keys[1]


async def test_504_is_raised_not_retried_and_the_same_key_is_safe_to_use_again(og: Any) -> None:
    client, gw, headers, recording = og
    txid, token, key = _order(gw, headers)
    for _ in range(2):  # the cancel's answer and the gateway's own retry's are lost; the order stays open
        gw.sim.inject(Fault("reset", "CancelOrder", api_key=key))
    with pytest.raises(CancelOutcomeUnknown) as err:
        await client.cancel(token, "kraken", txid)
    assert len(recording.keys) == 1 and err.value.http_status == 504
    result = await client.cancel(token, "kraken", txid, idempotency_key=err.value.idempotency_key)
    assert result.status == "cancelled" and not result.replayed
    assert recording.keys[1] == recording.keys[0]


async def test_429_is_waited_out_up_to_the_cap(tmp_path: Path, kraken: Any) -> None:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url, client_rate_per_s=1.0, client_burst=1) as gw:
        headers = await gw.client()
        recording = Recording(gw.http._transport)
        txid, token, _ = _order(gw, headers)
        second, _, _ = _order(gw, headers)
        args = ("http://gateway", headers["X-Client-Id"], headers["X-Client-Secret"])
        async with AsyncClient(*args, transport=recording) as client:
            await client.cancel(token, "kraken", txid)
            with pytest.raises(OrderNotCancelable):  # right after: 429 Retry-After 1, waited out, then answered
                await client.cancel(token, "kraken", txid)
            assert len(recording.keys) == 3 and recording.keys[1] == recording.keys[2]
        async with AsyncClient(*args, transport=recording, retry=RetryPolicy(max_retry_after=0.1)) as impatient:
            with pytest.raises(RateLimited) as err:  # the bucket is empty again: Retry-After 1 is over the cap
                await impatient.details(token, "kraken", second)
            assert err.value.retry_after == 1 and err.value.error_data["limit"] == "client"


# -- sync client against `ordergate serve --sandbox` ---------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    port, cwd = _free_port(), tmp_path_factory.mktemp("sandbox")
    with running(["serve", "--sandbox", "--port", str(port)], cwd) as proc:
        _wait_healthy(port, proc)
        base = f"http://127.0.0.1:{port}"
        env_text = httpx.get(f"{base}/sandbox/env").text
        env = dict(line.removeprefix("export ").split("=", 1) for line in env_text.splitlines() if line)
        yield base, {k: shlex.split(v)[0] for k, v in env.items()}


def test_sync_client_against_the_sandbox(sandbox: tuple[str, dict[str, str]]) -> None:
    base, env = sandbox
    with Client(base, env["CLIENT_ID"], env["CLIENT_SECRET"]) as og:
        placed = [httpx.post(f"{base}/sandbox/orders", params={"type": t}).json() for t in ("bybit", "okx", "kraken")]
        orders = [
            CancelOrder(
                env[f"AUTH_TOKEN_{t.upper()}"] if t != "kraken" else env["AUTH_TOKEN"],
                t,
                p.get("orderId") or p["txid"],
                symbol_pair=(p.get("cancelFields") or {}).get("symbolPair"),
            )
            for t, p in zip(("bybit", "okx", "kraken"), placed, strict=True)
        ]
        batch = og.cancel_batch(orders, wait_seconds=10)
        assert batch.complete and [i.result.status for i in batch if i.result] == ["cancelled"] * 3
        assert og.details(env["AUTH_TOKEN"], "kraken", orders[2].id)["status"] == "cancelled"
        with pytest.raises(OrderNotCancelable):
            og.cancel(env["AUTH_TOKEN"], "kraken", orders[2].id)
        demo = httpx.get(f"{base}/sandbox").json()
        auth = og.authenticate("kraken", demo["krakenApiKey"], demo["krakenSecret"])
        assert auth.status == "succeeded" and len(auth.access_tokens) == 1
        with pytest.raises(InstitutionAuthFailed):
            og.authenticate("kraken", demo["krakenApiKey"], "bm90LXRoZS1zZWNyZXQ=")


def test_readme_python_example_runs(sandbox: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, env = sandbox
    match = re.search(r"<!-- python-client -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, "README lost its Python client example"
    script = tmp_path / "example.py"
    script.write_text(match.group(1))
    out = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, **env, "ORDERGATE_URL": base},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "cancelled",
        "orderNotCancelable cancelled",
        "okx cancelled",
        "kraken orderNotCancelable",
    ], json.dumps(out.stdout)
