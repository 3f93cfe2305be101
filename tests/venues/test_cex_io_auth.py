"""CEX.IO signing against the reference's Appendix A vector and ccxt's `cex.sign()`."""

from __future__ import annotations

import json

import ccxt

from ordergate.venues.cex_io.adapter import cancel_params
from ordergate.venues.cex_io.auth import encode_body, sign, signed_headers

# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe).
BODY = b'{"orderId":12345,"cancelRequestId":"c_1700000000000","timestamp":1700000000000}'
SIGNATURE = "ZM8KcDSU0boyph8k3DyxvNk0JMuIgpPcud/9WUhaSC0="


def test_appendix_a_cancel_vector() -> None:
    assert encode_body({"orderId": 12345, "cancelRequestId": "c_1700000000000", "timestamp": 1700000000000}) == BODY
    assert sign("do_cancel_my_order", "1700000000", BODY, "SECRET") == SIGNATURE


def test_signature_matches_ccxt_for_the_same_second() -> None:
    exchange = ccxt.cex({"apiKey": "KEY", "secret": "c2VjcmV0IGluIGJhc2U2NA=="})
    exchange.seconds = lambda: 1700000123
    params = {"orderId": 987654321, "cancelRequestId": "c_1", "timestamp": 1700000123000}
    signed = exchange.sign("do_cancel_my_order", ["private"], "POST", params)
    assert signed["body"].encode() == encode_body(params)  # the same bytes, so the same signature
    ours = signed_headers("KEY", "c2VjcmV0IGluIGJhc2U2NA==", "do_cancel_my_order", encode_body(params), 1700000123)
    assert {k: signed["headers"][k] for k in ours} == ours


def test_headers_carry_the_documented_names_and_no_secret() -> None:
    got = signed_headers("KEY", "SECRET", "do_cancel_my_order", BODY, 1700000000)
    assert got == {
        "Content-Type": "application/json",
        "X-AGGR-KEY": "KEY",
        "X-AGGR-TIMESTAMP": "1700000000",
        "X-AGGR-SIGNATURE": SIGNATURE,
    }


def test_cancel_body_has_the_documented_fields_and_a_fresh_request_id() -> None:
    first, second = cancel_params(2284074, 1700000000000), cancel_params(2284074, 1700000000000)
    assert set(first) == {"orderId", "cancelRequestId", "timestamp"}
    assert (first["orderId"], first["timestamp"]) == (2284074, 1700000000000)
    assert first["cancelRequestId"] != second["cancelRequestId"]  # one per request, also within one millisecond
    assert json.loads(encode_body(first))["orderId"] == 2284074  # a JSON number, as the docs send it
