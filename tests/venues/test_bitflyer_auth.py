"""bitFlyer signing against the Appendix A vector and two independent signers: ccxt's and pybitflyer's, each with a
frozen clock."""

from __future__ import annotations

import json

import ccxt
import pybitflyer
import pytest

from ordergate.venues.bitflyer.adapter import cancel_body, id_field, lookup_query
from ordergate.venues.bitflyer.auth import sign, signed_headers

# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe): secret SECRET.
APPENDIX_A_BODY = b'{"product_code":"BTC_JPY","child_order_acceptance_id":"JRF20150707-033333-099999"}'
APPENDIX_A_SIGN = "a0d093823217cee0ee385aa33859d0a880d5267f2ac3b260a37d14e9e8357da4"


def test_appendix_a_cancel_vector_from_the_adapter_body() -> None:
    body = cancel_body("BTC_JPY", "JRF20150707-033333-099999")
    assert body == APPENDIX_A_BODY
    assert sign("SECRET", "1700000000", "POST", "/v1/me/cancelchildorder", body) == APPENDIX_A_SIGN
    assert signed_headers("KEY", "SECRET", "1700000000", "POST", "/v1/me/cancelchildorder", body) == {
        "ACCESS-KEY": "KEY",
        "ACCESS-TIMESTAMP": "1700000000",
        "ACCESS-SIGN": APPENDIX_A_SIGN,
    }


def test_the_prefix_picks_the_field() -> None:
    assert id_field("JRF20150707-033333-099999") == "child_order_acceptance_id"
    assert id_field("JOR20150707-055555-022222") == "child_order_id"
    assert json.loads(cancel_body("ETH_JPY", "JOR20150707-055555-022222")) == {
        "product_code": "ETH_JPY",
        "child_order_id": "JOR20150707-055555-022222",
    }


def test_a_changed_byte_changes_the_signature() -> None:
    spaced = json.dumps(json.loads(APPENDIX_A_BODY)).encode()  # pybitflyer's spelling of the same request
    assert sign("SECRET", "1700000000", "POST", "/v1/me/cancelchildorder", spaced) != APPENDIX_A_SIGN
    assert sign("SECRET", "1700000001", "POST", "/v1/me/cancelchildorder", APPENDIX_A_BODY) != APPENDIX_A_SIGN
    assert sign("SECRET", "1700000000", "GET", "/v1/me/cancelchildorder", APPENDIX_A_BODY) != APPENDIX_A_SIGN


@pytest.mark.parametrize("order_id", ["JRF20150707-033333-099999", "JOR20150707-055555-022222"])
def test_ccxt_signs_the_same_requests(order_id: str) -> None:
    exchange = ccxt.bitflyer({"apiKey": "KEY", "secret": "SECRET"})
    exchange.nonce = lambda: 1700000000
    field = id_field(order_id)
    post = exchange.sign("cancelchildorder", ["private"], "POST", {"product_code": "BTC_JPY", field: order_id})
    assert post["body"].encode() == cancel_body("BTC_JPY", order_id)
    assert post["headers"]["ACCESS-SIGN"] == sign(
        "SECRET", "1700000000", "POST", "/v1/me/cancelchildorder", cancel_body("BTC_JPY", order_id)
    )
    get = exchange.sign("getchildorders", ["private"], "GET", {"product_code": "BTC_JPY", field: order_id})
    target = "/v1/me/getchildorders?" + lookup_query("BTC_JPY", order_id)
    assert get["url"].endswith(target)
    assert get["headers"]["ACCESS-SIGN"] == sign("SECRET", "1700000000", "GET", target, b"")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_pybitflyer_signs_what_we_sign(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    sent: list[dict[str, str]] = []

    class Stop(Exception):
        pass

    def capture(session: object, *args: object, **kwargs: object) -> object:
        sent.append(dict(session.headers))  # type: ignore[attr-defined]
        raise Stop

    monkeypatch.setattr(pybitflyer.pybitflyer.time, "time", lambda: 1700000000.5)
    monkeypatch.setattr(pybitflyer.pybitflyer.requests.Session, "get", capture)
    monkeypatch.setattr(pybitflyer.pybitflyer.requests.Session, "post", capture)
    api = pybitflyer.API(api_key="KEY", api_secret="SECRET")
    order_id = "JOR20150707-055555-022222"
    with pytest.raises(Stop):
        if method == "GET":
            api.getchildorders(product_code="BTC_JPY", child_order_id=order_id)
        else:
            api.cancelchildorder(product_code="BTC_JPY", child_order_id=order_id)
    [headers] = sent
    # pybitflyer's timestamp is a float and its JSON has spaces; bitFlyer signs whatever text is sent.
    assert headers["ACCESS-TIMESTAMP"] == "1700000000.5"
    if method == "GET":
        target, body = "/v1/me/getchildorders?" + lookup_query("BTC_JPY", order_id), b""
    else:
        target, body = "/v1/me/cancelchildorder", json.dumps({"product_code": "BTC_JPY", "child_order_id": order_id})
        body = body.encode()
    assert headers["ACCESS-SIGN"] == sign("SECRET", "1700000000.5", method, target, body)
