"""Kill switch and dead-man's switch (issue 18) against the Kraken, Bybit, Alpaca and OKX simulators."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import request_response

from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials
from ordergate.venues.alpaca.simulator import AlpacaSimulator
from ordergate.venues.bybit.simulator import BybitSimulator
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

ALL = "/api/v1/transactions/cancel/all"
AFTER = "/api/v1/transactions/cancel/after"
T = IntegrationType


@pytest.fixture(scope="module")
def venues(kraken: tuple[KrakenSimulator, str]) -> Iterator[dict[IntegrationType, tuple[SimulatorBase, str]]]:
    bybit, okx, alpaca = BybitSimulator(), OkxSimulator(), AlpacaSimulator()
    with serve_asgi(bybit.app) as bybit_url, serve_asgi(okx.app) as okx_url, serve_asgi(alpaca.app) as alpaca_url:
        yield {
            T.kraken: kraken,
            T.bybit: (bybit, bybit_url),
            T.okx: (okx, okx_url),
            T.alpaca: (alpaca, alpaca_url),
        }


@dataclass
class Kill:
    gw: GatewayHarness
    headers: dict[str, str]
    sims: dict[IntegrationType, Any]

    def token(self, integration: IntegrationType, account: SimAccount) -> str:
        creds = Credentials(integration, account.api_key, account.secret, account.passphrase, dict(account.extras))
        return self.gw.gateway.sealer.seal(self.headers["X-Client-Id"], creds)

    async def post(self, path: str, payload: dict[str, Any], **headers: str) -> Any:
        return await self.gw.http.post(path, json=payload, headers={**self.headers, **headers})

    async def kill(self, integration: IntegrationType, account: SimAccount, **extra: Any) -> dict[str, Any]:
        body = {"authToken": self.token(integration, account), "type": integration.value, **extra}
        resp = await self.post(ALL, body)
        assert resp.status_code == 200, resp.text
        return resp.json()["content"]


@pytest.fixture
async def kill(tmp_path: Path, venues: dict[IntegrationType, tuple[SimulatorBase, str]]) -> AsyncIterator[Kill]:
    kraken_sim, kraken_url = venues[T.kraken]
    base_urls = {integration: url for integration, (_, url) in venues.items()}
    async with gateway_harness(tmp_path, kraken_sim, kraken_url, base_urls=base_urls) as gw:  # type: ignore[arg-type]
        yield Kill(gw, await gw.client(), {integration: sim for integration, (sim, _) in venues.items()})


def _place(sim: Any, integration: IntegrationType, account: SimAccount, *, pair: str = "", side: str = "buy") -> str:
    if integration is T.kraken:
        return sim.place_order(account.api_key, pair=pair or "XBTUSD", side=side)
    if integration is T.bybit:
        return sim.place_order(account.api_key, symbol=pair or "BTCUSDT", side=side.capitalize())
    if integration is T.okx:
        return sim.place_order(account.api_key, inst_id=pair or "BTC-USDT", side=side)
    return sim.place(account)[0]


@pytest.mark.parametrize(
    ("integration", "method", "acked"),
    [
        (T.kraken, "native", "cancelled"),
        (T.bybit, "native", "inProgress"),
        (T.alpaca, "native", "cancelled"),
        (T.okx, "listing", "inProgress"),
    ],
)
async def test_fifty_open_orders_none_left_each_reported(
    kill: Kill, integration: IntegrationType, method: str, acked: str
) -> None:
    sim = kill.sims[integration]
    account, other = sim.new_account(), sim.new_account()
    placed = {_place(sim, integration, account) for _ in range(50)}
    done = _place(sim, integration, account)
    sim.fill(done)  # already final: not an open order, so not touched
    bystander = _place(sim, integration, other)  # another account's order is never touched
    before = sim.count_key(account.api_key)

    content = await kill.kill(integration, account)

    assert content["method"] == method and content["complete"] is True and content["notCancelled"] == []
    results = content["results"]
    assert {item["orderId"] for item in results} == placed and len(results) == 50
    for item in results:
        assert (item["httpStatus"], item["status"], item["content"]["orderId"]) == (200, "ok", item["orderId"])
        assert item["content"]["status"] == acked
    assert content["summary"] == {acked: 50}
    assert all(sim.status(order_id) is OrderStatus.cancelled for order_id in placed)
    assert sim.status(done) is OrderStatus.success and sim.status(bystander) is OrderStatus.inProgress
    rows = [r for r in await kill.gw.gateway.audit.tail(400) if r.endpoint == "transactions/cancel/all"]
    assert sorted(r.order_id for r in rows) == sorted(placed) and len({r.request_id for r in rows}) == 1
    sent = sim.count_key(account.api_key) - before
    assert sum(r.upstream_requests for r in rows) == sent
    native_ops = {T.kraken: ("CancelAll", 3), T.bybit: ("cancel-all", 1), T.alpaca: ("cancel_all", 1)}
    if integration in native_ops:  # Kraken: OpenOrders to name them, CancelAll, one QueryOrders for all 50
        op, requests = native_ops[integration]
        assert (sim.count(account.api_key, op), sent) == (1, requests)
    else:  # one listing page, then one cancel each
        assert sent == 51

    again = await kill.kill(integration, account)  # nothing left open
    assert (again["results"], again["complete"]) == ([], True)


@pytest.mark.parametrize("integration", [T.kraken, T.bybit, T.okx])
async def test_symbol_pair_and_side_filters(kill: Kill, integration: IntegrationType) -> None:
    sim = kill.sims[integration]
    account = sim.new_account()
    pairs = {T.kraken: ("XBTUSD", "ETHUSD"), T.bybit: ("BTCUSDT", "ETHUSDT"), T.okx: ("BTC-USDT", "ETH-USDT")}
    btc, eth = pairs[integration]
    btc_buys = {_place(sim, integration, account, pair=btc) for _ in range(3)}
    btc_sells = {_place(sim, integration, account, pair=btc, side="sell") for _ in range(2)}
    eth_buys = {_place(sim, integration, account, pair=eth) for _ in range(2)}

    content = await kill.kill(integration, account, symbolPair=btc)
    # Kraken's CancelAll cannot filter, so a filtered kill switch lists; Bybit filters by symbol itself.
    assert content["method"] == ("native" if integration is T.bybit else "listing")
    assert {i["orderId"] for i in content["results"]} == btc_buys | btc_sells
    assert all(sim.status(o) is OrderStatus.inProgress for o in eth_buys)

    more_btc = {_place(sim, integration, account, pair=btc) for _ in range(2)}
    eth_sell = _place(sim, integration, account, pair=eth, side="sell")
    content = await kill.kill(integration, account, side="buy")
    assert content["method"] == "listing"  # no venue here filters a cancel-all by side
    assert {i["orderId"] for i in content["results"]} == more_btc | eth_buys
    assert sim.status(eth_sell) is OrderStatus.inProgress

    content = await kill.kill(integration, account, symbolPair=eth, side="sell")
    assert [i["orderId"] for i in content["results"]] == [eth_sell]


async def test_a_fill_racing_the_native_kill_switch_is_reported_not_cancelled(
    kill: Kill, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim: KrakenSimulator = kill.sims[T.kraken]
    account = sim.new_account()
    orders = [_place(sim, T.kraken, account) for _ in range(5)]
    racer = orders[2]
    cancel_all = sim._methods["CancelAll"]

    def fill_first(acct: Any, params: dict[str, str], fault: Any) -> dict[str, Any]:
        sim._fill_locked(sim._orders[racer], None)  # the engine matched it just before CancelAll arrived
        return cancel_all(acct, params, fault)

    monkeypatch.setitem(sim._methods, "CancelAll", fill_first)
    content = await kill.kill(T.kraken, account)

    by_id = {item["orderId"]: item for item in content["results"]}
    assert set(by_id) == set(orders) and content["notCancelled"] == [racer] and content["complete"] is True
    assert (by_id[racer]["httpStatus"], by_id[racer]["errorType"]) == (409, "orderNotCancelable")
    assert by_id[racer]["errorData"]["orderStatus"] == "success"
    assert content["summary"] == {"cancelled": 4, "orderNotCancelable": 1}
    assert content["unnamedCancelled"] == 0


async def test_a_fill_racing_the_listing_kill_switch_is_reported_not_cancelled(
    kill: Kill, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim: OkxSimulator = kill.sims[T.okx]
    account = sim.new_account()
    orders = [_place(sim, T.okx, account) for _ in range(4)]
    racer = orders[1]
    cancel = sim._cancel

    def fill_first(acct: Any, params: dict[str, str], fault: Any) -> Any:
        if params.get("ordId") == racer and sim.status(racer) is OrderStatus.inProgress:
            sim.fill(racer)  # filled between the listing and its cancel
        return cancel(acct, params, fault)

    # The simulator's route holds its cancel handler: swap it there for this test only.
    (route,) = [r for r in sim.app.app.routes if getattr(r, "path", "") == "/api/v5/trade/cancel-order"]
    monkeypatch.setattr(route, "app", request_response(sim._route("cancel-order", fill_first)))
    content = await kill.kill(T.okx, account)

    by_id = {item["orderId"]: item for item in content["results"]}
    assert set(by_id) == set(orders) and content["notCancelled"] == [racer]
    assert (by_id[racer]["httpStatus"], by_id[racer]["errorType"]) == (409, "orderNotCancelable")
    assert by_id[racer]["errorData"]["orderStatus"] == "success"
    assert all(sim.status(o) is OrderStatus.cancelled for o in orders if o != racer)


async def test_dead_man_switch_fires_in_the_kraken_simulator(kill: Kill) -> None:
    sim: KrakenSimulator = kill.sims[T.kraken]
    account = sim.new_account()
    orders = [_place(sim, T.kraken, account) for _ in range(3)]
    token = kill.token(T.kraken, account)

    armed = await kill.post(AFTER, {"authToken": token, "type": "kraken", "timeoutSeconds": 60})
    assert armed.status_code == 200, armed.text
    assert armed.json()["content"]["armed"] is True and armed.json()["content"]["triggerTime"] != "0"
    assert sim.dead_man(account.api_key) is not None
    off = await kill.post(AFTER, {"authToken": token, "type": "kraken", "timeoutSeconds": 0})
    assert off.json()["content"]["triggerTime"] == "0" and sim.dead_man(account.api_key) is None

    resp = await kill.post(AFTER, {"authToken": token, "type": "kraken", "timeoutSeconds": 1})
    assert resp.status_code == 200
    for _ in range(200):  # wait for the event, not for a time: the timer fires inside the simulator
        if all(sim.status(o) is OrderStatus.cancelled for o in orders):
            break
        await asyncio.sleep(0.05)
    assert all(sim.status(o) is OrderStatus.cancelled for o in orders)
    assert sim.dead_man(account.api_key) is None  # disabled until armed again


async def test_dead_man_switch_refused_where_the_venue_has_none(kill: Kill) -> None:
    sim = kill.sims[T.bybit]
    account = sim.new_account()
    before = sim.count_key(account.api_key)
    resp = await kill.post(AFTER, {"authToken": kill.token(T.bybit, account), "type": "bybit", "timeoutSeconds": 60})
    assert resp.status_code == 400 and resp.json()["errorType"] == "cancelAfterNotSupported"
    assert sim.count_key(account.api_key) == before
    bad = await kill.post(AFTER, {"authToken": "x", "type": "kraken", "timeoutSeconds": -1})
    assert bad.status_code == 400 and bad.json()["errorData"]["fields"]["timeoutSeconds"]


async def test_kill_switch_needs_write_scope_and_a_valid_body(kill: Kill) -> None:
    resp = await kill.post(ALL, {"type": "kraken"})
    assert resp.status_code == 400 and resp.json()["errorType"] == "missingField"
    resp = await kill.post(ALL, {"authToken": "x", "type": "kraken", "side": "both"})
    assert resp.status_code == 400 and resp.json()["errorData"]["fields"]["side"]
    resp = await kill.post(ALL, {"authToken": "not-a-token", "type": "kraken"})
    assert resp.status_code == 401 or resp.json()["errorType"] == "invalidAuthToken"
    resp = await kill.gw.http.post(ALL, json={"authToken": "x", "type": "kraken"})
    assert resp.status_code == 401


async def test_python_client_cancel_all(kill: Kill) -> None:
    from ordergate.client import AsyncClient

    sim: KrakenSimulator = kill.sims[T.kraken]
    account = sim.new_account()
    orders = {_place(sim, T.kraken, account) for _ in range(3)}
    transport = kill.gw.http._transport  # the harness's ASGITransport
    async with AsyncClient(
        "http://gateway", kill.headers["X-Client-Id"], kill.headers["X-Client-Secret"], transport=transport
    ) as client:
        content = await client.cancel_all(kill.token(T.kraken, account), "kraken")
    assert {i["orderId"] for i in content["results"]} == orders and content["notCancelled"] == []
    assert all(sim.status(o) is OrderStatus.cancelled for o in orders)


async def test_both_endpoints_are_documented_under_the_extensions_tag(kill: Kill) -> None:
    doc = (await kill.gw.http.get("/openapi.json")).json()
    for path, schema in ((ALL, "CancelAllRequest"), (AFTER, "CancelAfterRequest")):
        op = doc["paths"][path]["post"]
        assert op["tags"] == ["ordergate extensions"]
        assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(schema)
    assert "cancelAfterNotSupported" in str(doc["paths"][AFTER]["post"]["responses"]["400"])
