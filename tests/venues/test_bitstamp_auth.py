"""Bitstamp v2 signing against the Appendix A vector and ccxt's sign(), and the ids the adapter lets through."""

from __future__ import annotations

import hashlib
import hmac
import re

import ccxt
import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.venues.bitstamp.adapter import order_body
from ordergate.venues.bitstamp.auth import answer_signature, new_nonce, signed_headers
from ordergate.venues.bitstamp.constants import ORDER_ID_SHAPE

NONCE = "00000000-0000-0000-0000-000000000000"
STAMP = "1700000000000"
# crypto-venues.md Appendix A: ccxt 4.5.90 with the clock frozen at 1700000000000 ms, recomputed from the recipe.
APPENDIX_A_SIGN = "433fa0a1f8b0243a8272e8520564dead01a4284a8d86aaa9051576fa32cac4f7"


def test_appendix_a_cancel_vector() -> None:
    body = order_body("1453282316578816")
    assert body == b"id=1453282316578816"
    headers = signed_headers("KEY", "SECRET", "POST", "www.bitstamp.net", "/api/v2/cancel_order/", body,
                             nonce=NONCE, stamp=STAMP)  # fmt: skip
    assert headers == {
        "X-Auth": "BITSTAMP KEY",
        "X-Auth-Signature": APPENDIX_A_SIGN,
        "X-Auth-Nonce": NONCE,
        "X-Auth-Timestamp": STAMP,
        "X-Auth-Version": "v2",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _ccxt(path: str, params: dict[str, str]) -> dict[str, object]:
    exchange = ccxt.bitstamp({"apiKey": "KEY", "secret": "SECRET"})
    exchange.uuid = lambda: NONCE
    exchange.milliseconds = lambda: int(STAMP)
    return exchange.sign(path, ["private"], "POST", params)


@pytest.mark.parametrize(("path", "order_id"), [("cancel_order/", "1453282316578816"), ("order_status/", "7")])
def test_signature_matches_ccxt(path: str, order_id: str) -> None:
    signed = _ccxt(path, {"id": order_id})
    assert signed["url"] == f"https://www.bitstamp.net/api/v2/{path}" and signed["body"] == f"id={order_id}"
    ours = signed_headers("KEY", "SECRET", "POST", "www.bitstamp.net", f"/api/v2/{path}", order_body(order_id),
                          nonce=NONCE, stamp=STAMP)  # fmt: skip
    assert ours == signed["headers"]


def test_an_empty_body_is_signed_without_a_content_type() -> None:
    # Bitstamp: "if the request body is empty, the Content-Type header has to be removed both from the headers and
    # from the signature". ccxt never sends an empty private POST (it adds `foo=bar`), so the check is the recipe.
    headers = signed_headers("KEY", "SECRET", "POST", "www.bitstamp.net", "/api/v2/account_balances/", b"",
                             nonce=NONCE, stamp=STAMP)  # fmt: skip
    assert "Content-Type" not in headers
    with_dummy = _ccxt("account_balances/", {})
    assert with_dummy["body"] == "foo=bar" and with_dummy["headers"]["X-Auth-Signature"] != headers["X-Auth-Signature"]
    same_as_ccxt = signed_headers("KEY", "SECRET", "POST", "www.bitstamp.net", "/api/v2/account_balances/",
                                  b"foo=bar", nonce=NONCE, stamp=STAMP)  # fmt: skip
    assert same_as_ccxt == with_dummy["headers"]


def test_the_answer_signature_follows_the_documented_example() -> None:
    # string_to_sign = (nonce + timestamp + r.headers.get('Content-Type')).encode('utf-8') + r.content
    body = b'{"id": 1453282316578816}'
    expected = hmac.new(b"SECRET", (NONCE + STAMP + "application/json").encode() + body, hashlib.sha256).hexdigest()
    assert answer_signature("SECRET", NONCE, STAMP, "application/json", body) == expected


def test_nonces_are_36_character_uuids_and_differ() -> None:
    nonces = {new_nonce() for _ in range(100)}
    assert len(nonces) == 100 and all(re.fullmatch(r"[0-9a-f-]{36}", n) for n in nonces)


def test_order_id_shape() -> None:
    pattern, example = ORDER_ID_SHAPE
    assert re.fullmatch(pattern, example)
    assert order_body("9223372036854775807") == b"id=9223372036854775807"


@pytest.mark.parametrize(
    "order_id",
    ["-1", "", "0", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n", "1 ", "1&id=2", "٣", "1" * 20, "9" * 10_000, "0x1"],
)
def test_ids_that_are_not_bitstamp_ids_are_refused(order_id: str) -> None:
    with pytest.raises(GatewayError) as caught:
        order_body(order_id)
    assert caught.value.error_type is ErrorType.invalidField
    assert list(caught.value.error_data["fields"]) == ["id"]
