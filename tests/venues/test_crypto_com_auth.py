"""Crypto.com signing against the Appendix A vector, the docs' parameter-string rules, and ccxt's signer (which
shares no code with ordergate) with a frozen clock."""

from __future__ import annotations

import json

import ccxt

from ordergate.venues.crypto_com.auth import param_string, sign, signed_body

# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe): key KEY, secret SECRET.
APPENDIX_A_PARAMS = {"order_id": "6142909895025252686"}
APPENDIX_A_SIG = "9d2fb4cbaab28886307addbf9fc8ae4f3da4bb9fe91f83e929be0be5bec33ea1"
STAMP = 1700000000000


def test_appendix_a_cancel_vector() -> None:
    assert sign("SECRET", "private/cancel-order", STAMP, "KEY", APPENDIX_A_PARAMS, STAMP) == APPENDIX_A_SIG
    body = json.loads(
        signed_body("KEY", "SECRET", "private/cancel-order", APPENDIX_A_PARAMS, request_id=STAMP, nonce=STAMP)
    )
    assert body == {
        "id": "1700000000000",
        "method": "private/cancel-order",
        "api_key": "KEY",
        "params": APPENDIX_A_PARAMS,
        "nonce": "1700000000000",
        "sig": APPENDIX_A_SIG,
    }


def test_each_signed_part_matters() -> None:
    assert sign("SECRET", "private/cancel-order", STAMP + 1, "KEY", APPENDIX_A_PARAMS, STAMP) != APPENDIX_A_SIG
    assert sign("SECRET", "private/cancel-order", STAMP, "KEY", APPENDIX_A_PARAMS, STAMP + 1) != APPENDIX_A_SIG
    assert sign("SECRET", "private/get-order-detail", STAMP, "KEY", APPENDIX_A_PARAMS, STAMP) != APPENDIX_A_SIG
    assert sign("SECRET", "private/cancel-order", STAMP, "KEY", {"order_id": "6142909895025252687"}, STAMP) != (
        APPENDIX_A_SIG
    )
    assert sign("SECRET2", "private/cancel-order", STAMP, "KEY", APPENDIX_A_PARAMS, STAMP) != APPENDIX_A_SIG


def test_param_string_follows_the_documented_rules() -> None:
    # Keys sorted ascending, key + value, no separators.
    params = {"type": "LIMIT", "side": "BUY", "quantity": "0.5", "price": "50000.00", "instrument_name": "BTCUSD-PERP"}
    assert param_string(params) == "instrument_nameBTCUSD-PERPprice50000.00quantity0.5sideBUYtypeLIMIT"
    # The docs' create-order-list sample: a list of objects, each walked in sorted key order.
    listed = {
        "contingency_type": "LIST",
        "order_list": [
            {"instrument_name": "ONE_USDT", "side": "BUY", "type": "LIMIT", "price": "0.24", "quantity": "1.0"},
            {"instrument_name": "ONE_USDT", "side": "BUY", "type": "STOP_LIMIT", "price": "0.27", "quantity": "1.0",
             "trigger_price": "0.26"},
        ],
    }  # fmt: skip
    assert param_string(listed) == (
        "contingency_typeLISTorder_list"
        "instrument_nameONE_USDTprice0.24quantity1.0sideBUYtypeLIMIT"
        "instrument_nameONE_USDTprice0.27quantity1.0sideBUYtrigger_price0.26typeSTOP_LIMIT"
    )
    assert param_string({"a": None, "b": ["X", "Y"]}) == "anullbXY"
    assert param_string({}) == ""


def _ccxt_body(method: str, params: dict[str, str]) -> dict[str, str]:
    exchange = ccxt.cryptocom({"apiKey": "KEY", "secret": "SECRET"})
    exchange.nonce = lambda: STAMP
    return json.loads(exchange.sign(method, ["v1", "private"], "POST", dict(params))["body"])


def test_cancel_and_lookup_signatures_match_ccxt() -> None:
    for method in ("private/cancel-order", "private/get-order-detail"):
        theirs = _ccxt_body(method, APPENDIX_A_PARAMS)
        ours = json.loads(signed_body("KEY", "SECRET", method, APPENDIX_A_PARAMS, request_id=STAMP, nonce=STAMP))
        assert theirs == ours  # the same fields, values and signature; only the key order differs
    assert _ccxt_body("private/cancel-order", APPENDIX_A_PARAMS)["sig"] == APPENDIX_A_SIG


def test_an_empty_params_signature_matches_ccxt() -> None:
    theirs = _ccxt_body("private/get-accounts", {})
    assert theirs["params"] == {}
    assert theirs["sig"] == sign("SECRET", "private/get-accounts", STAMP, "KEY", {}, STAMP)
