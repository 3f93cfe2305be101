"""OAuth 1.0a HMAC-SHA1 golden vectors: RFC 5849's own examples and the E*TRADE capture in
shared/reference/broker-venues.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import unquote

from ordergate.venues.etrade.auth import Consumer, Token, authorization, base_string, base_url, pct, signature

# shared/reference/broker-venues.md, E*TRADE "Example base string from the capture" (pyetrade's cancel_order against
# a loopback server); the capture elides the nonce, so both sides of it are checked.
CAPTURE_PREFIX = (
    "PUT&http%3A%2F%2F127.0.0.1%3A18090%2Fv1%2Faccounts%2FacctKey123%2Forders%2Fcancel"
    "&oauth_consumer_key%3DCK%26oauth_nonce%3D"
)
CAPTURE_SUFFIX = (
    "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1795530908%26oauth_token%3DRK%26oauth_version%3D1.0"
)


def test_rfc5849_signature_base_string_example() -> None:
    """RFC 5849 §3.4.1.1: query and form parameters, repeated names, encoded names, realm left out."""
    query = [("b5", "=%3D"), ("a3", "a"), ("c@", ""), ("a2", "r b")]
    form = [("c2", ""), ("a3", "2 q")]
    oauth = [
        ("realm", "Example"),
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
    ]
    url = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
    assert base_string("post", url, [*query, *form, *oauth]) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D"
        "%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1"
        "%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    )


def test_rfc5849_photos_example_signature() -> None:
    """RFC 5849 §1.2 (photos.example.net), whose printed signature its errata correct to this value."""
    params = [
        ("file", "vacation.jpg"),
        ("size", "original"),
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]
    base = base_string("GET", "http://photos.example.net/photos?file=vacation.jpg&size=original", params)
    assert signature(base, "kd94hf93k423kf44", "pfkkdhi9sl3r4s00") == "MdpQcU8iPSUjWoN/UDMsK2sui9I="


def test_the_reference_capture_base_string_and_its_header() -> None:
    url = "http://127.0.0.1:18090/v1/accounts/acctKey123/orders/cancel"
    header = authorization(
        "PUT",
        url,
        Consumer("CK", "CS"),
        Token("RK", "RS"),
        nonce="4572616e48616d6d65724c61686176",
        timestamp=1795530908,
    )
    fields = dict(re.findall(r'(\w+)="([^"]*)"', header))
    params = [(k, unquote(v)) for k, v in fields.items()]
    base = base_string("PUT", url, params)
    assert base == CAPTURE_PREFIX + "4572616e48616d6d65724c61686176" + CAPTURE_SUFFIX
    # by hand: key = pct(consumer secret) & pct(token secret), base64 HMAC-SHA1, percent-encoded in the header
    expected = base64.b64encode(hmac.new(b"CS&RS", base.encode(), hashlib.sha1).digest()).decode()
    assert unquote(fields["oauth_signature"]) == expected
    assert header.startswith('OAuth realm="", oauth_consumer_key="CK"')


def test_query_parameters_are_signed_and_tokens_with_base64_characters_are_encoded() -> None:
    url = "https://api.etrade.com/v1/accounts/k/orders?status=OPEN&count=25"
    token = Token("ab+c/d=", "s+/=")
    header = authorization("GET", url, Consumer("ck", "c+s"), token, nonce="n", timestamp=1)
    fields = {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}
    assert fields["oauth_token"] == "ab+c/d=" and 'oauth_token="ab%2Bc%2Fd%3D"' in header
    params = [*fields.items(), ("status", "OPEN"), ("count", "25")]
    base = base_string("GET", url, params)
    assert "count%3D25" in base and "status%3DOPEN" in base
    assert fields["oauth_signature"] == signature(base, "c+s", "s+/=")
    # key = pct(secret) & pct(token secret): '+' is encoded before it is a key byte
    raw = base64.b64encode(hmac.new(b"c%2Bs&s%2B%2F%3D", base.encode(), hashlib.sha1).digest()).decode()
    assert fields["oauth_signature"] == raw


def test_base_url_drops_default_ports_query_and_case() -> None:
    assert base_url("HTTPS://API.ETrade.com:443/v1/accounts/list?x=1") == "https://api.etrade.com/v1/accounts/list"
    assert base_url("http://127.0.0.1:80/a") == "http://127.0.0.1/a"
    assert base_url("http://127.0.0.1:18090/a") == "http://127.0.0.1:18090/a"
    assert pct("a b~*") == "a%20b~%2A"
