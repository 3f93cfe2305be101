"""Coinbase Exchange signing against the Appendix A vector and ccxt, and the request targets the adapter signs."""

from __future__ import annotations

import base64

import ccxt
import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import OrderRef
from ordergate.venues.coinbase_exchange.adapter import cancel_target, product_id
from ordergate.venues.coinbase_exchange.auth import headers, sign

B64S = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
ORDER_ID = "d0c5340b-6d6c-49d9-b567-48c4bfca13d2"
# crypto-venues.md Appendix A: ccxt 4.5.90 with the clock frozen at 1700000000 s, recomputed from the recipe.
APPENDIX_A_SIGN = "0LEOXvECIYL3rJaDGwkeDgTMwyvbhvMGh9hVOaQ2xGM="


def ccxt_client(secret: str = B64S, stamp: int = 1700000000) -> ccxt.coinbaseexchange:
    exchange = ccxt.coinbaseexchange({"apiKey": "KEY", "secret": secret, "password": "PASS"})
    exchange.nonce = lambda: stamp
    return exchange


def test_appendix_a_cancel_vector() -> None:
    target = cancel_target(OrderRef(ORDER_ID, True))
    assert target == f"/orders/{ORDER_ID}"
    assert sign("1700000000", "DELETE", target, b"", B64S) == APPENDIX_A_SIGN


@pytest.mark.parametrize(
    ("path", "method", "params", "target"),
    [
        ("orders/{id}", "DELETE", {"id": ORDER_ID}, f"/orders/{ORDER_ID}"),
        ("orders/{id}", "GET", {"id": ORDER_ID}, f"/orders/{ORDER_ID}"),
        ("accounts", "GET", {}, "/accounts"),
        # ccxt signs a GET's query as part of requestPath: the same rule the adapter follows for `?product_id=`.
        ("orders", "GET", {"status": "open", "product_id": "BTC-USD"}, "/orders?status=open&product_id=BTC-USD"),
    ],
)
def test_signature_matches_ccxt(path: str, method: str, params: dict[str, str], target: str) -> None:
    signed = ccxt_client().sign(path, ["private"], method, params)
    assert signed["url"].endswith(target)
    ours = headers("KEY", "PASS", "1700000000", sign("1700000000", method, target, b"", B64S))
    assert {k: v for k, v in signed["headers"].items() if k.startswith("CB-")} == {
        k: v for k, v in ours.items() if k.startswith("CB-")
    }


def test_a_json_body_is_part_of_what_is_signed_as_ccxt_does() -> None:
    # ccxt sends a DELETE's product_id as a JSON body; the body is signed byte for byte.
    signed = ccxt_client().sign("orders/{id}", ["private"], "DELETE", {"id": ORDER_ID, "product_id": "BTC/USD"})
    body = signed["body"].encode()
    assert signed["headers"]["CB-ACCESS-SIGN"] == sign("1700000000", "DELETE", f"/orders/{ORDER_ID}", body, B64S)


def test_cancel_target_names_the_product_in_the_signed_query() -> None:
    ref = OrderRef(ORDER_ID, True, symbol_pair="btc/usd")
    assert cancel_target(ref) == f"/orders/{ORDER_ID}?product_id=BTC-USD"
    assert sign("1700000000", "DELETE", cancel_target(ref), b"", B64S) != APPENDIX_A_SIGN


@pytest.mark.parametrize(
    ("pair", "expected"), [("BTC-USD", "BTC-USD"), ("eth_btc", "ETH-BTC"), (" ETH/USD ", "ETH-USD")]
)
def test_product_ids(pair: str, expected: str) -> None:
    assert product_id(pair) == expected


@pytest.mark.parametrize("pair", ["BTCUSD", "BTC-USD&x=1", "BTC--USD", "", "BTC-USD-X"])
def test_pairs_that_are_not_product_ids_are_refused(pair: str) -> None:
    with pytest.raises(GatewayError) as caught:
        cancel_target(OrderRef(ORDER_ID, True, symbol_pair=pair or " "))
    assert (caught.value.error_type, list(caught.value.error_data["fields"])) == (
        ErrorType.invalidField,
        ["symbolPair"],
    )


@pytest.mark.parametrize("order_id", ["../accounts", "a?b=c", "a/b", "a%2Fb", "", "x" * 65, "client:abc"])
def test_ids_that_would_change_the_request_target_are_refused(order_id: str) -> None:
    with pytest.raises(GatewayError) as caught:
        cancel_target(OrderRef(order_id, True))
    assert caught.value.error_type is ErrorType.invalidField


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(ValueError):
        sign("1700000000", "GET", "/accounts", b"", "not base64!")
