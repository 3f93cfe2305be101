"""What a Client Portal Gateway receives from ordergate, checked against the published recipe (the CP Web API
reference and ibind's requests), not ordergate's code: `DELETE {gateway}/v1/api/iserver/account/{accountId}/order/
{orderId}` with no body and no credential (the gateway holds the session), and, over TLS, the gateway's self-signed
certificate accepted only when the operator says so."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from tests.conftest import CANCEL, gateway_harness
from tests.support.servers import serve_asgi

ACCOUNT, ORDER_ID = "DU1234567", "1876543210"
IBKR = IntegrationType.interactiveBrokers


class Gateway:
    """Records every request and answers as the CP Gateway does for an accepted cancel."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def any_path(request: Request) -> JSONResponse:
            self.seen.append((request.method, request.url.path, dict(request.headers), await request.body()))
            if request.url.path.endswith("/tickle"):
                return JSONResponse({"session": "x", "iserver": {"authStatus": {"authenticated": True}}})
            return JSONResponse({"msg": "Request was submitted", "order_id": int(ORDER_ID), "account": ACCOUNT})

        self.app = Starlette(routes=[Route("/{path:path}", any_path, methods=["GET", "POST", "DELETE"])])


def _self_signed(tmp_path: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256())
    )  # fmt: skip
    key_file, cert_file = tmp_path / "gw.key", tmp_path / "gw.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


async def _cancel(tmp_path: Path, url: str) -> tuple[int, dict]:
    async with gateway_harness(tmp_path, None, url, base_urls={IBKR: url}) as gw:  # type: ignore[arg-type]
        headers = await gw.client()
        token = gw.gateway.sealer.seal(headers["X-Client-Id"], Credentials(IBKR, "", "", extras={"account": ACCOUNT}))
        body = {"authToken": token, "type": IBKR.value, "id": ORDER_ID, "isCryptocurrency": False}
        resp = await gw.http.post(CANCEL, json=body, headers=headers)
        return resp.status_code, resp.json()


@pytest.mark.parametrize("suffix", ["", "/", "/v1/api", "/v1/api/"])
async def test_the_cancel_is_the_documented_delete_without_credentials(tmp_path: Path, suffix: str) -> None:
    gateway = Gateway()
    with serve_asgi(gateway.app) as url:
        status, envelope = await _cancel(tmp_path, url + suffix)
    assert status == 200, envelope
    assert envelope["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    *before, (method, path, headers, body) = gateway.seen
    assert (method, path, body) == ("DELETE", f"/v1/api/iserver/account/{ACCOUNT}/order/{ORDER_ID}", b"")
    assert [(m, p) for m, p, _, _ in before] == [("POST", "/v1/api/tickle")]  # an idle gateway is tickled first
    assert not {"authorization", "cookie"} & set(headers)
    assert headers.get("user-agent")  # the CP Gateway refuses requests without one


async def test_a_self_signed_gateway_is_trusted_only_when_the_operator_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = Gateway()
    key_file, cert_file = _self_signed(tmp_path)
    with serve_asgi(gateway.app, ssl_keyfile=key_file, ssl_certfile=cert_file) as url:
        url = url.replace("http://", "https://")
        refused, _ = await _cancel(tmp_path / "verify", url)
        assert gateway.seen == []  # the TLS handshake failed: nothing reached the gateway
        monkeypatch.setenv("ORDERGATE_IBKR_VERIFY_TLS", "false")
        accepted, envelope = await _cancel(tmp_path / "trust", url)
    assert refused == 502
    assert accepted == 200, envelope
    assert gateway.seen[-1][:2] == ("DELETE", f"/v1/api/iserver/account/{ACCOUNT}/order/{ORDER_ID}")
