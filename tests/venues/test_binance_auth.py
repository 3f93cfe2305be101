"""Binance signing against Binance's published examples, crypto-venues.md Appendix A and two independent SDKs."""

from __future__ import annotations

import urllib.parse

import pytest
from binance.client import Client
from binance_common.configuration import ConfigurationRestAPI
from binance_common.utils import get_signature

from ordergate.venues.binance.auth import ServerClock, sign, signed_query
from ordergate.venues.binance.constants import normalize_symbol, split_symbol

# github.com/binance/binance-spot-api-docs rest-api.md, "SIGNED Endpoint Examples for POST /api/v3/order".
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_QUERY = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
DOC_BODY = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
DOC_PARAMS = f"{DOC_QUERY}&{DOC_BODY}"

# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, key KEY, secret SECRET).
APPENDIX_A = [
    ("BTCUSDT", "a2002d4e1b135a922d00bdfd0796c3f2395f76b3b540efd6cbc0d1a7cec41651"),
    ("BTCUSD", "4df1ae2c3860eb4560c6439036464fe2707a26d3ce6b6cdbd439ae8a35b9db17"),
]


def test_documented_examples_one_and_two() -> None:
    # The same payload as a request body (example 1) or as a query string (example 2).
    assert sign(DOC_PARAMS, DOC_SECRET) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_documented_example_three_concatenates_query_and_body_without_an_ampersand() -> None:
    assert sign(DOC_QUERY + DOC_BODY, DOC_SECRET) == "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    assert sign(DOC_PARAMS, DOC_SECRET) != sign(DOC_QUERY + DOC_BODY, DOC_SECRET)


@pytest.mark.parametrize(("symbol", "expected"), APPENDIX_A)
def test_appendix_a_cancel_vectors_from_the_adapter_query(symbol: str, expected: str) -> None:
    query = signed_query([("symbol", symbol), ("orderId", "12345")], 1700000000000, 10000, "SECRET")
    assert query == f"timestamp=1700000000000&symbol={symbol}&orderId=12345&recvWindow=10000&signature={expected}"


def test_signature_matches_both_independent_sdks() -> None:
    # python-binance signs its own sorted parameter string; binance-sdk-spot (official) signs what it is given.
    data = {"orderId": "4000000001", "recvWindow": "5000", "symbol": "ETHBTC", "timestamp": "1700000000123"}
    python_binance = Client("key", "s3cret-Value", ping=False)._generate_signature(dict(data))
    payload = "&".join(f"{k}={v}" for k, v in data.items())
    official = get_signature(ConfigurationRestAPI(api_key="key", api_secret="s3cret-Value"), payload)
    assert sign(payload, "s3cret-Value") == python_binance == official


def test_non_ascii_symbols_are_signed_percent_encoded_as_python_binance_does() -> None:
    query = signed_query([("symbol", "币安人生USDT"), ("orderId", "7")], 1700000000000, 5000, "SECRET")
    unsigned, _, signature = query.rpartition("&signature=")
    assert "symbol=%E5%B8%81%E5%AE%89%E4%BA%BA%E7%94%9FUSDT&" in unsigned
    assert signature == sign(unsigned, "SECRET")
    sorted_form = {"orderId": "7", "recvWindow": "5000", "symbol": "币安人生USDT", "timestamp": "1700000000000"}
    theirs = Client("key", "SECRET", ping=False)._generate_signature(dict(sorted_form))
    encoded = urllib.parse.urlencode(sorted(sorted_form.items()))
    assert theirs == sign(encoded, "SECRET")


def test_server_clock_adopts_the_midpoint_offset() -> None:
    ticks = iter([1_000, 1_300])
    clock = ServerClock(lambda: next(ticks))
    assert clock.now_ms() == 1_000
    clock.learn(server_ms=11_100, sent_ms=1_000, received_ms=1_200)  # served at our 1_100
    assert clock.offset_ms == 10_000
    assert clock.now_ms() == 11_300


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("BTCUSDT", ("BTCUSDT", None)),
        ("BTC/USDT", ("BTCUSDT", ("BTC", "USDT"))),
        ("BTC-USDT", ("BTCUSDT", ("BTC", "USDT"))),
        ("btc_usdt", ("BTCUSDT", ("BTC", "USDT"))),
        (" eth/btc ", ("ETHBTC", ("ETH", "BTC"))),
        ("币安人生/USDT", ("币安人生USDT", ("币安人生", "USDT"))),
        ("BTC/USDT/X", None),
        ("BTC//USDT", None),
        ("BTC&USDT", None),
        ("B", None),
        ("", None),
    ],
)
def test_symbol_pairs_normalise_to_binance_symbols(pair: str, expected: object) -> None:
    assert normalize_symbol(pair) == expected


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [("BTCUSDT", ("BTC", "USDT")), ("ETHBTC", ("ETH", "BTC")), ("BTCFDUSD", ("BTC", "FDUSD")), ("XYZ", (None, None))],
)
def test_split_symbol_prefers_the_longest_quote(symbol: str, expected: tuple[str | None, str | None]) -> None:
    assert split_symbol(symbol) == expected
