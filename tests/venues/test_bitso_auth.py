"""Bitso signing against the reference's golden vector and ccxt's independent implementation."""

from __future__ import annotations

import ccxt

from ordergate.venues.bitso.auth import authorization, sign

OID = "yWTQGxDMZ0VimZgZ"
# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe): key KEY, secret SECRET.
APPENDIX_A = "Bitso KEY:1700000000000:47fd5913e466724765d30664962f57e685ea5a9dd7b92d1b0f7ec5418e7eba05"


def test_appendix_a_vector() -> None:
    assert authorization("KEY", "SECRET", 1700000000000, "DELETE", f"/api/v3/orders/{OID}") == APPENDIX_A


def _ccxt(method: str, path: str, params: dict) -> dict:
    exchange = ccxt.bitso({"apiKey": "KEY", "secret": "SECRET"})
    exchange.incrementing_nonce = lambda: 1700000000123456
    return exchange.sign(path, ["private"], method, params)


def test_ccxt_signs_cancel_lookup_and_trades_identically() -> None:
    for method, path, ours in (
        ("DELETE", "orders/{oid}", f"/api/v3/orders/{OID}"),
        ("GET", "orders/{oid}", f"/api/v3/orders/{OID}"),
        ("GET", "order_trades/{oid}", f"/api/v3/order_trades/{OID}"),
        ("GET", "account_status", "/api/v3/account_status"),
    ):
        signed = _ccxt(method, path, {"oid": OID} if "{oid}" in path else {})
        assert signed["url"].endswith(ours) and signed["body"] is None
        assert signed["headers"]["Authorization"] == authorization("KEY", "SECRET", 1700000000123456, method, ours)


def test_a_post_body_and_a_query_are_signed_as_sent() -> None:
    signed = _ccxt("POST", "orders", {"book": "btc_mxn", "side": "buy", "type": "limit", "major": "1", "price": "5"})
    body = signed["body"].encode()
    assert signed["headers"]["Authorization"].endswith(
        ":" + sign("SECRET", 1700000000123456, "POST", "/api/v3/orders", body)
    )
    query = _ccxt("DELETE", "orders", {"oids": "a,b"})
    assert query["headers"]["Authorization"].endswith(
        ":" + sign("SECRET", 1700000000123456, "DELETE", "/api/v3/orders?oids=a%2Cb")
    )


def test_the_method_is_part_of_the_signature() -> None:
    assert sign("S", 1, "DELETE", "/api/v3/orders/x") != sign("S", 1, "GET", "/api/v3/orders/x")
    assert sign("S", 1, "delete", "/api/v3/orders/x") == sign("S", 1, "DELETE", "/api/v3/orders/x")
