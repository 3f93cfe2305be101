"""The official Coinbase SDK (coinbase-advanced-py) against the simulator, over real HTTPS.

The SDK shares no code with ordergate: when its JWTs (ES256 and EdDSA) pass the simulator's verifier and its
create / get / cancel calls read the answers it expects, the simulator speaks Coinbase's protocol rather than
ordergate's idea of it. The SDK always calls `https://{base_url}{path}` and signs `uri` as
`"{METHOD} {base_url}{path}"`, so it is pointed at the simulator the supported way: `base_url="127.0.0.1:<port>"`,
with the simulator served over TLS by a throwaway certificate for 127.0.0.1 that the SDK's own `requests` session
is told to trust (`client.session.verify`, with `trust_env` off so that a CA bundle named in the environment does
not override it). Nothing in the SDK is patched.
"""

from __future__ import annotations

import datetime
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests
from coinbase import jwt_generator
from coinbase.rest import RESTClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.exceptions import HTTPError

from ordergate.venues.coinbase.simulator import CoinbaseSimulator
from ordergate.venues.simkit import SimAccount
from tests.support.servers import serve_asgi


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CoinbaseSimulator, str, Path]]:
    cert, key = _self_signed(tmp_path_factory.mktemp("tls"))
    sim = CoinbaseSimulator()
    with serve_asgi(sim.app, ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        yield sim, url.removeprefix("http://"), cert


def sdk(served: tuple[CoinbaseSimulator, str, Path], account: SimAccount) -> RESTClient:
    _, host, cert = served
    client = RESTClient(api_key=account.api_key, api_secret=account.secret, base_url=host, timeout=10)
    client.session.verify = str(cert)
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's `verify`; this session trusts only ours.
    client.session.trust_env = False
    return client


@pytest.mark.parametrize("kind", ["ec", "ed25519"])
def test_sdk_places_gets_and_cancels_with_both_key_kinds(
    served: tuple[CoinbaseSimulator, str, Path], kind: str
) -> None:
    sim = served[0]
    account = sim.new_credentials(kind)
    client = sdk(served, account)

    assert client.get_api_key_permissions().can_trade is True
    placed = client.limit_order_gtc_buy("c-" + kind, "BTC-USD", base_size="0.5", limit_price="25000")
    assert placed.success is True
    order_id = placed.success_response["order_id"]
    assert placed.success_response["client_order_id"] == "c-" + kind

    order = client.get_order(order_id).order
    assert (order.status, order.side, order.product_id, order.filled_size) == ("OPEN", "BUY", "BTC-USD", "0")
    assert order.order_configuration.limit_limit_gtc.base_size == "0.5"

    (result,) = client.cancel_orders([order_id]).results
    # Coinbase's success still carries the enum's default failure_reason.
    assert (result.success, result.failure_reason, result.order_id) == (True, "UNKNOWN_CANCEL_FAILURE_REASON", order_id)
    assert client.get_order(order_id).order.status == "CANCELLED"
    (again,) = client.cancel_orders([order_id]).results
    assert (again.success, again.failure_reason) == (False, "UNKNOWN_CANCEL_ORDER")
    assert sim.count(account.api_key, "batch_cancel") == 2


def test_sdk_lists_orders_page_by_page(served: tuple[CoinbaseSimulator, str, Path]) -> None:
    """The SDK's list_orders (repeated order_status, limit, cursor, start_date) reads the simulator's listing."""
    sim = served[0]
    account = sim.new_credentials()
    client = sdk(served, account)
    ids = []
    for n in range(3):
        placed = client.limit_order_gtc_buy(f"list-{n}", "BTC-USD", base_size="0.1", limit_price="20000")
        ids.append(placed.success_response["order_id"])
    sim.fill(ids[0])

    first = client.list_orders(limit=2)
    assert ([o.order_id for o in first.orders], first.has_next) == ([ids[2], ids[1]], True)
    rest = client.list_orders(limit=2, cursor=first.cursor)
    assert ([o.order_id for o in rest.orders], rest.has_next, rest.cursor) == ([ids[0]], False, "")
    assert [o.order_id for o in client.list_orders(order_status=["OPEN"]).orders] == [ids[2], ids[1]]
    assert [o.order_id for o in client.list_orders(order_status=["FILLED", "CANCELLED"]).orders] == [ids[0]]
    assert client.list_orders(start_date="2999-01-01T00:00:00Z").orders == []
    with pytest.raises(HTTPError) as mixed:
        client.list_orders(order_status=["OPEN", "FILLED"])
    assert mixed.value.response.status_code == 400


def test_batch_cancel_answers_each_order_inside_http_200(served: tuple[CoinbaseSimulator, str, Path]) -> None:
    sim = served[0]
    account, other = sim.new_credentials(), sim.new_credentials("ed25519")
    client = sdk(served, account)
    open_id, filled_id, foreign_id = (sim.place_order(a.api_key) for a in (account, account, other))
    sim.fill(filled_id)
    never = "00000000-0000-4000-8000-000000000000"

    results = client.cancel_orders([open_id, filled_id, foreign_id, never]).results

    assert [(r.order_id, r.success, r.failure_reason) for r in results] == [
        (open_id, True, "UNKNOWN_CANCEL_FAILURE_REASON"),
        (filled_id, False, "ORDER_IS_FULLY_FILLED"),
        (foreign_id, False, "UNKNOWN_CANCEL_ORDER"),
        (never, False, "UNKNOWN_CANCEL_ORDER"),
    ]
    assert sim.order(foreign_id)["status"] == "OPEN"
    filled = client.get_order(filled_id).order
    assert (filled.status, filled.filled_size, filled.completion_percentage) == ("FILLED", "1", "100.00")


def test_unknown_and_foreign_orders_are_404_not_found(served: tuple[CoinbaseSimulator, str, Path]) -> None:
    sim = served[0]
    account, other = sim.new_credentials(), sim.new_credentials()
    client = sdk(served, account)
    for order_id in (sim.place_order(other.api_key), "00000000-0000-4000-8000-000000000000"):
        with pytest.raises(HTTPError) as caught:
            client.get_order(order_id)
        assert caught.value.response.status_code == 404
        assert caught.value.response.json()["error_details"] == "order with this orderID was not found"


def test_key_without_trade_permission_is_403_missing_scopes(served: tuple[CoinbaseSimulator, str, Path]) -> None:
    sim = served[0]
    viewer = sim.new_credentials(can_trade=False)
    client = sdk(served, viewer)
    assert client.get_api_key_permissions().can_trade is False
    order_id = sim.place_order(viewer.api_key)
    with pytest.raises(HTTPError, match="Missing Required Scopes") as caught:
        client.cancel_orders([order_id])
    assert caught.value.response.status_code == 403
    assert sim.order(order_id)["status"] == "OPEN"


def _raw(served: tuple[CoinbaseSimulator, str, Path], token: str, path: str) -> requests.Response:
    _, host, cert = served
    with requests.Session() as session:
        session.trust_env = False
        headers = {"Authorization": f"Bearer {token}"}
        return session.get(f"https://{host}{path}", headers=headers, verify=str(cert), timeout=10)


def test_wrong_signature_uri_or_expiry_is_401_plain_unauthorized(served: tuple[CoinbaseSimulator, str, Path]) -> None:
    sim, host, _ = served
    account = sim.new_credentials()
    path = "/api/v3/brokerage/key_permissions"
    good = jwt_generator.build_rest_jwt(jwt_generator.format_jwt_uri("GET", path).replace("api.coinbase.com", host),
                                        account.api_key, account.secret)  # fmt: skip
    assert _raw(served, good, path).status_code == 200

    other = sim.new_credentials()
    private = serialization.load_pem_private_key(account.secret.encode(), password=None)
    now = int(time.time())
    claims = {"sub": account.api_key, "iss": "cdp", "nbf": now - 300, "exp": now - 180, "uri": f"GET {host}{path}"}
    expired = jwt.encode(claims, private, algorithm="ES256", headers={"kid": account.api_key, "nonce": "ab" * 32})
    wrong = {
        "signature": good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB"),
        "signed by another key": jwt_generator.build_rest_jwt(f"GET {host}{path}", account.api_key, other.secret),
        "uri of another request": jwt_generator.build_rest_jwt(f"GET {host}/v2/user", account.api_key, account.secret),
        "uri of api.coinbase.com": jwt_generator.build_rest_jwt(f"GET api.coinbase.com{path}", account.api_key,
                                                                account.secret),
        "expired": expired,
    }  # fmt: skip
    for why, token in wrong.items():
        answer = _raw(served, token, path)
        assert (answer.status_code, answer.text, why) == (401, "Unauthorized", why)
        assert answer.headers["content-type"].startswith("text/plain")
    assert sim.count(account.api_key, "key_permissions") == 1 + len(wrong)


def test_oauth_access_token_is_taken_as_a_bearer(served: tuple[CoinbaseSimulator, str, Path]) -> None:
    sim = served[0]
    token_account = sim.new_credentials("oauth")
    user = _raw(served, token_account.secret, "/v2/user")
    assert user.status_code == 200 and user.json()["data"]["resource"] == "user"
    assert _raw(served, "not-a-token", "/v2/user").status_code == 401
    order_id = sim.place_order(token_account.api_key)
    order = _raw(served, token_account.secret, f"/api/v3/brokerage/orders/historical/{order_id}")
    assert order.json()["order"]["order_id"] == order_id


def test_sdk_kill_switch_sequence_lists_open_orders_and_cancels_them_in_one_batch(
    served: tuple[CoinbaseSimulator, str, Path],
) -> None:
    """What ordergate's Coinbase kill switch sends, through the SDK: list_orders(OPEN), then cancel_orders(all)."""
    sim = served[0]
    account = sim.new_credentials()
    client = sdk(served, account)
    placed = {sim.place_order(account.api_key) for _ in range(30)}
    listed = client.list_orders(order_status=["OPEN"], limit=250)
    assert {o.order_id for o in listed.orders} == placed and listed.has_next is False
    results = client.cancel_orders([o.order_id for o in listed.orders]).results
    assert {r.order_id for r in results if r.success} == placed
    assert client.list_orders(order_status=["OPEN"]).orders == []
