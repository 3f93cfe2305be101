"""Independent Kraken clients (krakenex, python-kraken-sdk, plain HTTP) against the simulator over real HTTP.

Neither SDK shares code with ordergate, so when they sign, place, query and cancel successfully, the simulator
speaks Kraken's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import httpx
import krakenex
import pytest
from kraken.exceptions import (
    KrakenInvalidNonceError,
    KrakenInvalidOrderError,
    KrakenInvalidSignatureError,
    KrakenPermissionDeniedError,
    KrakenUnknownOrderError,
)
from kraken.spot import Trade, User

from ordergate.venues.kraken.simulator import Fault, KrakenSimulator
from tests.support.servers import serve_asgi

LIMIT_BUY = {"pair": "XBTUSD", "type": "buy", "ordertype": "limit", "volume": "0.5", "price": "25000"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[KrakenSimulator, str]]:
    sim = KrakenSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def krakenex_client(url: str, key: str, secret: str) -> krakenex.API:
    api = krakenex.API(key, secret)
    api.uri = url
    # krakenex's nonce is the millisecond clock, so two calls in one millisecond collide (real Kraken rejects
    # that too). Keep its scheme, strictly increasing, so the tests do not depend on timing.
    clock, last = api._nonce, [0]

    def nonce() -> int:
        last[0] = max(clock(), last[0] + 1)
        return last[0]

    api._nonce = nonce
    return api


def test_krakenex_places_queries_and_cancels(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    api = krakenex_client(url, *sim.new_credentials())

    placed = api.query_private("AddOrder", dict(LIMIT_BUY))
    assert placed["error"] == []
    (txid,) = placed["result"]["txid"]
    assert placed["result"]["descr"]["order"] == "buy 0.50000000 XBTUSD @ limit 25000"

    queried = api.query_private("QueryOrders", {"txid": txid, "trades": "false"})
    assert queried["result"][txid]["status"] == "open"
    assert queried["result"][txid]["vol"] == "0.50000000"
    assert txid in api.query_private("OpenOrders")["result"]["open"]

    assert api.query_private("CancelOrder", {"txid": txid}) == {"error": [], "result": {"count": 1}}
    assert api.query_private("CancelOrder", {"txid": txid}) == {"error": ["EOrder:Unknown order"]}
    assert api.query_private("QueryOrders", {"txid": txid})["result"][txid]["status"] == "canceled"
    assert api.query_public("Time")["result"]["unixtime"] > 0


def test_python_kraken_sdk_places_queries_and_cancels(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    trade, user = Trade(key=key, secret=secret, url=url), User(key=key, secret=secret, url=url)

    placed = trade.create_order(ordertype="limit", side="sell", pair="XBTUSD", volume="0.25", price="31000")
    (txid,) = placed["txid"]
    info = user.get_orders_info(txid=txid)
    assert info[txid]["status"] == "open"
    assert info[txid]["descr"]["type"] == "sell"

    assert trade.cancel_order(txid=txid) == {"count": 1}
    with pytest.raises(KrakenUnknownOrderError):
        trade.cancel_order(txid=txid)
    assert user.get_orders_info(txid=txid)[txid]["status"] == "canceled"

    trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="1", price="20000", cl_ord_id="c-1")
    assert trade.cancel_order(cl_ord_id="c-1") == {"count": 1}
    assert user.get_account_balance()["ZUSD"] == "100000.0000"


def test_unknown_and_foreign_orders_answer_invalid_order(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    other_key, _ = sim.new_credentials()
    foreign = sim.place_order(other_key)
    trade, user = Trade(key=key, secret=secret, url=url), User(key=key, secret=secret, url=url)
    for txid in ("OZZZZZ-ZZZZZ-ZZZZZZ", "not-a-txid", foreign):
        with pytest.raises(KrakenInvalidOrderError):
            user.get_orders_info(txid=txid)
        with pytest.raises(KrakenInvalidOrderError):
            trade.cancel_order(txid=txid)
    assert sim.order(foreign)["status"] == "open"


def test_final_orders_answer_unknown_order(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    api = krakenex_client(url, key, secret)
    filled, expired = sim.place_order(key), sim.place_order(key)
    sim.fill(filled)
    sim.expire(expired)
    for txid in (filled, expired):
        assert api.query_private("CancelOrder", {"txid": txid}) == {"error": ["EOrder:Unknown order"]}
    assert api.query_private("QueryOrders", {"txid": f"{filled},{expired}"})["result"][expired]["status"] == ("expired")


def test_integer_txid_is_a_userref_and_cancels_every_match(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    api = krakenex_client(url, key, secret)
    first, second, other = (sim.place_order(key, userref=ref) for ref in (42, 42, 7))
    assert api.query_private("CancelOrder", {"txid": "42"}) == {"error": [], "result": {"count": 2}}
    assert [sim.order(t)["status"] for t in (first, second, other)] == ["canceled", "canceled", "open"]


def test_two_factor_key_with_krakenex(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    api = krakenex_client(url, *sim.new_credentials(otp="314159"))

    assert api.query_private("Balance") == {"error": ["EGeneral:Permission denied"]}
    assert api.query_private("Balance", {"otp": "000000"}) == {"error": ["EAPI:Invalid signature"]}
    assert api.query_private("Balance", {"otp": "314159"})["error"] == []

    placed = api.query_private("AddOrder", {**LIMIT_BUY, "otp": "314159"})
    (txid,) = placed["result"]["txid"]
    assert api.query_private("CancelOrder", {"txid": txid, "otp": "314159"})["result"] == {"count": 1}
    assert sim.seen[-1].params["otp"] == "314159"
    assert sim.seen[-1].otp_verified


def test_otp_for_a_key_without_two_factor_is_rejected(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    api = krakenex_client(url, *sim.new_credentials())
    assert api.query_private("Balance", {"otp": "123456"}) == {"error": ["EAPI:Invalid signature"]}


def test_key_without_trade_permission(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials(can_trade=False)
    trade = Trade(key=key, secret=secret, url=url)
    with pytest.raises(KrakenPermissionDeniedError):
        trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="1", price="1")
    with pytest.raises(KrakenPermissionDeniedError):
        trade.cancel_order(txid=sim.place_order(key))
    assert User(key=key, secret=secret, url=url).get_account_balance()


def test_tampered_signature_and_wrong_secret_are_rejected(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    api = krakenex_client(url, key, secret)
    data = {"nonce": api._nonce()}
    good = api._sign(data, "/0/private/Balance")
    tampered = ("A" if good[0] != "A" else "B") + good[1:]
    answer = api._query("/0/private/Balance", data, {"API-Key": key, "API-Sign": tampered})
    assert answer == {"error": ["EAPI:Invalid signature"]}

    _, other_secret = sim.new_credentials()
    with pytest.raises(KrakenInvalidSignatureError):
        User(key=key, secret=other_secret, url=url).get_account_balance()
    unknown = krakenex_client(url, "no-such-key", secret)
    assert unknown.query_private("Balance") == {"error": ["EAPI:Invalid key"]}


def test_reused_nonce_is_rejected(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    api = krakenex.API(key, secret)
    api.uri = url
    api._nonce = lambda: 1700000000000
    assert api.query_private("Balance")["error"] == []
    assert api.query_private("Balance") == {"error": ["EAPI:Invalid nonce"]}
    api._nonce = lambda: 1699999999999
    assert api.query_private("Balance") == {"error": ["EAPI:Invalid nonce"]}
    with pytest.raises(KrakenInvalidNonceError):
        user = User(key=key, secret=secret, url=url)
        user.get_nonce = lambda: "1700000000000"  # type: ignore[method-assign]
        user.get_account_balance()


def test_control_surface_over_plain_http(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    with httpx.Client(base_url=url) as http:
        account = http.post("/_control/accounts", json={"otp": "777"}).json()
        assert set(account) == {"apiKey", "secret"}
        fixed = {"apiKey": "curl-key", "secret": account["secret"], "canTrade": False}
        assert http.post("/_control/accounts", json=fixed).json()["apiKey"] == "curl-key"

        placed = http.post("/_control/orders", json={"apiKey": account["apiKey"], "volume": "2", "price": 100})
        txid = placed.json()["txid"]
        assert placed.json()["order"]["status"] == "open"
        partial = http.post(f"/_control/orders/{txid}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["status"], partial["vol_exec"]) == ("open", "0.50000000")
        assert http.post(f"/_control/orders/{txid}/fill").json()["order"]["status"] == "closed"
        assert http.get(f"/_control/orders/{txid}").json()["order"]["cost"] == "200.00000"
        other = http.post("/_control/orders", json={"apiKey": account["apiKey"]}).json()["txid"]
        assert http.post(f"/_control/orders/{other}/expire").json()["order"]["status"] == "expired"

        fault = {"kind": "venue_error", "op": "Balance", "apiKey": account["apiKey"], "error": "EService:Busy"}
        assert http.post("/_control/faults", json=fault).json() == {"queued": 1}
        api = krakenex_client(url, account["apiKey"], account["secret"])
        assert api.query_private("Balance", {"otp": "777"}) == {"error": ["EService:Busy"]}
        assert api.query_private("Balance", {"otp": "777"})["error"] == []

        stats = http.get("/_control/stats").json()
        counts = {(r["apiKey"], r["op"]): r["count"] for r in stats["byKeyOp"]}
        assert counts[(account["apiKey"], "Balance")] == 2
        assert stats["total"] == sim.total_requests

        assert http.get("/_control/orders/OZZZZZ-ZZZZZ-ZZZZZZ").status_code == 404
        assert http.post("/_control/orders", json={"volume": "1"}).status_code == 400
        assert http.post("/_control/faults", json={"kind": "explode", "op": "Balance"}).status_code == 400


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        ("venue_error", lambda r: r.json() == {"error": ["EService:Unavailable"]}),
        ("http_error", lambda r: r.status_code == 502 and "<html>" in r.text),
    ],
)
def test_injected_faults_do_not_process_the_request(
    served: tuple[KrakenSimulator, str], kind: str, answer: Callable[[httpx.Response], bool]
) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    txid = sim.place_order(key)
    sim.inject(Fault(kind, "CancelOrder", api_key=key))  # type: ignore[arg-type]
    api = krakenex_client(url, key, secret)
    data = {"txid": txid, "nonce": api._nonce()}
    headers = {"API-Key": key, "API-Sign": api._sign(data, "/0/private/CancelOrder")}
    response = httpx.post(f"{url}/0/private/CancelOrder", data=data, headers=headers)
    assert answer(response)
    assert sim.order(txid)["status"] == "open"


def test_requests_are_counted_per_key_and_method(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    api = krakenex_client(url, key, secret)
    before = sim.total_requests
    for _ in itertools.repeat(None, 3):
        api.query_private("Balance")
    api.query_private("OpenOrders")
    assert (sim.requests[(key, "Balance")], sim.requests[(key, "OpenOrders")]) == (3, 1)
    assert sim.total_requests - before == 4


def test_krakenex_and_python_kraken_sdk_list_open_and_closed_orders(served: tuple[KrakenSimulator, str]) -> None:
    """OpenOrders, then ClosedOrders 50 at a time by `ofs`, most recent first, with `count`, `start` and `end`."""
    sim, url = served
    key, secret = sim.new_credentials()
    api = krakenex_client(url, key, secret)
    placed = [api.query_private("AddOrder", dict(LIMIT_BUY))["result"]["txid"][0] for _ in range(53)]
    for txid in placed[:52]:
        assert api.query_private("CancelOrder", {"txid": txid})["result"] == {"count": 1}
    newest_first = placed[:52][::-1]

    assert list(api.query_private("OpenOrders", {"trades": "false"})["result"]["open"]) == [placed[52]]
    first = api.query_private("ClosedOrders", {"trades": "false", "closetime": "open"})["result"]
    assert first["count"] == 52 and list(first["closed"]) == newest_first[:50]
    assert all(o["status"] == "canceled" and o["reason"] == "User requested" for o in first["closed"].values())
    second = api.query_private("ClosedOrders", {"ofs": "50", "closetime": "open"})["result"]
    assert list(second["closed"]) == newest_first[50:]
    bounded = api.query_private("ClosedOrders", {"start": placed[0], "end": placed[3], "closetime": "open"})
    assert list(bounded["result"]["closed"]) == [placed[3], placed[2], placed[1]]  # start exclusive, end inclusive

    user = User(key=key, secret=secret, url=url)
    assert list(user.get_open_orders()["open"]) == [placed[52]]
    assert list(user.get_closed_orders(ofs=50, closetime="open")["closed"]) == newest_first[50:]
    sim.backdate(placed[0], 7200)
    since = int(sim.order(placed[1])["opentm"]) - 3600
    recent = user.get_closed_orders(start=since, closetime="open")
    assert recent["count"] == 51 and placed[0] not in recent["closed"]
    assert (
        user.get_closed_orders(start=since, closetime="open", extra_params={"without_count": True}).get("count") is None
    )


def test_krakenex_cancel_all_and_the_dead_man_switch(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    api = krakenex_client(url, key, secret)
    txids = [api.query_private("AddOrder", dict(LIMIT_BUY))["result"]["txid"][0] for _ in range(3)]

    assert api.query_private("CancelAll") == {"error": [], "result": {"count": 3}}
    assert {sim.order(t)["status"] for t in txids} == {"canceled"}
    assert api.query_private("CancelAll")["result"] == {"count": 0}

    armed = api.query_private("CancelAllOrdersAfter", {"timeout": 60})["result"]
    assert set(armed) == {"currentTime", "triggerTime"} and armed["triggerTime"] > armed["currentTime"]
    assert sim.dead_man(key) is not None
    assert api.query_private("CancelAllOrdersAfter", {"timeout": 0})["result"]["triggerTime"] == "0"
    assert sim.dead_man(key) is None
    assert api.query_private("CancelAllOrdersAfter", {"timeout": "soon"})["error"] == [
        "EGeneral:Invalid arguments:timeout"
    ]


def test_python_kraken_sdk_cancels_a_batch(served: tuple[KrakenSimulator, str]) -> None:
    sim, url = served
    key, secret = sim.new_credentials()
    trade, user = Trade(key=key, secret=secret, url=url), User(key=key, secret=secret, url=url)
    txids = [
        trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="0.1", price=str(20000 + i))["txid"][0]
        for i in range(3)
    ]
    # The SDK sends CancelOrderBatch as a JSON body signed over its exact bytes; Kraken answers only a count.
    assert trade.cancel_order_batch(orders=txids) == {"count": 3}
    assert {user.get_orders_info(txid=t)[t]["status"] for t in txids} == {"canceled"}
    # Already final and unknown txids are not counted (not documented by Kraken; see constants.py).
    other = trade.create_order(ordertype="limit", side="buy", pair="XBTUSD", volume="0.1", price="19000")["txid"][0]
    assert trade.cancel_order_batch(orders=[*txids, other, "OAAAAA-BBBBB-CCCCCC"]) == {"count": 1}
    assert sim.count(key, "CancelOrderBatch") == 2
