"""Blockchain.com's token header against ccxt's independent implementation: the secret, sent as it is."""

from __future__ import annotations

import ccxt
import pytest

from ordergate.venues.blockchain_com.auth import headers

TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(("method", "path"), [("DELETE", "orders/{orderId}"), ("GET", "orders/{orderId}")])
def test_ccxt_sends_the_same_token(method: str, path: str) -> None:
    exchange = ccxt.blockchaincom({"secret": TOKEN})
    signed = exchange.sign(path, ["private"], method, {"orderId": "281775861306290"})
    assert signed["url"] == "https://api.blockchain.com/v3/exchange/orders/281775861306290"
    assert signed["headers"]["X-API-Token"] == headers(TOKEN)["X-API-Token"] == TOKEN


def test_only_the_token_is_sent() -> None:
    assert headers(TOKEN) == {"X-API-Token": TOKEN, "Accept": "application/json"}
