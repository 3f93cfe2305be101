"""CoinList signing against the Appendix A vector and ccxt 4.4.88's own `sign()`, and the targets the adapter signs."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.venues.coinlist.adapter import order_target
from ordergate.venues.coinlist.auth import sign, signed_headers
from tests.support.oracle_venvs import CCXT_COINLIST, RegistryUnreachable, ccxt_coinlist_python

B64S = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
ORDER_ID = "d36e7588-6525-485c-b768-8ad8b3f745f9"
# crypto-venues.md Appendix A (CoinList, "own recipe"): ts 1700000000, DELETE /v1/orders/{ORDER_ID}, secret B64S.
APPENDIX_A_SIGN = "BwIShuhqS2ytMC+UrGHWVDBGapWa4+/+FFIbzlikwyg="

# Runs in the old-ccxt venv: ccxt's sign() with its clock frozen, for the requests the adapter and the oracle make.
_CCXT_SIGN = """
import json, sys, ccxt
exchange = ccxt.coinlist({"apiKey": "KEY", "secret": sys.argv[1]})
exchange.seconds = lambda: 1700000000
out = []
for path, method, params in json.loads(sys.argv[2]):
    signed = exchange.sign(path, "private", method, params)
    out.append({"url": signed["url"], "body": signed["body"], "headers": signed["headers"]})
print(json.dumps(out))
"""


def test_appendix_a_cancel_vector() -> None:
    assert order_target(ORDER_ID) == f"/v1/orders/{ORDER_ID}"
    assert sign(B64S, "1700000000", "DELETE", order_target(ORDER_ID)) == APPENDIX_A_SIGN


def test_signature_matches_ccxt_4_4_88() -> None:
    try:
        python = ccxt_coinlist_python()
    except RegistryUnreachable as exc:
        pytest.skip(f"the package registry is unreachable, so ccxt {CCXT_COINLIST} is missing: {exc}")
    cases = [
        ("v1/orders/{order_id}", "DELETE", {"order_id": ORDER_ID}),
        ("v1/orders/{order_id}", "GET", {"order_id": ORDER_ID}),
        ("v1/accounts", "GET", {}),
        ("v1/orders", "GET", {"symbol": "BTC-USDT", "status": "accepted"}),
        ("v1/orders", "POST", {"symbol": "BTC-USDT", "type": "limit", "side": "buy", "size": "1", "price": "2"}),
    ]
    done = subprocess.run(
        [str(python), "-c", _CCXT_SIGN, B64S, json.dumps(cases)], capture_output=True, text=True, check=True
    )
    signed = json.loads(done.stdout)
    assert signed[0]["headers"]["CL-ACCESS-SIG"] == APPENDIX_A_SIGN  # the vector is ccxt's too
    for ccxt_request, (_, method, _params) in zip(signed, cases, strict=True):
        target = ccxt_request["url"].removeprefix("https://trade-api.coinlist.co")
        body = (ccxt_request["body"] or "").encode()
        ours = signed_headers("KEY", B64S, "1700000000", method, target, body)
        assert ccxt_request["headers"] == ours
    assert signed[1]["url"].endswith(f"/v1/orders/{ORDER_ID}") and signed[3]["url"].endswith(
        "?symbol=BTC-USDT&status=accepted"
    )


@pytest.mark.parametrize(
    "order_id",
    ["../accounts", "a?b=c", "a/b", "%2e%2e", "", "-1", ORDER_ID + "\n", ORDER_ID.replace("-", ""), "x" * 10_240],
)
def test_ids_that_are_not_uuids_never_become_a_target(order_id: str) -> None:
    with pytest.raises(GatewayError) as caught:
        order_target(order_id)
    assert caught.value.error_type is ErrorType.invalidField
    assert list(caught.value.error_data["fields"]) == ["id"]


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(ValueError):
        sign("not base64!", "1700000000", "GET", "/v1/accounts")


def test_the_client_module_imports_nothing_of_ours() -> None:
    # The oracle must stay independent of ordergate.
    client = Path(__file__).with_name("coinlist_ccxt_client.py").read_text()
    assert "ordergate" not in client.split('"""', 2)[2]
