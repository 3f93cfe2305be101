"""OKX signing against the Appendix A vector, OKX's documented example inputs, and the official SDK."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from okx import utils as okx_utils

from ordergate.venues.okx.adapter import cancel_body, lookup_path
from ordergate.venues.okx.auth import sign, signed_headers, timestamp

# crypto-venues.md Appendix A (ccxt 4.5.90 with the clock frozen at 1700000000000 ms, recomputed from the recipe).
APPENDIX_A_TS = "2023-11-14T22:13:20.000Z"
APPENDIX_A_BODY = b'{"instId":"BTC-USDT","ordId":"590908157585625111"}'
APPENDIX_A_SIGN = "1pmi0AqFQusWoW8Ft/JdgTe6JoROpZtmkO/45eDEIuA="

# OKX's docs (docs-v5, "REST Authentication > Signature" and "Place order") give example inputs but no output:
# secret 22582BD0CFF14C41EDBF1AB98506286D, timestamp 2020-12-08T09:08:57.715Z, the GET path with its query, and
# the place-order example body. The outputs below were computed independently elsewhere: the place-order one is
# recorded as an OpenSSL-computed reference in another project's test suite, the GET one by python-okx (below).
DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
DOC_TS = "2020-12-08T09:08:57.715Z"
DOC_PLACE_BODY = (
    b'{"instId":"BTC-USDT","tdMode":"cash","clOrdId":"b15","side":"buy","ordType":"limit","px":"2.15","sz":"2"}'
)
DOC_PLACE_SIGN = "dI6rrL9rXW/HdaPKJ/6LC1OgvH4/PYju6R3CqixMTNQ="
DOC_GET_SIGN = "HiZhvSfMtWJA3uUIVXV3a/bSXNPCWvYFXoGCVS8V4zY="


def test_appendix_a_cancel_vector_from_the_adapter_body() -> None:
    body = cancel_body("BTC-USDT", "590908157585625111")
    assert body == APPENDIX_A_BODY
    assert timestamp(1_700_000_000_000) == APPENDIX_A_TS
    assert sign(APPENDIX_A_TS, "POST", "/api/v5/trade/cancel-order", body, "SECRET") == APPENDIX_A_SIGN


def test_documented_example_inputs() -> None:
    assert sign(DOC_TS, "POST", "/api/v5/trade/order", DOC_PLACE_BODY, DOC_SECRET) == DOC_PLACE_SIGN
    assert sign(DOC_TS, "GET", "/api/v5/account/balance?ccy=BTC", b"", DOC_SECRET) == DOC_GET_SIGN


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v5/account/balance?ccy=BTC", b""),
        ("POST", "/api/v5/trade/cancel-order", APPENDIX_A_BODY),
        ("GET", lookup_path("ETH-USDC", "7"), b""),
        ("POST", "/api/v5/trade/order", '{"instId":"BTC-USDT","tag":"ü"}'.encode()),
    ],
)
def test_signature_matches_the_official_sdk(method: str, path: str, body: bytes) -> None:
    # python-okx shares no code with ordergate: its pre_hash + sign is OKX's own reference implementation.
    sdk = okx_utils.sign(okx_utils.pre_hash(DOC_TS, method, path, body.decode(), False), DOC_SECRET).decode()
    assert sign(DOC_TS, method, path, body, DOC_SECRET) == sdk


def test_lookup_query_is_part_of_the_signed_path() -> None:
    path = lookup_path("BTC-USDT", "590908157585625111")
    assert path == "/api/v5/trade/order?instId=BTC-USDT&ordId=590908157585625111"
    expected = base64.b64encode(hmac.new(b"s", (DOC_TS + "GET" + path).encode(), hashlib.sha256).digest()).decode()
    assert sign(DOC_TS, "get", path, b"", "s") == expected
    assert sign(DOC_TS, "GET", path.split("?")[0], b"", "s") != expected


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "1970-01-01T00:00:00.000Z"), (1_607_418_537_715, DOC_TS), (1_700_000_000_009, "2023-11-14T22:13:20.009Z")],
)
def test_timestamps_are_iso_utc_with_milliseconds(ms: int, text: str) -> None:
    assert timestamp(ms) == text


@pytest.mark.parametrize("demo", [False, True])
def test_headers_carry_key_passphrase_and_the_demo_flag_only_for_demo(demo: bool) -> None:
    headers = signed_headers(
        api_key="k",
        secret="SECRET",
        passphrase="PASS",
        method="POST",
        request_path="/api/v5/trade/cancel-order",
        body=APPENDIX_A_BODY,
        demo=demo,
        now_ms=1_700_000_000_000,
    )
    assert headers["OK-ACCESS-SIGN"] == APPENDIX_A_SIGN
    assert (headers["OK-ACCESS-KEY"], headers["OK-ACCESS-PASSPHRASE"]) == ("k", "PASS")
    assert headers["OK-ACCESS-TIMESTAMP"] == APPENDIX_A_TS
    assert headers["Content-Type"] == "application/json"
    assert headers.get("x-simulated-trading") == ("1" if demo else None)
    get = signed_headers(api_key="k", secret="s", passphrase="p", method="GET", request_path="/x", body=b"", demo=False)
    assert "Content-Type" not in get
