"""BtcTurk signing against the reference's golden vector and ccxt's independent implementation."""

from __future__ import annotations

import base64

import ccxt
import pytest

from ordergate.venues.btcturk.auth import BadSecret, headers, sign

B64S = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe): key KEY, secret B64S.
APPENDIX_A = "WIwCe9lDNjPBGGfsyddWt9BFp5Q9P/vaXJdI0enNQ3s="


def test_appendix_a_vector() -> None:
    assert sign("KEY", B64S, 1700000000000) == APPENDIX_A


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [("DELETE", "order", {"id": "2605984008"}), ("GET", "order/{orderId}", {"orderId": "2605984008"})],
)
def test_ccxt_signs_identically(method: str, path: str, params: dict) -> None:
    exchange = ccxt.btcturk({"apiKey": "KEY", "secret": B64S})
    exchange.nonce = lambda: 1700000000000
    signed = exchange.sign(path, ["private"], method, params)
    assert signed["headers"] == headers("KEY", B64S, 1700000000000)
    # ccxt does not fill in `{orderId}` (its GET order/{orderId} is unusable); only the headers are compared.
    assert signed["url"].endswith("/api/v1/order?id=2605984008" if method == "DELETE" else "orderId=2605984008")


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(BadSecret):
        sign("KEY", "not base64!", 1)
