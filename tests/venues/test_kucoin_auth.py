"""KuCoin signing against crypto-venues.md Appendix A and against KuCoin's official SDK's own signer."""

from __future__ import annotations

import pytest
from kucoin_universal_sdk.internal.infra.default_signer import KcSigner

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.kucoin.adapter import KucoinAdapter
from ordergate.venues.kucoin.auth import auth_headers, sign, signed_passphrase
from ordergate.venues.transport import Transport

# Appendix A: ccxt 4.5.90 with the clock frozen at 1700000000000 ms, key KEY, secret SECRET, passphrase PASS.
TIMESTAMP = "1700000000000"
ORDER_ID = "5bd6e9286d99522a52e458de"
APPENDIX_A = [
    (f"/api/v1/orders/{ORDER_ID}", "xTYB1G2INJnm4tNxz+HvoYmSwUWyFu9lRpXHpCIdw1I="),
    (f"/api/v1/hf/orders/{ORDER_ID}?symbol=BTC-USDT", "MsoUAmKMVpjln/oRtf6dUS/TBBbuFUojOTGEMUYWnbw="),
]
APPENDIX_A_PASSPHRASE = "d6egYJ+2Oke5lze5WeY9qk41/qxhV0qmttjOxg1FC4g="


@pytest.mark.parametrize(("endpoint", "expected"), APPENDIX_A)
def test_appendix_a_cancel_signatures(endpoint: str, expected: str) -> None:
    assert sign("SECRET", TIMESTAMP, "DELETE", endpoint) == expected
    headers = auth_headers("KEY", "SECRET", "PASS", TIMESTAMP, "DELETE", endpoint)
    assert headers == {
        "KC-API-KEY": "KEY",
        "KC-API-SIGN": expected,
        "KC-API-TIMESTAMP": TIMESTAMP,
        "KC-API-PASSPHRASE": APPENDIX_A_PASSPHRASE,
        "KC-API-KEY-VERSION": "2",
    }


def test_appendix_a_key_version_2_passphrase() -> None:
    assert signed_passphrase("SECRET", "PASS") == APPENDIX_A_PASSPHRASE


def test_method_is_upper_cased_and_body_is_signed() -> None:
    body = b'{"symbol":"BTC-USDT"}'
    assert sign("SECRET", TIMESTAMP, "post", "/api/v1/hf/orders", body) == sign(
        "SECRET", TIMESTAMP, "POST", "/api/v1/hf/orders", body
    )
    assert sign("SECRET", TIMESTAMP, "POST", "/api/v1/hf/orders", body) != sign(
        "SECRET", TIMESTAMP, "POST", "/api/v1/hf/orders", b""
    )


def test_matches_kucoins_official_sdk_signer() -> None:
    # KcSigner signs timestamp + (METHOD + endpoint + body) and HMACs the passphrase at construction.
    sdk = KcSigner("KEY", "s3cr3t-uuid-like", "my passphrase!")
    endpoint = f"/api/v1/hf/orders/{ORDER_ID}?symbol=ETH-USDT"
    sdk_headers = sdk.headers("DELETE" + endpoint)
    ours = auth_headers(
        "KEY", "s3cr3t-uuid-like", "my passphrase!", sdk_headers["KC-API-TIMESTAMP"], "DELETE", endpoint
    )
    assert ours["KC-API-SIGN"] == sdk_headers["KC-API-SIGN"]
    assert ours["KC-API-PASSPHRASE"] == sdk_headers["KC-API-PASSPHRASE"]


@pytest.mark.parametrize(
    ("extras", "symbol_pair", "endpoint"),
    [
        ({}, None, f"/api/v1/orders/{ORDER_ID}"),
        ({"hf": False}, "BTC-USDT", f"/api/v1/orders/{ORDER_ID}"),
        ({"hf": True}, "BTC-USDT", f"/api/v1/hf/orders/{ORDER_ID}?symbol=BTC-USDT"),
        ({"hf": True}, "btc/usdt", f"/api/v1/hf/orders/{ORDER_ID}?symbol=BTC-USDT"),
        ({"hf": True}, "BTCUSDT", f"/api/v1/hf/orders/{ORDER_ID}?symbol=BTC-USDT"),
    ],
)
def test_the_adapter_signs_the_appendix_a_endpoints(
    extras: dict[str, object], symbol_pair: str | None, endpoint: str
) -> None:
    adapter = KucoinAdapter(SPECS[IntegrationType.kuCoin], "http://unused", Transport(timeout_s=1))
    creds = Credentials(IntegrationType.kuCoin, "KEY", "SECRET", "PASS", extras)
    built = adapter._order_endpoint(creds, OrderRef(ORDER_ID, True, symbol_pair=symbol_pair))
    assert built == endpoint
    assert sign("SECRET", TIMESTAMP, "DELETE", built) == dict(APPENDIX_A)[endpoint]
