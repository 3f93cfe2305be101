"""KuCoin's official SDK (kucoin-universal-sdk) against the simulator over real HTTP.

The SDK shares no code with ordergate, signs as KuCoin documents (key version 3 header, orderId repeated in the
query of its DELETEs), so when it places, gets and cancels orders here the simulator speaks KuCoin's protocol
rather than ordergate's idea of it; and what it gets refused with are KuCoin's own codes. The SDK's account and
order API implementations run on its own DefaultTransport; its `DefaultClient` would only add importing every
other service (about ten seconds of pydantic models on this machine).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kucoin_universal_sdk.generate.account.account.api_account import AccountAPIImpl
from kucoin_universal_sdk.generate.spot.order.api_order import OrderAPIImpl
from kucoin_universal_sdk.generate.spot.order.model_add_order_old_req import AddOrderOldReq, AddOrderOldReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_add_order_req import AddOrderReq, AddOrderReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_batch_cancel_order_old_req import BatchCancelOrderOldReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_cancel_all_orders_by_symbol_req import (
    CancelAllOrdersBySymbolReqBuilder,
)
from kucoin_universal_sdk.generate.spot.order.model_cancel_order_by_order_id_old_req import (
    CancelOrderByOrderIdOldReqBuilder,
)
from kucoin_universal_sdk.generate.spot.order.model_cancel_order_by_order_id_req import CancelOrderByOrderIdReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_get_closed_orders_req import GetClosedOrdersReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_get_open_orders_req import GetOpenOrdersReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_get_order_by_order_id_old_req import GetOrderByOrderIdOldReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_get_order_by_order_id_req import GetOrderByOrderIdReqBuilder
from kucoin_universal_sdk.generate.spot.order.model_get_orders_list_old_req import (
    GetOrdersListOldReq,
    GetOrdersListOldReqBuilder,
)
from kucoin_universal_sdk.generate.version import sdk_version
from kucoin_universal_sdk.internal.infra import default_signer
from kucoin_universal_sdk.internal.infra.default_transport import DefaultTransport
from kucoin_universal_sdk.model.client_option import ClientOptionBuilder
from kucoin_universal_sdk.model.common import RestError
from kucoin_universal_sdk.model.transport_option import Interceptor, TransportOptionBuilder

from ordergate.venues.kucoin.simulator import KucoinSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[KucoinSimulator, str]]:
    sim = KucoinSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


class _TamperSignature(Interceptor):
    def before(self, req: Any) -> Any:
        good = req.headers["KC-API-SIGN"]
        req.headers["KC-API-SIGN"] = ("A" if good[0] != "A" else "B") + good[1:]
        return req

    def after(self, req: Any, resp: Any, err: Any) -> Any:
        return resp


class Client:
    def __init__(self, transport: DefaultTransport) -> None:
        self.orders, self.account = OrderAPIImpl(transport), AccountAPIImpl(transport)


def client(url: str, account: SimAccount, *, passphrase: str | None = None, interceptors: list | None = None) -> Client:
    transport = TransportOptionBuilder().set_max_retries(0).set_read_timeout(5).set_interceptors(interceptors or [])
    option = (
        ClientOptionBuilder()
        .set_key(account.api_key)
        .set_secret(account.secret)
        .set_passphrase(passphrase if passphrase is not None else account.passphrase or "")
        .set_spot_endpoint(url)
        .set_futures_endpoint(url)
        .set_broker_endpoint(url)
        .set_transport_option(transport.build())
        .build()
    )
    return Client(DefaultTransport(option, sdk_version))


def _limit(builder: Any, enum: Any, side: str, price: str, size: str) -> Any:
    return (
        builder.set_symbol("BTC-USDT")
        .set_side(enum.SideEnum(side))
        .set_type(enum.TypeEnum.LIMIT)
        .set_price(price)
        .set_size(size)
        .build()
    )


def test_hf_account_places_gets_and_cancels(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    account = sim.new_credentials(hf=True)
    rest = client(url, account)
    assert rest.account.get_spot_account_type().data is True
    orders = rest.orders

    placed = orders.add_order(_limit(AddOrderReqBuilder(), AddOrderReq, "buy", "25000", "0.5"))
    assert placed.common_response.rate_limit.remaining < placed.common_response.rate_limit.limit
    got = orders.get_order_by_order_id(
        GetOrderByOrderIdReqBuilder().set_symbol("BTC-USDT").set_order_id(placed.order_id).build()
    )
    assert (got.id, got.active, got.size, got.deal_size, got.side.value) == (placed.order_id, True, "0.5", "0", "buy")

    cancel = CancelOrderByOrderIdReqBuilder().set_symbol("BTC-USDT").set_order_id(placed.order_id).build()
    assert orders.cancel_order_by_order_id(cancel).order_id == placed.order_id
    done = orders.get_order_by_order_id(
        GetOrderByOrderIdReqBuilder().set_symbol("BTC-USDT").set_order_id(placed.order_id).build()
    )
    assert (done.active, done.cancel_exist, done.cancelled_size) == (False, True, "0.5")
    with pytest.raises(RestError) as again:
        orders.cancel_order_by_order_id(cancel)
    assert again.value.get_common_response().code == "400100"
    # The official SDK repeats orderId in the query of its DELETE; KuCoin signs and ignores it.
    assert sim.seen[-1].endpoint.endswith(f"?orderId={placed.order_id}&symbol=BTC-USDT")
    assert sim.seen[-1].key_version == "3"


def test_classic_account_places_gets_and_cancels(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    account = sim.new_credentials(hf=False)
    rest = client(url, account)
    assert rest.account.get_spot_account_type().data is False
    assert rest.account.get_apikey_info().permission == "General,Spot"
    orders = rest.orders

    placed = orders.add_order_old(_limit(AddOrderOldReqBuilder(), AddOrderOldReq, "sell", "31000", "2"))
    sim.fill(placed.order_id, "0.5")
    got = orders.get_order_by_order_id_old(GetOrderByOrderIdOldReqBuilder().set_order_id(placed.order_id).build())
    assert (got.is_active, got.deal_size, got.deal_funds, got.cancel_exist) == (True, "0.5", "15500.0", False)

    cancel = CancelOrderByOrderIdOldReqBuilder().set_order_id(placed.order_id).build()
    assert orders.cancel_order_by_order_id_old(cancel).cancelled_order_ids == [placed.order_id]
    with pytest.raises(RestError) as again:
        orders.cancel_order_by_order_id_old(cancel)
    assert (again.value.get_common_response().code, again.value.get_common_response().message) == (
        "400100",
        "order_not_exist_or_not_allow_to_cancel",
    )
    done = orders.get_order_by_order_id_old(GetOrderByOrderIdOldReqBuilder().set_order_id(placed.order_id).build())
    assert (done.is_active, done.cancel_exist, done.deal_size) == (False, True, "0.5")


def test_filled_foreign_and_unknown_orders_are_all_400100(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_credentials(hf=False), sim.new_credentials(hf=False)
    filled, foreign = sim.place_order(account.api_key), sim.place_order(other.api_key)
    sim.fill(filled)
    orders = client(url, account).orders
    for order_id in (filled, foreign, "5bd6e9286d99522a52e458de"):
        with pytest.raises(RestError) as refused:
            orders.cancel_order_by_order_id_old(CancelOrderByOrderIdOldReqBuilder().set_order_id(order_id).build())
        assert refused.value.get_common_response().code == "400100"
    with pytest.raises(RestError) as lookup:
        orders.get_order_by_order_id_old(GetOrderByOrderIdOldReqBuilder().set_order_id(foreign).build())
    assert lookup.value.get_common_response().message == "order not exist."
    assert sim.describe(foreign)["isActive"] is True
    assert sim.describe(filled)["dealSize"] == "1"


def _refusal(call: Any) -> str:
    with pytest.raises(RestError) as caught:
        call()
    return str(caught.value)


def test_tampered_signature_stale_timestamp_and_wrong_passphrase_are_refused(
    served: tuple[KucoinSimulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sim, url = served
    account = sim.new_credentials()

    def account_type(rest: Any) -> Any:
        return lambda: rest.account.get_spot_account_type()

    tampered = _refusal(account_type(client(url, account, interceptors=[_TamperSignature()])))
    assert "Invalid status code: 401" in tampered and '"code":"400005"' in tampered
    wrong_passphrase = _refusal(account_type(client(url, account, passphrase="not-the-passphrase")))
    assert '"code":"400004"' in wrong_passphrase

    # The SDK reads the clock when it signs: ten seconds behind is outside KuCoin's 5 s window.
    real = time.time
    monkeypatch.setattr(default_signer.time, "time", lambda: real() - 10)
    stale = _refusal(account_type(client(url, account)))
    assert '"code":"400002"' in stale
    monkeypatch.undo()
    assert account_type(client(url, account))().data is False
    assert [r.error for r in list(sim.seen)[-4:]] == ["400005", "400004", "400002", None]


def test_key_without_trade_permission_and_unknown_key(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    reader = sim.new_credentials(can_trade=False)
    order_id = sim.place_order(reader.api_key)
    orders = client(url, reader).orders
    cancel = CancelOrderByOrderIdOldReqBuilder().set_order_id(order_id).build()
    assert '"code":"400007"' in _refusal(lambda: orders.cancel_order_by_order_id_old(cancel))
    assert orders.get_order_by_order_id_old(GetOrderByOrderIdOldReqBuilder().set_order_id(order_id).build()).is_active
    stranger = SimAccount("no-such-key", reader.secret, reader.passphrase)
    rest = client(url, stranger)
    assert '"code":"400003"' in _refusal(lambda: rest.account.get_spot_account_type())


def test_a_used_up_pool_answers_429000_with_the_reset_countdown(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    sim.quotas["spot"] = 60  # two account-type checks (weight 30 each) use up the new account's pool
    try:
        account = sim.new_credentials()
        api = client(url, account).account
        assert api.get_spot_account_type().common_response.rate_limit.remaining == 30
        assert api.get_spot_account_type().common_response.rate_limit.remaining == 0
        refused = _refusal(api.get_spot_account_type)
        assert "Invalid status code: 429" in refused and '"code":"429000"' in refused
        with httpx.Client(base_url=url) as http:  # the headers, which the SDK does not surface on errors
            response = http.get("/api/v1/hf/accounts/opened", headers=_signed(account, "/api/v1/hf/accounts/opened"))
    finally:
        sim.quotas["spot"] = 4000
    assert response.status_code == 429 and response.json()["code"] == "429000"
    assert response.headers["gw-ratelimit-remaining"] == "0"
    assert 0 < int(response.headers["gw-ratelimit-reset"]) <= 30_000


def _signed(account: SimAccount, endpoint: str) -> dict[str, str]:
    signer = default_signer.KcSigner(account.api_key, account.secret, account.passphrase or "")
    return signer.headers("GET" + endpoint)


def test_injected_venue_errors_use_kucoins_bodies(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    account = sim.new_credentials()
    cases = {"rate_limit": (429, "429000"), "ban": (403, "411100"), "restricted": (403, "400301")}
    with httpx.Client(base_url=url) as http:
        for symbolic, (status, code) in cases.items():
            sim.inject(Fault("venue_error", "hf_account_type", api_key=account.api_key, error=symbolic))
            response = http.get("/api/v1/hf/accounts/opened", headers=_signed(account, "/api/v1/hf/accounts/opened"))
            assert (response.status_code, response.json()["code"]) == (status, code)
        assert response.json()["msg"] == "Operation restricted due to local laws, regulations, or policies"
        assert http.get("/api/v1/timestamp").json()["code"] == "200000"


def test_control_surface_over_plain_http(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    with httpx.Client(base_url=url) as http:
        made = http.post("/_control/accounts", json={"hf": True}).json()
        assert set(made) == {"apiKey", "secret", "passphrase", "hf"} and made["hf"] is True
        placed = http.post("/_control/orders", json={"apiKey": made["apiKey"], "volume": "2", "symbol": "ETH-USDT"})
        order_id = placed.json()["orderId"]
        assert placed.json()["cancelFields"] == {"symbolPair": "ETH-USDT"}
        assert (
            http.post(f"/_control/orders/{order_id}/fill", json={"volume": "0.5"}).json()["order"]["dealSize"] == "0.5"
        )
        assert http.get(f"/_control/orders/{order_id}").json()["order"]["active"] is True
        assert http.get("/_control/orders/ffffffffffffffffffffffff").status_code == 404
    rest = client(url, SimAccount(made["apiKey"], made["secret"], made["passphrase"]))
    got = rest.orders.get_order_by_order_id(
        GetOrderByOrderIdReqBuilder().set_symbol("ETH-USDT").set_order_id(order_id).build()
    )
    assert (got.deal_size, got.remain_size) == ("0.5", "1.5")


def test_official_sdk_lists_hf_orders_by_last_id(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    orders = client(url, sim.new_credentials(hf=True)).orders
    placed = [orders.add_order(_limit(AddOrderReqBuilder(), AddOrderReq, "buy", str(20000 + i), "1")) for i in range(4)]
    for done in placed[:3]:
        cancel = CancelOrderByOrderIdReqBuilder().set_symbol("BTC-USDT").set_order_id(done.order_id).build()
        orders.cancel_order_by_order_id(cancel)

    active = orders.get_open_orders(GetOpenOrdersReqBuilder().set_symbol("BTC-USDT").build())
    assert [o.id for o in active.data] == [placed[3].order_id]
    first = orders.get_closed_orders(GetClosedOrdersReqBuilder().set_symbol("BTC-USDT").set_limit(2).build())
    assert [o.id for o in first.items] == [placed[2].order_id, placed[1].order_id]
    rest = orders.get_closed_orders(
        GetClosedOrdersReqBuilder().set_symbol("BTC-USDT").set_limit(2).set_last_id(first.last_id).build()
    )
    assert [o.id for o in rest.items] == [placed[0].order_id]
    assert all(o.cancel_exist and not o.active for o in first.items + rest.items)


def test_official_sdk_lists_classic_orders_by_page(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    orders = client(url, sim.new_credentials(hf=False)).orders
    placed = [
        orders.add_order_old(_limit(AddOrderOldReqBuilder(), AddOrderOldReq, "sell", str(30000 + i), "1"))
        for i in range(12)
    ]
    sim.fill(placed[0].order_id)
    status = GetOrdersListOldReq.StatusEnum
    active = orders.get_orders_list_old(
        GetOrdersListOldReqBuilder().set_status(status.ACTIVE).set_page_size(10).set_current_page(2).build()
    )
    assert (active.total_num, active.total_page, active.current_page, len(active.items)) == (11, 2, 2, 1)
    done = orders.get_orders_list_old(GetOrdersListOldReqBuilder().set_status(status.DONE).build())
    assert ([o.id for o in done.items], done.items[0].is_active) == ([placed[0].order_id], False)
    with pytest.raises(RestError) as caught:
        orders.get_orders_list_old(GetOrdersListOldReqBuilder().set_page_size(5).build())
    assert caught.value.get_common_response().code == "400100"


def test_official_sdk_cancels_all_hf_orders_by_symbol_and_everywhere(served: tuple[KucoinSimulator, str]) -> None:
    """The kill switch's HF requests, sent by the SDK: open-order symbols, cancel-all of one symbol, of all."""
    sim, url = served
    account = sim.new_credentials(hf=True)
    orders = client(url, account).orders
    btc = [orders.add_order(_limit(AddOrderReqBuilder(), AddOrderReq, "buy", "20000", "1")).order_id for _ in range(3)]
    eth = [sim.place_order(account.api_key, symbol="ETH-USDT"), sim.place_order(account.api_key, symbol="SOL-USDT")]
    assert orders.get_symbols_with_open_order().symbols == ["BTC-USDT", "ETH-USDT", "SOL-USDT"]

    by_symbol = orders.cancel_all_orders_by_symbol(CancelAllOrdersBySymbolReqBuilder().set_symbol("BTC-USDT").build())
    assert by_symbol.data == "success" and sim.seen[-1].endpoint == "/api/v1/hf/orders?symbol=BTC-USDT"
    assert all(sim.status(o).value == "cancelled" for o in btc)
    everywhere = orders.cancel_all_orders()
    assert (everywhere.succeed_symbols, everywhere.failed_symbols) == (["ETH-USDT", "SOL-USDT"], [])
    assert all(sim.status(o).value == "cancelled" for o in eth)
    assert orders.get_symbols_with_open_order().symbols == []


def test_official_sdk_cancels_all_classic_orders(served: tuple[KucoinSimulator, str]) -> None:
    sim, url = served
    account = sim.new_credentials(hf=False)
    orders = client(url, account).orders
    btc = [orders.add_order_old(_limit(AddOrderOldReqBuilder(), AddOrderOldReq, "sell", "30000", "1")).order_id
           for _ in range(2)]  # fmt: skip
    eth = sim.place_order(account.api_key, symbol="ETH-USDT")

    answer = orders.batch_cancel_order_old(BatchCancelOrderOldReqBuilder().set_symbol("BTC-USDT").build())
    assert answer.cancelled_order_ids == btc and sim.status(eth).value == "inProgress"
    assert sim.seen[-1].endpoint == "/api/v1/orders?symbol=BTC-USDT&tradeType=TRADE"
    assert orders.batch_cancel_order_old(BatchCancelOrderOldReqBuilder().build()).cancelled_order_ids == [eth]
    assert orders.batch_cancel_order_old(BatchCancelOrderOldReqBuilder().build()).cancelled_order_ids == []
