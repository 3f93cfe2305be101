"""ccxt's bitstamp (independent of ordergate) against the simulator over real HTTPS.

ccxt signs `url.replace('https://', '')`, so the simulator is served over TLS (a throwaway self-signed certificate):
ccxt then signs host + path exactly as it does for www.bitstamp.net. bitstampclient, the other Python client, only
speaks Bitstamp's legacy v1 signing and cannot be used.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import ccxt
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ordergate.venues.bitstamp.auth import answer_signature, signed_headers
from ordergate.venues.bitstamp.simulator import BitstampSimulator
from ordergate.venues.simkit import Fault, SimAccount
from tests.support.servers import serve_asgi

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def _self_signed(directory: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / "key.pem", directory / "cert.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BitstampSimulator, str]]:
    sim = BitstampSimulator()
    key_file, cert_file = _self_signed(tmp_path_factory.mktemp("tls"))
    with serve_asgi(sim.app, ssl_keyfile=key_file, ssl_certfile=cert_file) as url:
        yield sim, url.replace("http://", "https://")


def client(url: str, account: SimAccount, **overrides: str) -> ccxt.bitstamp:
    exchange = ccxt.bitstamp({"apiKey": account.api_key, "secret": account.secret, **overrides})
    exchange.enableRateLimit = False
    exchange.verify = False  # the throwaway certificate
    exchange.urls["api"] = {"public": f"{url}/api", "private": f"{url}/api"}
    return exchange


def test_ccxt_places_fetches_and_cancels(served: tuple[BitstampSimulator, str]) -> None:
    sim, url = served
    exchange = client(url, sim.new_account())
    assert "BTC/USD" in exchange.load_markets()
    assert exchange.fetch_balance()["USD"]["free"] == 100000.0  # ccxt's dummy `foo=bar` body on an empty POST

    placed = exchange.create_order("BTC/USD", "limit", "buy", 0.5, 25000)
    fetched = exchange.fetch_order(placed["id"])
    assert (fetched["status"], fetched["side"]) == ("open", "buy")
    assert [o["id"] for o in exchange.fetch_open_orders()] == [placed["id"]]

    cancelled = exchange.cancel_order(placed["id"])
    assert (cancelled["id"], cancelled["price"], cancelled["amount"]) == (placed["id"], 25000.0, 0.5)
    assert exchange.fetch_order(placed["id"])["status"] == "canceled"
    # A repeated cancel gets the same "Order not found" as an unknown id; order_status tells them apart.
    with pytest.raises(ccxt.ExchangeError, match="Order not found"):
        exchange.cancel_order(placed["id"])
    assert sim.status(placed["id"]).value == "cancelled"
    assert exchange.fetch_open_orders() == []


def test_fills_foreign_and_unknown_orders(served: tuple[BitstampSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    partial = exchange.create_order("ETH/USD", "limit", "sell", 2, 2000)
    sim.fill(partial["id"], "0.5")
    seen = exchange.fetch_order(partial["id"])
    assert (seen["status"], len(seen["trades"])) == ("open", 1)
    sim.fill(partial["id"])
    assert exchange.fetch_order(partial["id"])["status"] == "closed"
    with pytest.raises(ccxt.ExchangeError, match="Order not found"):
        exchange.cancel_order(partial["id"])
    foreign, _ = sim.place(sim.new_account())
    with pytest.raises(ccxt.OrderNotFound):  # order_status's "Order not found." is ccxt's exact OrderNotFound
        exchange.fetch_order(foreign)
    assert sim.status(foreign).value == "inProgress"


def test_credentials_nonces_and_timestamps_are_checked_like_bitstamp(served: tuple[BitstampSimulator, str]) -> None:
    sim, url = served
    account, other = sim.new_account(), sim.new_account()
    with pytest.raises(ccxt.AuthenticationError, match="invalid signature"):  # API0005, ccxt's own wording
        client(url, account, secret=other.secret).fetch_balance()
    with pytest.raises(ccxt.AuthenticationError, match="API key not found"):
        client(url, account, apiKey="k" * 32).fetch_balance()

    fixed = client(url, account)
    nonce = str(uuid.uuid4())
    fixed.uuid = lambda: nonce
    fixed.fetch_balance()
    with pytest.raises(ccxt.InvalidNonce, match="API0004"):  # the same nonce within 150 s
        fixed.fetch_balance()

    stale = client(url, account)
    stale.milliseconds = lambda: int(time.time() * 1000) - 151_000
    with pytest.raises(ccxt.ExchangeError, match="API0017"):
        stale.fetch_balance()


def test_a_key_without_trade_permission(served: tuple[BitstampSimulator, str]) -> None:
    sim, url = served
    viewer = sim.new_account(can_trade=False)
    order_id, _ = sim.place(viewer)
    exchange = client(url, viewer)
    assert exchange.fetch_order(order_id)["status"] == "open"
    with pytest.raises(ccxt.PermissionDenied, match="No permission found"):
        exchange.cancel_order(order_id)
    assert sim.status(order_id).value == "inProgress"


def test_content_type_rules_and_signed_answers(served: tuple[BitstampSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    host = url.removeprefix("https://")
    with httpx.Client(base_url=url, verify=False) as http:  # noqa: S501 - the throwaway certificate

        def post(path: str, body: bytes, **extra: str) -> httpx.Response:
            nonce, stamp = str(uuid.uuid4()), str(int(time.time() * 1000))
            headers = signed_headers(
                account.api_key, account.secret, "POST", host, path, body, nonce=nonce, stamp=stamp
            )
            answer = http.post(path, content=body, headers={**headers, **extra})
            if answer.status_code == 200:  # the documented check, over the exact bytes received
                expected = answer_signature(
                    account.secret, nonce, stamp, answer.headers["content-type"], answer.content
                )
                assert answer.headers["x-server-auth-signature"] == expected
            return answer

        assert post("/api/v2/account_balances/", b"").status_code == 200
        refused = post("/api/v2/account_balances/", b"", **{"Content-Type": "application/x-www-form-urlencoded"})
        assert refused.json() == {
            "status": "error",
            "reason": "Content-Type header should not be present",
            "code": "API0020",
        }
        order_id, _ = sim.place(account)
        # The signature covers the body: the same headers over another id are refused.
        nonce, stamp = str(uuid.uuid4()), str(int(time.time() * 1000))
        signed = signed_headers(
            account.api_key, account.secret, "POST", host, "/api/v2/cancel_order/", f"id={order_id}".encode(),
            nonce=nonce, stamp=stamp,
        )  # fmt: skip
        moved = http.post("/api/v2/cancel_order/", content=f"id={int(order_id) + 1}".encode(), headers=signed)
        assert (moved.status_code, moved.json()["code"]) == (403, "API0005")
        assert sim.status(order_id).value == "inProgress"
        assert post("/api/v2/cancel_order/", f"id={order_id}".encode()).json()["id"] == int(order_id)


def test_injected_errors_and_control_surface(served: tuple[BitstampSimulator, str]) -> None:
    sim, url = served
    account = sim.new_account()
    exchange = client(url, account)
    sim.inject(Fault("venue_error", "account_balances", api_key=account.api_key, error="auth"))
    with pytest.raises(ccxt.AuthenticationError):
        exchange.fetch_balance()
    with httpx.Client(base_url=url, verify=False) as http:  # noqa: S501 - the throwaway certificate
        created = http.post("/_control/accounts", json={}).json()
        placed = http.post("/_control/orders", json={"apiKey": created["apiKey"], "volume": "2"}).json()
        assert placed["cancelFields"] == {}
        partial = http.post(f"/_control/orders/{placed['orderId']}/fill", json={"volume": "0.5"}).json()["order"]
        assert (partial["status"], partial["amount_remaining"]) == ("Open", "1.50000000")
