"""Webull's signature recipe against the golden vector in shared/reference/broker-venues.md (recomputed there from
the SDK's signature), and the pieces the recipe is made of."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote

from ordergate.venues.webull.auth import compact_body, signature, signed_headers, string_to_sign

NONCE = "dcc7b071-c792-5d43-9c0f-f94bcef2e12f"
STAMP = datetime(2026, 11, 24, 14, 32, 58, tzinfo=UTC)
BODY_DIGEST = "DBD1D5F01D555681D038EAF476A0DEE16A8A3A58B9E7F6D1E288CF64A1BB56CC"
GOLDEN = (
    "/trading/orders/cancel&host=127.0.0.1&x-app-key=APPKEY&x-signature-algorithm=HMAC-SHA256"
    f"&x-signature-nonce={NONCE}&x-signature-version=1.0&x-timestamp=2026-11-24T14:32:58Z&{BODY_DIGEST}"
)


def test_golden_vector() -> None:
    from urllib.parse import quote

    assert signature("APPSECRET", quote(GOLDEN, safe="")) == "GTIIisMf76/AEh2g4cJxrC+N9lH74JcEs9GA6tCIxCs="


def test_string_to_sign_layout_without_body() -> None:
    headers = signed_headers(
        "APPKEY", "APPSECRET", uri="/trading/orders/cancel", host="127.0.0.1", now=STAMP, nonce=NONCE
    )
    signed = {k: v for k, v in headers.items() if k != "x-signature"}
    text = string_to_sign("/trading/orders/cancel", signed, "127.0.0.1", {}, None)
    assert unquote(text) == GOLDEN.rsplit("&", 1)[0]
    assert "/" not in text and "=" not in text  # percent-encoded with nothing safe
    assert headers["x-signature"] == signature("APPSECRET", text)


def test_query_joins_a_colliding_header_and_body_is_compact() -> None:
    signed = {"x-app-key": "K"}
    text = unquote(string_to_sign("/p", signed, "h", {"x-app-key": "Q", "a": "1"}, b"{}"))
    assert text == "/p&a=1&host=h&x-app-key=K&Q&" + "44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A"
    assert compact_body({"a": "ü", "b": [1, 2]}) == '{"a":"ü","b":[1,2]}'.encode()


def test_different_secret_different_signature() -> None:
    one = signed_headers("K", "S1", uri="/x", host="h", now=STAMP, nonce=NONCE)
    two = signed_headers("K", "S2", uri="/x", host="h", now=STAMP, nonce=NONCE)
    assert one["x-signature"] != two["x-signature"]
    assert one["x-timestamp"] == "2026-11-24T14:32:58Z"
