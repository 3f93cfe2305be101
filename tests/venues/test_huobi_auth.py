"""HTX signature v2 against the Appendix A vector, the docs' example and ccxt's signer."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import ccxt
import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.huobi.adapter import HuobiAdapter
from ordergate.venues.huobi.auth import canonical_query, sign, signed_host, signed_query, timestamp
from ordergate.venues.huobi.constants import ORDER_ID_SHAPE
from ordergate.venues.transport import Transport

STAMP = "2023-11-14T22:13:20"  # 1700000000 s
# crypto-venues.md Appendix A: ccxt 4.5.90 with the clock frozen, recomputed from the recipe.
APPENDIX_A = "Signature=cuMXldeMlUmwRMqAR0jWoKxRqGC%2BaZcr5yokdCtF1Aw%3D"


def test_appendix_a_cancel_vector() -> None:
    query = signed_query("KEY", "SECRET", "POST", "api.huobi.pro", "/v1/order/orders/59378/submitcancel", STAMP)
    assert query == (
        "AccessKeyId=KEY&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2023-11-14T22%3A13%3A20&" + APPENDIX_A
    )
    assert timestamp(1700000000) == STAMP


def test_the_docs_pre_signed_text_order() -> None:
    # The docs' example: parameters sorted by ASCII, so `order-id` (lower case) comes after `Timestamp`.
    params = [
        ("order-id", "1234567890"),
        ("AccessKeyId", "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx"),
        ("SignatureMethod", "HmacSHA256"),
        ("SignatureVersion", "2"),
        ("Timestamp", "2017-05-11T15:19:30"),
    ]
    assert canonical_query(params) == (
        "AccessKeyId=e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx&SignatureMethod=HmacSHA256&SignatureVersion=2"
        "&Timestamp=2017-05-11T15%3A19%3A30&order-id=1234567890"
    )


@pytest.mark.parametrize(
    ("path", "method", "params"),
    [
        ("v1/order/orders/{order-id}/submitcancel", "POST", {"order-id": "59378"}),
        ("v1/order/orders/{order-id}", "GET", {"order-id": "59378"}),
        ("v1/account/accounts", "GET", {}),
    ],
)
def test_signature_matches_ccxt(path: str, method: str, params: dict[str, str]) -> None:
    exchange = ccxt.htx({"apiKey": "KEY", "secret": "SECRET"})
    exchange.nonce = lambda: 1700000000000
    signed = exchange.sign(path, ["spot", "private"], method, dict(params))
    url = urlsplit(signed["url"])
    ours = signed_query("KEY", "SECRET", method, "api.huobi.pro", url.path, STAMP)
    assert dict(parse_qsl(url.query)) == dict(parse_qsl(ours))


def test_the_host_and_path_are_signed() -> None:
    base = sign("SECRET", "GET", "api.huobi.pro", "/v1/account/accounts", "a=1")
    assert base != sign("SECRET", "GET", "api.huobi.pro:8443", "/v1/account/accounts", "a=1")
    assert base != sign("SECRET", "GET", "api.huobi.pro", "/prefix/v1/account/accounts", "a=1")


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://api.huobi.pro", "api.huobi.pro"),
        ("https://API.Huobi.PRO:443/", "api.huobi.pro"),
        ("http://127.0.0.1:8080/sandbox/huobi", "127.0.0.1:8080"),
        ("http://localhost:80", "localhost"),
        ("https://[::1]:9000", "[::1]:9000"),
    ],
)
def test_signed_host_is_the_host_header(url: str, host: str) -> None:
    assert signed_host(urlsplit(url)) == host


def test_order_id_shape_example_is_valid() -> None:
    pattern, example = ORDER_ID_SHAPE
    assert re.fullmatch(pattern, example)


@pytest.mark.parametrize(
    "order_id",
    ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\nX: y", "1" * 10_000, "01", "12345678901234567890"],
)
async def test_ids_that_are_not_htx_ids_never_reach_the_venue(order_id: str) -> None:
    transport = Transport(timeout_s=1)
    adapter = HuobiAdapter(SPECS[IntegrationType.huobi], "http://127.0.0.1:9", transport)
    creds = Credentials(IntegrationType.huobi, "k", "s")
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, OrderRef(order_id, True))
        assert caught.value.error_type is ErrorType.invalidField
    assert transport.requests_sent == 0
    await transport.close()
