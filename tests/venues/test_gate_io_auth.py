"""Gate signing against Gate's published examples, crypto-venues.md Appendix A and two independent clients."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import ccxt
import gate_api
import pytest
from gate_api import api_client as gate_api_client

from ordergate.venues.gate_io.auth import sign, signed_headers
from ordergate.venues.gate_io.constants import normalize_pair

# Gate API v4 docs, "API Signature string generation" examples: key `key`, secret `secret`, Timestamp 1541993715.
DOC_GET = ("GET", "/api/v4/futures/orders", "contract=BTC_USD&status=finished&limit=50", b"")
DOC_GET_SIGN = (
    "55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6"
    "fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a"
)
DOC_POST = (
    "POST",
    "/api/v4/futures/orders",
    "",
    b'{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}',
)
DOC_POST_SIGN = (
    "eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541f"
    "c4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0"
)
# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe): key KEY, secret SECRET.
APPENDIX_A = ("DELETE", "/api/v4/spot/orders/12345", "currency_pair=BTC_USDT&account=spot", b"")
APPENDIX_A_SIGN = (
    "17032d9f1f3baa58a3146eb6c4ee59134dfc3e45382259d576ac089353794be5"
    "5c9cbf373fc3f2e556af7c2b58d803322a9698af79e8c593551208e492806968"
)


def test_gates_documented_examples() -> None:
    assert sign("secret", *DOC_GET, "1541993715") == DOC_GET_SIGN
    assert sign("secret", *DOC_POST, "1541993715") == DOC_POST_SIGN
    # "If no request body, use empty string's hashed result", as the docs print it.
    empty = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    assert hashlib.sha512(b"").hexdigest().startswith(empty)


def test_appendix_a_cancel_vector() -> None:
    headers = signed_headers("KEY", "SECRET", *APPENDIX_A, "1700000000")
    assert headers == {"KEY": "KEY", "Timestamp": "1700000000", "SIGN": APPENDIX_A_SIGN}


def test_each_part_of_the_signature_string_counts() -> None:
    method, path, query, body = APPENDIX_A
    variants = [
        ("GET", path, query, body, "1700000000"),
        (method, "/spot/orders/12345", query, body, "1700000000"),  # without /api/v4: not Gate's path
        (method, path, "account=spot&currency_pair=BTC_USDT", body, "1700000000"),  # sorted, not URL order
        (method, path, query, b"{}", "1700000000"),
        (method, path, query, body, "1700000000.0"),  # the header value byte for byte, not the number
    ]
    assert all(sign("SECRET", *v) != APPENDIX_A_SIGN for v in variants)


def test_signature_matches_the_official_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gate_api_client, "time", SimpleNamespace(time=lambda: 1700000000.25))
    client = gate_api.ApiClient(gate_api.Configuration(key="KEY", secret="SECRET"))
    theirs = client.gen_sign("DELETE", "/api/v4/spot/orders/12345", "currency_pair=BTC_USDT")
    assert theirs["Timestamp"] == "1700000000.25"
    ours = signed_headers("KEY", "SECRET", "DELETE", "/api/v4/spot/orders/12345", "currency_pair=BTC_USDT", b"",
                          theirs["Timestamp"])  # fmt: skip
    assert ours == theirs


def test_signature_matches_ccxt(monkeypatch: pytest.MonkeyPatch) -> None:
    gate = ccxt.gate({"apiKey": "KEY", "secret": "SECRET"})
    monkeypatch.setattr(gate, "nonce", lambda: 1700000000000)
    signed = gate.sign("orders/{order_id}", ["private", "spot"], "DELETE", {"order_id": "12345",
                       "currency_pair": "BTC_USDT"})  # fmt: skip
    assert signed["url"] == "https://api.gateio.ws/api/v4/spot/orders/12345?currency_pair=BTC_USDT"
    ours = signed_headers("KEY", "SECRET", "DELETE", "/api/v4/spot/orders/12345", "currency_pair=BTC_USDT", b"",
                          "1700000000")  # fmt: skip
    assert {k: signed["headers"][k] for k in ("KEY", "Timestamp", "SIGN")} == ours


@pytest.mark.parametrize(
    ("pair", "expected"),
    [("BTC_USDT", "BTC_USDT"), ("BTC/USDT", "BTC_USDT"), ("btc-usdt", "BTC_USDT"), (" eth_btc ", "ETH_BTC"),
     ("BTCUSDT", None), ("BTC_USDT_X", None), ("BTC_", None), ("BTC USDT", None), ("BTC_US&DT", None), ("", None)],
)  # fmt: skip
def test_pairs_are_normalized_only_when_unambiguous(pair: str, expected: str | None) -> None:
    assert normalize_pair(pair) == expected
