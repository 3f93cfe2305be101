"""`/transactions/details` and `/transactions/featureList` for Kraken, through the gateway."""

from __future__ import annotations

from ordergate.store.clients import Scope
from ordergate.venues.kraken.constants import split_pair
from tests.conftest import GatewayHarness


async def _details(gw: GatewayHarness, headers: dict, token: str, txid: str):
    body = {"authToken": token, "type": "kraken", "id": txid, "isCryptocurrency": True}
    return await gw.http.post("/api/v1/transactions/details", json=body, headers=headers)


async def test_details_of_open_partial_and_cancelled_orders(gw: GatewayHarness) -> None:
    headers = await gw.client(frozenset({Scope.read}))  # read scope is enough
    key, secret = gw.account()
    token = gw.seal(headers, key, secret)
    txid = gw.sim.place_order(key, pair="XBTUSD", side="sell", volume="2", price="40000")
    resp = await _details(gw, headers, token, txid)
    assert resp.status_code == 200, resp.text
    order = resp.json()["content"]
    assert order["id"] == txid and order["status"] == "inProgress" and order["statusDetails"] == "open"
    assert (order["side"], order["symbol"], order["paymentSymbol"], order["paymentType"]) == (
        "sell",
        "BTC",
        "USD",
        "fiat",
    )
    assert (order["orderType"], order["price"], order["amount"], order["brokerType"]) == (
        "limit",
        40000.0,
        0.0,
        "kraken",
    )
    assert isinstance(order["createdTimestamp"], int) and order["createdTimestamp"] > 1_600_000_000

    gw.sim.fill(txid, "0.5")
    order = (await _details(gw, headers, token, txid)).json()["content"]
    assert (order["status"], order["amount"]) == ("partiallyFilled", 0.5)

    writer = await gw.client()
    wtoken = gw.seal(writer, key, secret)
    assert (await gw.cancel(writer, authToken=wtoken, type="kraken", id=txid, isCryptocurrency=True)).status_code == 200
    order = (await _details(gw, headers, token, txid)).json()["content"]
    assert (order["status"], order["amount"], order["statusDetails"]) == ("cancelled", 0.5, "canceled")


async def test_details_of_filled_and_unknown_orders(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account()
    token = gw.seal(headers, key, secret)
    txid = gw.sim.place_order(key, volume="1")
    gw.sim.fill(txid)
    order = (await _details(gw, headers, token, txid)).json()["content"]
    assert (order["status"], order["amount"]) == ("success", 1.0)
    resp = await _details(gw, headers, token, "OZZZZZ-ZZZZZ-ZZZZZZ")
    assert resp.status_code == 404 and resp.json()["errorType"] == "orderNotFound"


async def test_feature_list(gw: GatewayHarness) -> None:
    headers = await gw.client(frozenset({Scope.read}))
    key, secret = gw.account()
    token = gw.seal(headers, key, secret)
    resp = await gw.http.post(
        "/api/v1/transactions/featureList", json={"authToken": token, "type": "kraken"}, headers=headers
    )
    content = resp.json()["content"]
    assert content["supportsOrderCancellation"] is True and content["isIntegrationUp"] is True
    assert content["isTradingSupported"] is False and content["status"] == "succeeded"
    assert sum(n for (k, _), n in gw.sim.requests.items() if k == key) == 0  # from the registry, no venue call
    bad = await gw.http.post(
        "/api/v1/transactions/featureList", json={"authToken": token, "type": "krakenDirect"}, headers=headers
    )
    assert bad.status_code == 401


def test_split_pair() -> None:
    assert split_pair("XBTUSD") == ("BTC", "USD")
    assert split_pair("XXBTZEUR") == ("BTC", "EUR")
    assert split_pair("ETH/USDT") == ("ETH", "USDT")
    assert split_pair("SOLUSDC") == ("SOL", "USDC")
    assert split_pair("???") == (None, None)
