"""Interactive Brokers' CP Gateway has no request signature to check against golden vectors: the gateway holds the
login. What stands in for the recipe is where requests go and whether the gateway's certificate is verified."""

from ordergate.venues.ibkr.auth import api_root, verify_tls
from ordergate.venues.ibkr.constants import ACCOUNT_ID, ORDER_ID_SHAPE


def test_tls_verification_stays_on_unless_the_operator_turns_it_off() -> None:
    assert verify_tls({}) and verify_tls({"ORDERGATE_IBKR_VERIFY_TLS": "true"})
    assert verify_tls({"ORDERGATE_IBKR_VERIFY_TLS": "yes please"})  # anything but an explicit "off" verifies
    for off in ("false", "False", "0", "no", "off"):
        assert not verify_tls({"ORDERGATE_IBKR_VERIFY_TLS": off})


def test_the_configured_gateway_root_or_api_base_lead_to_the_same_api() -> None:
    for configured in ("https://localhost:5000", "https://localhost:5000/", "https://localhost:5000/v1/api/"):
        assert api_root(configured) == "https://localhost:5000/v1/api"
    assert api_root("https://api.ibkr.com/v1/api") == "https://api.ibkr.com/v1/api"


def test_ids_in_url_paths_are_digits_and_account_ids_only() -> None:
    assert ORDER_ID_SHAPE.admits("1234567890") and not ORDER_ID_SHAPE.admits("-1")
    for account in ("U1234567", "DU1234567", "DF123456", "F7654321"):
        assert ACCOUNT_ID.fullmatch(account)
    for hostile in ("", "DU1/..", "U123?x", "u1234567", "U1234567\n", "../U1"):
        assert not ACCOUNT_ID.fullmatch(hostile)
