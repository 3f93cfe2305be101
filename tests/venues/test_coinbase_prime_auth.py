"""Coinbase Prime signing: the hand-checked Appendix A vector, the docs' own snippet, and Coinbase's prime-sdk-py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from prime_sdk import client as prime_client
from prime_sdk.client import Client
from prime_sdk.credentials import Credentials

from ordergate.venues.coinbase_prime.auth import headers, sign
from ordergate.venues.coinbase_prime.constants import cancel_path, order_path

# crypto-venues.md Appendix A ("own recipe", not cross-checked there): secret SECRET, ts 1700000000, empty body.
APPENDIX_A_PATH = "/v1/portfolios/PORTFOLIO/orders/ORDER/cancel"
APPENDIX_A_SIGN = "903KVfMp1m6x4WT4E9bK0v58ivF0GDL6KD3WepJFl+Q="


def test_appendix_a_vector() -> None:
    assert cancel_path("PORTFOLIO", "ORDER") == APPENDIX_A_PATH
    assert sign("1700000000", "POST", APPENDIX_A_PATH, b"", "SECRET") == APPENDIX_A_SIGN


def test_the_docs_python_snippet_gives_the_same_signature() -> None:
    # docs.cdp.coinbase.com/prime/rest-api/requests: message = timestamp + 'GET' + url_path;
    # base64.b64encode(hmac.digest(SECRET_KEY.encode(), message.encode(), hashlib.sha256))
    message = "1700000000" + "GET" + "/v1/portfolios"
    documented = base64.b64encode(hmac.digest(b"SECRET", message.encode(), hashlib.sha256)).decode()
    assert sign("1700000000", "GET", "/v1/portfolios", b"", "SECRET") == documented


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/portfolios/p-1/orders/o-1/cancel", None),
        ("GET", "/portfolios/p-1/orders/o-1", None),
        ("GET", "/portfolios", None),
        ("POST", "/portfolios/p-1/order", {"product_id": "BTC-USD", "side": "BUY", "base_quantity": "1"}),
    ],
)
def test_headers_match_coinbases_prime_sdk(
    monkeypatch: pytest.MonkeyPatch, method: str, path: str, body: dict[str, str] | None
) -> None:
    monkeypatch.setattr(prime_client.time, "time", lambda: 1700000000.7)  # the SDK truncates to integer seconds
    sdk = Client(Credentials(access_key="KEY", passphrase="PASS", signing_key="c2VjcmV0LXRleHQ="))
    expected = sdk.generate_headers(method, "/v1" + path, body)
    raw = json.dumps(body).encode() if body else b""
    ours = headers("KEY", "PASS", "1700000000", sign("1700000000", method, "/v1" + path, raw, "c2VjcmV0LXRleHQ="))
    assert {k: v for k, v in expected.items() if k.startswith("X-CB-")} == {
        k: v for k, v in ours.items() if k.startswith("X-CB-")
    }


def test_the_secret_is_used_as_text_not_base64_decoded() -> None:
    secret = base64.b64encode(b"0123456789abcdef").decode()
    decoded_key = base64.b64encode(
        hmac.digest(base64.b64decode(secret), b"1700000000GET/v1/portfolios", hashlib.sha256)
    ).decode()
    assert sign("1700000000", "GET", "/v1/portfolios", b"", secret) != decoded_key


def test_lookup_path() -> None:
    assert order_path("p", "o") == "/v1/portfolios/p/orders/o"
