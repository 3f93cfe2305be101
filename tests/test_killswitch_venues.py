"""Kill switch (issue 18) through the native cancel-all of Binance, KuCoin, OKX and Coinbase, against their simulators.

Each test: open orders at the venue, one kill switch, then none left open, each order named with its outcome, and
the exact upstream requests counted at the simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import request_response

from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.venues.binance.simulator import BinanceSimulator
from ordergate.venues.coinbase.simulator import CoinbaseSimulator
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.kucoin.simulator import KucoinSimulator, _Spec
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi
from tests.test_killswitch import Kill

T = IntegrationType


@pytest.fixture(scope="module")
def venues() -> Iterator[dict[IntegrationType, tuple[SimulatorBase, str]]]:
    binance, kucoin, coinbase = BinanceSimulator(), KucoinSimulator(), CoinbaseSimulator()
    with (
        serve_asgi(binance.app) as binance_url,
        serve_asgi(kucoin.app) as kucoin_url,
        serve_asgi(coinbase.app) as coinbase_url,
    ):
        yield {
            T.binanceInternational: (binance, binance_url),
            T.kuCoin: (kucoin, kucoin_url),
            T.coinbase: (coinbase, coinbase_url),
        }


@pytest.fixture
async def kill(
    tmp_path: Path, kraken: tuple[KrakenSimulator, str], venues: dict[IntegrationType, tuple[SimulatorBase, str]]
) -> AsyncIterator[Kill]:
    base_urls = {integration: url for integration, (_, url) in venues.items()}
    async with gateway_harness(tmp_path, kraken[0], kraken[1], base_urls=base_urls) as gw:
        yield Kill(gw, await gw.client(), {integration: sim for integration, (sim, _) in venues.items()})


def _all_cancelled(content: dict[str, Any], placed: set[str], acked: str) -> None:
    assert content["method"] == "native" and content["complete"] is True and content["notCancelled"] == []
    results = content["results"]
    assert {item["orderId"] for item in results} == placed and len(results) == len(placed)
    for item in results:
        assert (item["httpStatus"], item["status"], item["content"]["orderId"]) == (200, "ok", item["orderId"])
    assert content["summary"] == {acked: len(placed)}


# -- Binance ----------------------------------------------------------------------------------------------------


def _binance(sim: BinanceSimulator, account: SimAccount, symbol: str = "BTCUSDT", side: str = "BUY") -> str:
    return str(sim.place_order(account.api_key, symbol=symbol, side=side))


async def test_binance_fifty_orders_one_delete_per_symbol(kill: Kill) -> None:
    sim: BinanceSimulator = kill.sims[T.binanceInternational]
    account, other = sim.new_account(), sim.new_account()
    symbols = ("BTCUSDT", "ETHUSDT", "BNBUSDT")
    placed = {_binance(sim, account, symbols[i % 3], "BUY" if i % 2 else "SELL") for i in range(50)}
    done = _binance(sim, account, "ETHBTC")
    sim.fill(done)  # final: not open, and its symbol has nothing open, so no DELETE for it
    bystander = _binance(sim, other)
    before = sim.count_key(account.api_key)

    content = await kill.kill(T.binanceInternational, account)

    _all_cancelled(content, placed, "cancelled")
    assert all(sim.status(o) is OrderStatus.cancelled for o in placed)
    assert sim.status(done) is OrderStatus.success and sim.status(bystander) is OrderStatus.inProgress
    # One all-symbol listing to learn the symbols, then one DELETE /api/v3/openOrders per symbol.
    assert sim.count_key(account.api_key) - before == 4
    assert (sim.count(account.api_key, "openOrders"), sim.count(account.api_key, "cancelOpenOrders")) == (1, 3)
    rows = [r for r in await kill.gw.gateway.audit.tail(400) if r.endpoint == "transactions/cancel/all"]
    assert sum(r.upstream_requests for r in rows if r.order_id in placed) == 4

    again = await kill.kill(T.binanceInternational, account)
    assert (again["results"], again["complete"]) == ([], True)
    assert sim.count(account.api_key, "cancelOpenOrders") == 3  # nothing listed open: no DELETE sent


async def test_binance_symbol_pair_is_one_delete_without_listing(kill: Kill) -> None:
    sim: BinanceSimulator = kill.sims[T.binanceInternational]
    account = sim.new_account()
    btc = {_binance(sim, account) for _ in range(4)}
    eth = {_binance(sim, account, "ETHUSDT") for _ in range(2)}
    before = sim.count_key(account.api_key)

    content = await kill.kill(T.binanceInternational, account, symbolPair="BTC/USDT")

    _all_cancelled(content, btc, "cancelled")
    assert all(sim.status(o) is OrderStatus.inProgress for o in eth)
    assert sim.count_key(account.api_key) - before == 1 and sim.count(account.api_key, "cancelOpenOrders") == 1
    empty = await kill.kill(T.binanceInternational, account, symbolPair="BTCUSDT")  # -2011: nothing open
    assert (empty["results"], empty["complete"]) == ([], True)

    content = await kill.kill(T.binanceInternational, account, side="buy")  # Binance cannot filter by side
    assert content["method"] == "listing" and {i["orderId"] for i in content["results"]} == eth


async def test_binance_fill_racing_the_delete_is_reported_not_cancelled(
    kill: Kill, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim: BinanceSimulator = kill.sims[T.binanceInternational]
    account = sim.new_account()
    orders = [_binance(sim, account, "ETHUSDT") for _ in range(3)]
    racer = orders[1]
    cancel_open = sim._handlers["cancelOpenOrders"]

    def fill_first(acct: Any, params: dict[str, str]) -> Any:
        sim._fill_locked(sim._orders[int(racer)], None)  # matched after the listing, before the DELETE
        return cancel_open(acct, params)

    monkeypatch.setitem(sim._handlers, "cancelOpenOrders", fill_first)
    content = await kill.kill(T.binanceInternational, account)

    by_id = {item["orderId"]: item for item in content["results"]}
    assert set(by_id) == set(orders) and content["notCancelled"] == [racer] and content["complete"] is True
    assert (by_id[racer]["httpStatus"], by_id[racer]["errorType"]) == (409, "orderNotCancelable")
    assert by_id[racer]["errorData"]["orderStatus"] == "success"
    assert content["summary"] == {"cancelled": 2, "orderNotCancelable": 1}
    assert sim.count(account.api_key, "query") == 1  # only the order the answer did not name is looked up


# -- KuCoin -----------------------------------------------------------------------------------------------------


async def test_kucoin_classic_fifty_orders_one_delete(kill: Kill) -> None:
    sim: KucoinSimulator = kill.sims[T.kuCoin]
    account, other = sim.new_credentials(hf=False), sim.new_credentials(hf=False)
    placed = {sim.place_order(account.api_key, symbol=("BTC-USDT", "ETH-USDT")[i % 2]) for i in range(50)}
    done = sim.place_order(account.api_key)
    sim.fill(done)
    bystander = sim.place_order(other.api_key)
    before = sim.count_key(account.api_key)

    content = await kill.kill(T.kuCoin, account)

    _all_cancelled(content, placed, "inProgress")  # KuCoin's cancels "only send cancellation requests"
    assert all(sim.status(o) is OrderStatus.cancelled for o in placed)
    assert sim.status(done) is OrderStatus.success and sim.status(bystander) is OrderStatus.inProgress
    assert sim.count_key(account.api_key) - before == 1 and sim.count(account.api_key, "cancel_all_orders") == 1
    again = await kill.kill(T.kuCoin, account)
    assert (again["results"], again["complete"]) == ([], True)


async def test_kucoin_classic_symbol_pair(kill: Kill) -> None:
    sim: KucoinSimulator = kill.sims[T.kuCoin]
    account = sim.new_credentials(hf=False)
    btc = {sim.place_order(account.api_key) for _ in range(3)}
    eth = sim.place_order(account.api_key, symbol="ETH-USDT")
    content = await kill.kill(T.kuCoin, account, symbolPair="BTC/USDT")
    _all_cancelled(content, btc, "inProgress")
    assert sim.status(eth) is OrderStatus.inProgress
    assert sim.seen[-1].endpoint == "/api/v1/orders?symbol=BTC-USDT&tradeType=TRADE"


async def test_kucoin_hf_fifty_orders_named_from_listings(kill: Kill) -> None:
    sim: KucoinSimulator = kill.sims[T.kuCoin]
    account, other = sim.new_credentials(hf=True), sim.new_credentials(hf=True)
    placed = {sim.place_order(account.api_key, symbol=("BTC-USDT", "ETH-USDT")[i % 2]) for i in range(50)}
    done = sim.place_order(account.api_key, symbol="SOL-USDT")
    sim.fill(done)
    bystander = sim.place_order(other.api_key)
    before = sim.count_key(account.api_key)

    content = await kill.kill(T.kuCoin, account)

    _all_cancelled(content, placed, "cancelled")  # read back from the done listing
    assert all(sim.status(o) is OrderStatus.cancelled for o in placed)
    assert sim.status(done) is OrderStatus.success and sim.status(bystander) is OrderStatus.inProgress
    # symbols with open orders, the open orders of each (2), one cancelAll, the done orders of each (2)
    assert sim.count_key(account.api_key) - before == 6
    counts = {op: sim.count(account.api_key, op) for op in ("hf_open_symbols", "cancel_hf_all", "hf_done_orders")}
    assert counts == {"hf_open_symbols": 1, "cancel_hf_all": 1, "hf_done_orders": 2}

    again = await kill.kill(T.kuCoin, account)
    assert (again["results"], again["complete"]) == ([], True)
    assert sim.count(account.api_key, "cancel_hf_all") == 1  # nothing open: nothing sent


async def test_kucoin_hf_symbol_pair_and_a_racing_fill(kill: Kill, monkeypatch: pytest.MonkeyPatch) -> None:
    sim: KucoinSimulator = kill.sims[T.kuCoin]
    account = sim.new_credentials(hf=True)
    btc = [sim.place_order(account.api_key) for _ in range(4)]
    eth = sim.place_order(account.api_key, symbol="ETH-USDT")
    racer = btc[2]
    cancel_symbol = sim._cancel_hf_symbol

    def fill_first(acct: Any, args: dict[str, Any], fault: Any) -> Any:
        sim._orders[racer].fill(None)  # matched after the listing, before the cancel-all
        return cancel_symbol(acct, args, fault)

    # The simulator's route holds its handler: swap it there for this test only.
    (route,) = [r for r in sim.app.app.routes if r.path == "/api/v1/hf/orders" and "DELETE" in (r.methods or ())]
    spec = _Spec("DELETE", route.path, "cancel_hf_symbol", "spot", 2, True, fill_first)
    monkeypatch.setattr(route, "app", request_response(sim._endpoint(spec)))
    before = sim.count_key(account.api_key)
    content = await kill.kill(T.kuCoin, account, symbolPair="BTC-USDT")

    by_id = {item["orderId"]: item for item in content["results"]}
    assert set(by_id) == set(btc) and content["method"] == "native" and content["notCancelled"] == [racer]
    assert (by_id[racer]["httpStatus"], by_id[racer]["errorType"]) == (409, "orderNotCancelable")
    assert by_id[racer]["errorData"]["orderStatus"] == "success"
    assert content["summary"] == {"cancelled": 3, "orderNotCancelable": 1}
    assert sim.status(eth) is OrderStatus.inProgress
    assert sim.count_key(account.api_key) - before == 3  # open orders of the symbol, its cancel-all, its done orders


# -- Coinbase ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "batches"), [(50, 1), (120, 2)])
async def test_coinbase_open_orders_listed_then_batch_cancelled(kill: Kill, count: int, batches: int) -> None:
    sim: CoinbaseSimulator = kill.sims[T.coinbase]
    account, other = sim.new_account(), sim.new_account()
    placed = {sim.place_order(account.api_key) for _ in range(count)}
    done = sim.place_order(account.api_key)
    sim.fill(done)
    bystander = sim.place_order(other.api_key)
    before = sim.count_key(account.api_key)

    content = await kill.kill(T.coinbase, account)

    _all_cancelled(content, placed, "inProgress")  # batch_cancel's success is "submitted", as for a single cancel
    assert all(sim.status(o) is OrderStatus.cancelled for o in placed)
    assert sim.status(done) is OrderStatus.success and sim.status(bystander) is OrderStatus.inProgress
    # One listing page (250 a page), then batch_cancel with up to 100 ids each.
    assert sim.count_key(account.api_key) - before == 1 + batches
    assert (sim.count(account.api_key, "list_orders"), sim.count(account.api_key, "batch_cancel")) == (1, batches)


async def test_coinbase_fill_racing_the_batch_and_filters_go_through_the_listing(
    kill: Kill, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim: CoinbaseSimulator = kill.sims[T.coinbase]
    account = sim.new_account()
    orders = [sim.place_order(account.api_key) for _ in range(4)]
    racer = orders[3]
    cancel_one = sim._cancel_one

    def fill_first(principal: Any, order_id: str, fault: Any) -> Any:
        if order_id == racer and sim.status(racer) is OrderStatus.inProgress:
            sim._orders[racer].status = "FILLED"  # matched after the listing, before batch_cancel reached it
        return cancel_one(principal, order_id, fault)

    monkeypatch.setattr(sim, "_cancel_one", fill_first)
    content = await kill.kill(T.coinbase, account)
    by_id = {item["orderId"]: item for item in content["results"]}
    assert set(by_id) == set(orders) and content["notCancelled"] == [racer]
    assert (by_id[racer]["httpStatus"], by_id[racer]["errorType"]) == (409, "orderNotCancelable")
    assert by_id[racer]["errorData"]["orderStatus"] == "success"

    more = sim.place_order(account.api_key)
    content = await kill.kill(T.coinbase, account, side="buy")
    assert content["method"] == "listing" and [i["orderId"] for i in content["results"]] == [more]
