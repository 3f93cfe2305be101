"""IbkrAdapter over a real Transport against the simulator on a real socket, and through the gateway where the
answer is the gateway's (order id shape, unconfigured URL, budget per gateway, expired session)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from ordergate import limits
from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.ibkr.adapter import IbkrAdapter
from ordergate.venues.ibkr.constants import PENALTY_BOX_S
from ordergate.venues.ibkr.simulator import GATEWAY, IbkrSimulator
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.conftest import CANCEL, gateway_harness
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.interactiveBrokers]
IBKR = IntegrationType.interactiveBrokers


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[IbkrSimulator, str]]:
    sim = IbkrSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport(timeout_s=2.0)
    await transport.start()
    yield transport
    await transport.close()


@pytest.fixture
def sim(served: tuple[IbkrSimulator, str]) -> IbkrSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[IbkrSimulator, str], transport: Transport) -> IbkrAdapter:
    return IbkrAdapter(SPEC, served[1], transport)


def creds_of(account: SimAccount) -> Credentials:
    return Credentials(IBKR, "", "", extras={"account": account.api_key})


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=False)


async def test_cancel_is_one_delete_after_one_tickle_of_an_idle_gateway(sim: IbkrSimulator, adapter: IbkrAdapter):
    account = sim.new_account()
    first, _ = sim.place(account)
    second, _ = sim.place(account)
    tickles = sim.count(GATEWAY, "tickle")

    ack = await adapter.cancel(creds_of(account), ref(first))
    assert (ack.order_id, ack.status, ack.upstream_status) == (first, OrderStatus.inProgress, 200)
    assert sim.count(GATEWAY, "tickle") == tickles + 1  # nothing heard from this gateway yet
    assert sim.status(first) is OrderStatus.cancelled

    sent = adapter.transport.requests_sent
    await adapter.cancel(creds_of(account), ref(second))
    assert adapter.transport.requests_sent - sent == 1  # heard from within the minute: the DELETE alone
    assert sim.count(account.api_key, "cancel") == 2


async def test_a_gateway_idle_for_a_minute_is_tickled_again(sim: IbkrSimulator, adapter: IbkrAdapter):
    account = sim.new_account()
    order_id, _ = sim.place(account)
    adapter.last_answer = 0.0  # as long ago as the monotonic clock goes
    tickles = sim.count(GATEWAY, "tickle")
    await adapter.cancel(creds_of(account), ref(order_id))
    assert sim.count(GATEWAY, "tickle") == tickles + 1


@pytest.mark.parametrize("order_id", ["-1", "", "1.5", "12a", "1/2"])
async def test_ids_other_than_digits_never_reach_the_gateway(
    sim: IbkrSimulator, adapter: IbkrAdapter, order_id: str
) -> None:
    account = sim.new_account()
    open_id, _ = sim.place(account)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds_of(account), ref(order_id))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent
    assert sim.status(open_id) is OrderStatus.inProgress


async def test_the_gateway_refuses_minus_one_which_would_cancel_every_order(tmp_path: Path, served) -> None:
    sim, url = served
    account = sim.new_account()
    orders = [sim.place(account)[0] for _ in range(3)]
    async with gateway_harness(tmp_path, sim, url, base_urls={IBKR: url}) as gw:  # type: ignore[arg-type]
        headers = await gw.client()
        token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds_of(account))
        body = {"authToken": token, "type": IBKR.value, "id": "-1", "isCryptocurrency": False}
        resp = await gw.http.post(CANCEL, json=body, headers=headers)
    assert resp.status_code == 400 and resp.json()["errorType"] == "invalidField", resp.text
    assert sim.count_key(account.api_key) == 0
    assert [sim.status(o) for o in orders] == [OrderStatus.inProgress] * 3
    # What the check protects against: the simulator, like IBKR, reads -1 as every open order.
    transport = Transport(timeout_s=2.0)
    await transport.send("DELETE", f"{url}/v1/api/iserver/account/{account.api_key}/order/-1")
    await transport.close()
    assert [sim.status(o) for o in orders] == [OrderStatus.cancelled] * 3


@pytest.mark.parametrize("state", ["filled", "cancelled", "never", "foreign"])
async def test_refused_cancels_go_to_the_lookup(sim: IbkrSimulator, adapter: IbkrAdapter, state: str) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account if state != "foreign" else sim.new_account())
    if state == "filled":
        sim.fill(order_id)
    elif state == "cancelled":
        await adapter.cancel(creds_of(account), ref(order_id))
    elif state == "never":
        order_id = str(int(order_id) + 104729)
    with pytest.raises(UnknownOrderAtVenue) as caught:
        await adapter.cancel(creds_of(account), ref(order_id))
    assert caught.value.upstream_status == 400
    snapshot = await adapter.get_order(creds_of(account), ref(order_id))
    expected = {"filled": OrderStatus.success, "cancelled": OrderStatus.cancelled}.get(state)
    assert (snapshot.status if snapshot else None) == expected


async def test_lookup_reads_the_order(sim: IbkrSimulator, adapter: IbkrAdapter) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account, volume="4", price="101.25")
    sim.fill(order_id, "1.5")
    snapshot = await adapter.get_order(creds_of(account), ref(order_id))
    assert snapshot is not None
    assert (snapshot.status, snapshot.amount, snapshot.filled, snapshot.price) == (
        OrderStatus.partiallyFilled, 4.0, 1.5, 101.25,
    )  # fmt: skip
    assert (snapshot.side, snapshot.symbol, snapshot.payment_symbol, snapshot.order_type) == (
        OrderSide.buy, "AAPL", "USD", "limit",
    )  # fmt: skip
    assert snapshot.time_in_force == "goodForDay" and snapshot.created_at


@pytest.mark.parametrize("how", ["expire_session", "drop_bridge"])
async def test_a_gateway_without_a_session_is_unavailable_and_unprocessed(tmp_path: Path, how: str) -> None:
    sim = IbkrSimulator()
    account = sim.new_account()
    order_id, _ = sim.place(account)
    with serve_asgi(sim.app) as url:
        getattr(sim, how)()
        async with gateway_harness(tmp_path, sim, url, base_urls={IBKR: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds_of(account))
            body = {"authToken": token, "type": IBKR.value, "id": order_id, "isCryptocurrency": False}
            resp = await gw.http.post(CANCEL, json=body, headers=headers)
    assert resp.status_code == 502, resp.text
    assert resp.json()["errorType"] == "institutionUnavailable"
    assert "log the gateway in again" in resp.json()["message"]
    assert sim.count(GATEWAY, "status") == 0  # definite: nothing to look up
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_a_tickle_showing_no_session_stops_the_cancel_before_it_is_sent(transport: Transport) -> None:
    sim = IbkrSimulator()
    account = sim.new_account()
    order_id, _ = sim.place(account)
    with serve_asgi(sim.app) as url:
        sim.expire_session()
        with pytest.raises(GatewayError) as caught:
            await IbkrAdapter(SPEC, url, transport).cancel(creds_of(account), ref(order_id))
    assert caught.value.unprocessed and caught.value.error_type is ErrorType.institutionUnavailable
    assert sim.count(account.api_key, "cancel") == 0


async def test_the_penalty_box_is_a_429_for_ten_minutes(transport: Transport) -> None:
    sim = IbkrSimulator(requests_per_second=0)  # every request is over the limit
    account = sim.new_account()
    order_id, _ = sim.place(account)
    with serve_asgi(sim.app) as url:
        adapter = IbkrAdapter(SPEC, url, transport)
        adapter.last_answer = float("inf")  # no tickle: the DELETE alone
        with pytest.raises(GatewayError) as caught:
            await adapter.cancel(creds_of(account), ref(order_id))
    assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, PENALTY_BOX_S)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_an_unconfigured_gateway_is_a_400_naming_the_setting(tmp_path: Path, served) -> None:
    sim, url = served
    account = sim.new_account()
    async with gateway_harness(tmp_path, sim, url, base_urls={}) as gw:  # type: ignore[arg-type]
        headers = await gw.client()
        token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds_of(account))
        body = {"authToken": token, "type": IBKR.value, "id": "1234567890", "isCryptocurrency": False}
        cancel = await gw.http.post(CANCEL, json=body, headers=headers)
        auth = await gw.http.post(
            "/api/v1/authenticate", json={"type": IBKR.value}, headers=headers, params={"userId": "u1"}
        )
    for resp in (cancel, auth):
        assert resp.status_code == 400, resp.text
        envelope = resp.json()
        assert envelope["errorType"] == "cancelNotSupported"
        assert envelope["errorData"]["configure"] == "ORDERGATE_BASE_URL_INTERACTIVE_BROKERS"
        assert "ORDERGATE_BASE_URL_INTERACTIVE_BROKERS" in envelope["message"]


async def test_the_budget_is_per_gateway_not_per_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The budget's clock stands still, so no token comes back while the test runs, however slow the machine.
    monkeypatch.setattr(limits, "time", SimpleNamespace(monotonic=lambda: 1000.0, time=lambda: 1000.0))
    sim = IbkrSimulator()
    accounts = [sim.new_account() for _ in range(2)]
    burst = SPEC.key_budget[1] if SPEC.key_budget else 0
    placed = [(a, sim.place(a)[0]) for a in accounts for _ in range(burst // 2 + 1)]
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IBKR: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            answers = []
            for account, order_id in placed:
                token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds_of(account))
                body = {"authToken": token, "type": IBKR.value, "id": order_id, "isCryptocurrency": False}
                answers.append(await gw.http.post(CANCEL, json=body, headers=headers))
    codes = [a.status_code for a in answers]
    assert codes[:burst] == [200] * burst and 429 in codes[burst:]  # the accounts share the gateway's 10/s
    assert answers[-1].json()["errorData"]["limit"] == "venueBudget"
