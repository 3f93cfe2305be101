"""The official OKX SDK (python-okx) against the simulator over real HTTP.

python-okx shares no code with ordergate, so when it signs, places, looks up and cancels successfully, the
simulator speaks OKX's protocol rather than ordergate's idea of it; and what it gets refused with must be OKX's
codes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from okx import Account, Trade
from okx import utils as okx_utils

from ordergate.venues.okx.auth import timestamp
from ordergate.venues.okx.constants import CODE_INFO
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.simkit import Fault
from tests.support.servers import serve_asgi

# python-okx posts its JSON with httpx's `data=`, which httpx deprecates; that is the SDK's business.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[OkxSimulator, str]]:
    sim = OkxSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def trade_api(url: str, key: str, secret: str, passphrase: str, flag: str = "0") -> Trade.TradeAPI:
    return Trade.TradeAPI(key, secret, passphrase, flag=flag, domain=url)


def test_sdk_places_gets_and_cancels(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    api = trade_api(url, *sim.new_credentials())

    placed = api.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="0.5", px="25000")
    assert placed["code"] == "0", placed
    ord_id = placed["data"][0]["ordId"]
    assert (placed["data"][0]["sCode"], ord_id.isdigit()) == ("0", True)

    got = api.get_order(instId="BTC-USDT", ordId=ord_id)
    assert got["code"] == "0"
    assert {k: got["data"][0][k] for k in ("state", "sz", "px", "side", "accFillSz")} == {
        "state": "live",
        "sz": "0.5",
        "px": "25000",
        "side": "buy",
        "accFillSz": "0",
    }

    cancelled = api.cancel_order(instId="BTC-USDT", ordId=ord_id)
    assert (cancelled["code"], cancelled["data"][0]["sCode"], cancelled["data"][0]["ordId"]) == ("0", "0", ord_id)
    assert api.get_order(instId="BTC-USDT", ordId=ord_id)["data"][0]["state"] == "canceled"

    again = api.cancel_order(instId="BTC-USDT", ordId=ord_id)
    assert (again["code"], again["msg"]) == ("1", "All operations failed")
    assert again["data"][0]["sCode"] == "51400"
    assert again["data"][0]["sMsg"].startswith("Order cancellation failed as the order has been filled")


def test_client_order_ids_fills_and_unknown_orders(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    key, secret, passphrase = sim.new_credentials()
    api = trade_api(url, key, secret, passphrase)
    other = sim.place_order(sim.new_credentials()[0])

    placed = api.place_order(
        instId="ETH-USDT", tdMode="cash", clOrdId="mine1", side="sell", ordType="limit", sz="2", px="2000"
    )
    ord_id = placed["data"][0]["ordId"]
    sim.fill(ord_id, "0.5")
    by_client = api.get_order(instId="ETH-USDT", clOrdId="mine1")["data"][0]
    assert (by_client["ordId"], by_client["state"], by_client["accFillSz"], by_client["avgPx"]) == (
        ord_id,
        "partially_filled",
        "0.5",
        "2000",
    )
    assert api.cancel_order(instId="ETH-USDT", clOrdId="mine1")["data"][0]["sCode"] == "0"
    assert sim.describe(ord_id)["state"] == "canceled"

    for inst, oid in (("BTC-USDT", "777777777777777777"), ("BTC-USDT", other), ("ETH-USDT", ord_id + "1")):
        assert api.get_order(instId=inst, ordId=oid) == {"code": "51603", "msg": "Order does not exist.", "data": []}
        assert api.cancel_order(instId=inst, ordId=oid)["data"][0]["sCode"] == "51400"
    assert sim.describe(other)["state"] == "live"

    market = api.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="market", sz="1", tgtCcy="base_ccy")
    assert api.get_order(instId="BTC-USDT", ordId=market["data"][0]["ordId"])["data"][0]["state"] == "filled"


def test_account_config_and_a_key_without_trade_permission(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    key, secret, passphrase = sim.new_credentials(can_trade=False)
    config = Account.AccountAPI(key, secret, passphrase, flag="0", domain=url).get_account_config()
    assert config["code"] == "0" and config["data"][0]["perm"] == "read_only"
    assert config["data"][0]["uid"].isdigit()
    refused = trade_api(url, key, secret, passphrase).cancel_order(instId="BTC-USDT", ordId=sim.place_order(key))
    assert refused["code"] == "50120"


def test_tampered_signature_is_50113(served: tuple[OkxSimulator, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sim, url = served
    key, secret, passphrase = sim.new_credentials()
    ord_id = sim.place_order(key)
    real_sign = okx_utils.sign

    def tampered(message: str, secret_key: str) -> bytes:
        good = real_sign(message, secret_key)
        return (b"A" if good[:1] != b"A" else b"B") + good[1:]

    monkeypatch.setattr(okx_utils, "sign", tampered)
    answer = trade_api(url, key, secret, passphrase).cancel_order(instId="BTC-USDT", ordId=ord_id)
    assert answer == {"code": "50113", "msg": "Invalid signature.", "data": []}
    assert sim.describe(ord_id)["state"] == "live"
    with httpx.Client() as http:  # the status is OKX's too, not only the body
        response = http.post(f"{url}/api/v5/trade/cancel-order", json={}, headers={"OK-ACCESS-KEY": key})
    assert (response.status_code, response.json()["code"]) == (401, "50104")


def test_stale_timestamp_is_50102(served: tuple[OkxSimulator, str], monkeypatch: pytest.MonkeyPatch) -> None:
    sim, url = served
    key, secret, passphrase = sim.new_credentials()
    ord_id = sim.place_order(key)
    stale = timestamp(time.time_ns() // 1_000_000 - 31_000)
    # The SDK reads the clock through okx.utils.get_timestamp, so a stale clock is a stale signed request.
    monkeypatch.setattr(okx_utils, "get_timestamp", lambda: stale)
    answer = trade_api(url, key, secret, passphrase).cancel_order(instId="BTC-USDT", ordId=ord_id)
    assert answer["code"] == "50102"
    for unreadable in ("2023-11-14 22:13:20", "2023-13-14T22:13:20.000Z"):
        monkeypatch.setattr(okx_utils, "get_timestamp", lambda text=unreadable: text)
        assert trade_api(url, key, secret, passphrase).cancel_order(instId="BTC-USDT", ordId=ord_id)["code"] == "50112"
    assert sim.describe(ord_id)["state"] == "live"


def test_wrong_passphrase_and_unknown_key(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    key, secret, passphrase = sim.new_credentials()
    ord_id = sim.place_order(key)
    assert trade_api(url, key, secret, passphrase + "x").cancel_order(instId="BTC-USDT", ordId=ord_id)["code"] == (
        "50105"
    )
    assert trade_api(url, "no-such-key", secret, passphrase).cancel_order(instId="BTC-USDT", ordId=ord_id)["code"] == (
        "50111"
    )
    assert sim.describe(ord_id)["state"] == "live"


def test_demo_trading_header_selects_the_environment(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    demo = sim.new_credentials(demo=True)
    live = sim.new_credentials()
    # python-okx sends x-simulated-trading: <flag> on every request; "1" is demo trading.
    placed = trade_api(url, *demo, flag="1").place_order(
        instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="1", px="1"
    )
    assert placed["code"] == "0"
    assert sim.seen[-1].demo
    assert trade_api(url, *demo, flag="0").get_order(instId="BTC-USDT", ordId=placed["data"][0]["ordId"])["code"] == (
        "50101"
    )
    assert trade_api(url, *live, flag="1").get_order(instId="BTC-USDT", ordId="1")["code"] == "50101"
    cancelled = trade_api(url, *demo, flag="1").cancel_order(instId="BTC-USDT", ordId=placed["data"][0]["ordId"])
    assert cancelled["data"][0]["sCode"] == "0"


def test_injected_faults_and_pending_cancels(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    key, secret, passphrase = sim.new_credentials()
    api = trade_api(url, key, secret, passphrase)
    ord_id = sim.place_order(key)
    for error, body in (
        ("rate_limit", {"code": "50011", "msg": "Too Many Requests", "data": []}),
        ("50004", {"code": "50004", "msg": CODE_INFO["50004"][1], "data": []}),
    ):
        sim.inject(Fault("venue_error", "cancel-order", api_key=key, error=error))
        assert api.cancel_order(instId="BTC-USDT", ordId=ord_id) == body
    sim.inject(Fault("venue_error", "cancel-order", api_key=key, error="51024:trading is unavailable in your region"))
    restricted = api.cancel_order(instId="BTC-USDT", ordId=ord_id)
    assert (restricted["code"], restricted["data"][0]["sCode"]) == ("1", "51024")
    assert restricted["data"][0]["sMsg"] == "trading is unavailable in your region"
    assert sim.describe(ord_id)["state"] == "live"

    sim.inject(Fault("pending", "cancel-order", api_key=key, seconds=30))
    assert api.cancel_order(instId="BTC-USDT", ordId=ord_id)["data"][0]["sCode"] == "0"
    assert sim.describe(ord_id)["state"] == "live"  # accepted, not yet done: what sCode "0" promises
    assert sim.count(key, "cancel-order") == 4


def test_control_surface_over_plain_http(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    with httpx.Client(base_url=url) as http:
        account = http.post("/_control/accounts", json={"demo": True}).json()
        assert set(account) == {"apiKey", "secret", "passphrase"}
        placed = http.post("/_control/orders", json={"apiKey": account["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {"symbolPair": "BTC-USDT"}
        assert placed["order"]["state"] == "live"
        partial = http.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["state"], partial["accFillSz"]) == ("partially_filled", "0.5")
        assert http.get("/_control/orders/1").status_code == 404
        assert http.get("/api/v5/public/time").json()["data"][0]["ts"].isdigit()
    demo_api = trade_api(url, account["apiKey"], account["secret"], account["passphrase"], flag="1")
    assert demo_api.cancel_order(instId="BTC-USDT", ordId=placed["orderId"])["data"][0]["sCode"] == "0"


def test_sdk_lists_pending_orders_and_history_page_by_page(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    api = trade_api(url, *sim.new_credentials())
    placed = [
        api.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="1", px=str(20000 + i))[
            "data"
        ][0]["ordId"]
        for i in range(3)
    ]
    api.cancel_order(instId="BTC-USDT", ordId=placed[0])

    first = api.get_order_list(instType="SPOT", limit="1")
    assert (first["code"], [o["ordId"] for o in first["data"]]) == ("0", [placed[2]])
    second = api.get_order_list(instType="SPOT", after=placed[2], limit="1")
    assert [o["ordId"] for o in second["data"]] == [placed[1]]
    assert api.get_order_list(instType="SPOT", after=placed[1])["data"] == []
    assert api.get_order_list(instType="SPOT", state="partially_filled")["data"] == []

    history = api.get_orders_history(instType="SPOT")
    assert [(o["ordId"], o["state"]) for o in history["data"]] == [(placed[0], "canceled")]
    assert api.get_orders_history(instType="SPOT", state="filled")["data"] == []
    assert api.get_orders_history(instType="SPOT", begin=str(int(time.time() * 1000) + 60_000))["data"] == []
    bad = api.get_orders_history(instType="SPOT", limit="101")
    assert (bad["code"], bad["msg"]) == ("51000", "Parameter limit error")


def test_sdk_cancels_a_batch_with_an_answer_per_order(served: tuple[OkxSimulator, str]) -> None:
    sim, url = served
    key, secret, passphrase = sim.new_credentials()
    api = trade_api(url, key, secret, passphrase)
    ids = [
        api.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="0.1", px=str(20000 + i))[
            "data"
        ][0]["ordId"]
        for i in range(3)
    ]
    done = api.cancel_multiple_orders([{"instId": "BTC-USDT", "ordId": i} for i in ids])
    assert (done["code"], [(d["ordId"], d["sCode"]) for d in done["data"]]) == ("0", [(i, "0") for i in ids])

    fresh = api.place_order(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="0.1", px="19000")
    fresh_id = fresh["data"][0]["ordId"]
    mixed = api.cancel_multiple_orders([{"instId": "BTC-USDT", "ordId": i} for i in (ids[0], fresh_id, "123")])
    assert (mixed["code"], mixed["msg"]) == ("2", "Bulk operation partially succeeded")
    assert [(d["ordId"], d["sCode"]) for d in mixed["data"]] == [(ids[0], "51400"), (fresh_id, "0"), ("123", "51400")]
    too_many = api.cancel_multiple_orders([{"instId": "BTC-USDT", "ordId": str(n)} for n in range(21)])
    assert too_many["code"] == "51000"
    assert sim.count(key, "cancel-batch-orders") == 3
