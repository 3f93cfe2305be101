"""Binance through the gateway's HTTP API (in-process) against the Binance simulator on a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.venues.binance.simulator import BinanceSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

CANCEL_PATH = "/api/v1/transactions/cancel"

TYPES = [IntegrationType.binanceInternational, IntegrationType.binanceInternationalDirect, IntegrationType.binanceUs]


@pytest.fixture(scope="module")
def binance() -> Iterator[tuple[BinanceSimulator, str]]:
    sim = BinanceSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def gw(tmp_path: Path, binance: tuple[BinanceSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = binance
    async with gateway_harness(tmp_path, sim, url, base_urls=dict.fromkeys(TYPES, url)) as harness:  # type: ignore[arg-type]
        yield harness


class Scene:
    def __init__(self, gw: GatewayHarness, headers: dict[str, str], integration: IntegrationType) -> None:
        self.gw, self.headers, self.integration = gw, headers, integration
        self.sim: BinanceSimulator = gw.sim  # type: ignore[assignment]
        self.account: SimAccount = self.sim.new_account()
        self.token = gw.seal(headers, self.account.api_key, self.account.secret, integration)

    def place(self) -> str:
        return str(self.sim.place_order(self.account.api_key))

    async def cancel(self, order_id: str, **extra: object) -> httpx.Response:
        body = {"authToken": self.token, "type": self.integration.value, "id": order_id, "isCryptocurrency": True}
        return await self.gw.cancel(self.headers, **{**body, **extra})


@pytest.fixture(params=TYPES, ids=[t.value for t in TYPES])
async def scene(request: pytest.FixtureRequest, gw: GatewayHarness) -> Scene:
    return Scene(gw, await gw.client(), request.param)


async def test_cancel_ok_with_one_upstream_request(scene: Scene) -> None:
    order_id = scene.place()
    resp = await scene.cancel(order_id, symbolPair="BTC/USDT")
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": order_id, "status": "cancelled"}
    assert scene.sim.status(order_id).value == "cancelled"
    assert scene.sim.count_key(scene.account.api_key) == 1


async def test_missing_symbol_pair_is_400_before_any_upstream_call(scene: Scene) -> None:
    resp = await scene.cancel(scene.place())
    assert resp.status_code == 400
    body = resp.json()
    assert (body["errorType"], list(body["errorData"]["fields"])) == ("missingField", ["symbolPair"])
    assert scene.sim.count_key(scene.account.api_key) == 0


async def test_filled_order_is_409_success_after_a_lookup(scene: Scene) -> None:
    order_id = scene.place()
    scene.sim.fill(order_id)
    resp = await scene.cancel(order_id, symbolPair="BTCUSDT")
    assert resp.status_code == 409
    assert (resp.json()["errorType"], resp.json()["errorData"]["orderStatus"]) == ("orderNotCancelable", "success")
    key = scene.account.api_key
    assert (scene.sim.count(key, "cancel"), scene.sim.count(key, "query")) == (1, 1)


async def test_unknown_order_is_404_after_a_lookup(scene: Scene) -> None:
    resp = await scene.cancel("424242", symbolPair="btc-usdt")
    assert resp.status_code == 404, resp.text
    assert resp.json()["errorType"] == "orderNotFound"


async def test_non_numeric_id_and_bad_symbol_are_400_naming_the_field(scene: Scene) -> None:
    bad_id = await scene.cancel("O-ABC", symbolPair="BTCUSDT")
    bad_pair = await scene.cancel(scene.place(), symbolPair="BTC/USDT/EUR")
    for resp, field in ((bad_id, "id"), (bad_pair, "symbolPair")):
        assert (resp.status_code, resp.json()["errorType"]) == (400, "invalidField")
        assert list(resp.json()["errorData"]["fields"]) == [field]
    assert scene.sim.count_key(scene.account.api_key) == 0


async def test_symbol_binance_does_not_list_is_400_institution_rejected(scene: Scene) -> None:
    resp = await scene.cancel(scene.place(), symbolPair="DOGE/EUR")
    assert (resp.status_code, resp.json()["errorType"]) == (400, "institutionRejected")
    assert list(resp.json()["errorData"]["fields"]) == ["symbolPair"]


async def test_details_show_a_partial_fill(scene: Scene) -> None:
    order_id = scene.place()
    scene.sim.fill(order_id, "0.25")
    body = {"authToken": scene.token, "type": scene.integration.value, "id": order_id, "isCryptocurrency": True}
    resp = await scene.gw.http.post(
        "/api/v1/transactions/details", json={**body, "symbolPair": "BTCUSDT"}, headers=scene.headers
    )
    assert resp.status_code == 200, resp.text
    order = resp.json()["content"]
    assert (order["status"], order["amount"], order["symbol"], order["paymentSymbol"]) == (
        "partiallyFilled",
        0.25,
        "BTC",
        "USDT",
    )
    assert (order["side"], order["orderType"], order["timeInForce"], order["price"]) == (
        "buy",
        "limit",
        "goodTillCanceled",
        100.0,
    )


@pytest.mark.parametrize("integration", TYPES, ids=[t.value for t in TYPES])
async def test_authenticate_then_cancel_with_the_returned_token(
    gw: GatewayHarness, integration: IntegrationType
) -> None:
    sim: BinanceSimulator = gw.sim  # type: ignore[assignment]
    headers = await gw.client()
    account = sim.new_account()
    body = {"type": integration.value, "username": account.api_key, "password": account.secret}
    resp = await gw.http.post("/api/v1/authenticate", json=body, headers=headers, params={"userId": "u-1"})
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    assert content["status"] == "succeeded"
    name = "Binance.US" if integration is IntegrationType.binanceUs else "Binance"
    assert content["accountTokens"][0]["account"]["accountName"] == name
    assert account.api_key not in resp.text and account.secret not in resp.text
    assert sim.count(account.api_key, "account") == 1

    order_id = str(sim.place_order(account.api_key))
    token = content["accountTokens"][0]["accessToken"]
    cancel = await gw.cancel(
        headers, authToken=token, type=integration.value, id=order_id, isCryptocurrency=True, symbolPair="BTCUSDT"
    )
    assert cancel.json()["content"] == {"orderId": order_id, "status": "cancelled"}

    wrong = {**body, "password": sim.new_account().secret}
    rejected = await gw.http.post("/api/v1/authenticate", json=wrong, headers=headers, params={"userId": "u-1"})
    assert (rejected.status_code, rejected.json()["errorType"]) == (401, "institutionAuthFailed")


async def test_key_without_trade_permission_is_403(gw: GatewayHarness) -> None:
    sim: BinanceSimulator = gw.sim  # type: ignore[assignment]
    headers = await gw.client()
    account = sim.new_account(can_trade=False)
    token = gw.seal(headers, account.api_key, account.secret, IntegrationType.binanceInternational)
    order_id = str(sim.place_order(account.api_key))
    resp = await gw.cancel(
        headers, authToken=token, type="binanceInternational", id=order_id, isCryptocurrency=True, symbolPair="BTCUSDT"
    )
    assert (resp.status_code, resp.json()["errorType"]) == (403, "institutionPermissionDenied")
    assert sim.status(order_id).value == "inProgress"


async def test_dropped_connection_after_binance_cancelled_is_ok(scene: Scene) -> None:
    # Binance did cancel; the answer was lost. The lookup shows it cancelled: 200, from exactly one DELETE (a resent
    # DELETE would get -2011 and turn this into a 409 for an order our own request cancelled).
    order_id = scene.place()
    scene.sim.inject(Fault("reset", "cancel", api_key=scene.account.api_key, process=True))
    resp = await scene.cancel(order_id, symbolPair="BTCUSDT")
    assert resp.status_code == 200, resp.text
    assert scene.sim.count(scene.account.api_key, "cancel") == 1


async def test_binance_ip_ban_holds_back_every_key(tmp_path: Path) -> None:
    """418 is an IP ban: after it, no key is sent from this gateway until Retry-After passes."""
    sim = BinanceSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.binanceInternational: url}) as gw:
            headers = await gw.client()
            first, second = sim.new_account(), sim.new_account()
            sim.inject(Fault("venue_error", "cancel", api_key=first.api_key, error="ban"))
            answers = []
            for account in (first, second):
                order_id, extra = sim.place(account)
                token = gw.gateway.sealer.seal(
                    headers["X-Client-Id"],
                    Credentials(IntegrationType.binanceInternational, account.api_key, account.secret),
                )
                body = {"authToken": token, "type": "binanceInternational", "id": order_id, "isCryptocurrency": True}
                answers.append(await gw.http.post(CANCEL_PATH, json={**body, **extra}, headers=headers))
            assert [a.status_code for a in answers] == [423, 423]
            assert answers[1].json()["errorData"] == {"limit": "venue"}
            assert sim.count_key(second.api_key) == 0
