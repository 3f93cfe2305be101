"""Bybit signing against the Appendix A vector and the official SDK (pybit), which shares no code with ordergate.

Bybit's docs (docs/v5/guide.mdx) show the string to sign for a GET and a POST but publish no signature value, so
the cross-check is pybit's own signer with a frozen clock.
"""

from __future__ import annotations

import json

import pytest
from pybit import _helpers
from pybit.unified_trading import HTTP

from ordergate.venues.bybit.adapter import cancel_body, lookup_query
from ordergate.venues.bybit.auth import sign, signed_headers

# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe): key KEY, secret SECRET.
APPENDIX_A_BODY = b'{"category":"spot","symbol":"BTCUSDT","orderId":"1234567890"}'
APPENDIX_A_SIGN = "f46f923b1df12c57aee3835dcb42853f720753e96e7083417a9a447f72eabe45"


def test_appendix_a_cancel_vector_from_the_adapter_body() -> None:
    body = cancel_body("BTCUSDT", "1234567890")
    assert body == APPENDIX_A_BODY
    assert sign("SECRET", 1700000000000, "KEY", 5000, body) == APPENDIX_A_SIGN
    headers = signed_headers("KEY", "SECRET", 1700000000000, 5000, body)
    assert headers == {
        "X-BAPI-API-KEY": "KEY",
        "X-BAPI-TIMESTAMP": "1700000000000",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": APPENDIX_A_SIGN,
    }


def test_a_changed_byte_changes_the_signature() -> None:
    # The pretty-printed body of Bybit's doc example is a different payload: the bytes sent are what is signed.
    pretty = json.dumps(json.loads(APPENDIX_A_BODY), indent=1).encode()
    assert sign("SECRET", 1700000000000, "KEY", 5000, pretty) != APPENDIX_A_SIGN
    assert sign("SECRET", 1700000000001, "KEY", 5000, APPENDIX_A_BODY) != APPENDIX_A_SIGN
    assert sign("SECRET", 1700000000000, "KEY", 5001, APPENDIX_A_BODY) != APPENDIX_A_SIGN


@pytest.fixture
def pybit_session(monkeypatch: pytest.MonkeyPatch) -> HTTP:
    monkeypatch.setattr(_helpers, "generate_timestamp", lambda: 1700000000000)
    return HTTP(api_key="KEY", api_secret="SECRET", recv_window=5000)


def test_post_signature_matches_pybit(pybit_session: HTTP) -> None:
    # pybit signs json.dumps(params) (with spaces); each side signs exactly what it sends.
    payload = pybit_session.prepare_payload("POST", {"category": "spot", "symbol": "BTCUSDT", "orderId": "1234567890"})
    theirs = pybit_session._prepare_headers(payload, 5000)
    assert theirs["X-BAPI-SIGN"] == sign("SECRET", 1700000000000, "KEY", 5000, payload.encode())
    assert (
        theirs["X-BAPI-SIGN"] == signed_headers("KEY", "SECRET", 1700000000000, 5000, payload.encode())["X-BAPI-SIGN"]
    )


def test_get_signature_matches_pybit(pybit_session: HTTP) -> None:
    query = lookup_query("1234567890")
    # pybit sorts GET parameters by name; ours are category, orderId: the same string either way.
    assert pybit_session.prepare_payload("GET", {"orderId": "1234567890", "category": "spot"}) == query.decode()
    theirs = pybit_session._prepare_headers(query.decode(), 5000)
    assert theirs["X-BAPI-SIGN"] == sign("SECRET", 1700000000000, "KEY", 5000, query)
    assert (theirs["X-BAPI-TIMESTAMP"], theirs["X-BAPI-RECV-WINDOW"]) == ("1700000000000", "5000")
