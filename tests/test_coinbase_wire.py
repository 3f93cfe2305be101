"""What a Coinbase-compatible server receives from ordergate, checked with PyJWT (an independent JOSE library) and
the public key — not with ordergate's own verifier.

With `ORDERGATE_BASE_URL_COINBASE` pointing elsewhere, the JWT's `uri` names the host ordergate actually calls, as
its Host header carries it (`127.0.0.1:<port>`), and the full path including any prefix of the base URL: the same
rule as the official SDK's `f"{method} {base_url}{path}"`, so the server there verifies exactly as Coinbase does.
"""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

ORDER_ID = "1e5b4ac3-7f2d-4c1a-9b3e-2d8f6a0c9e71"
KEY_NAME = "organizations/8a1c0c6e-0000-4000-8000-00000000000a/apiKeys/3f2e1d0c-0000-4000-8000-00000000000b"
SUCCESS = {"results": [{"success": True, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON", "order_id": ORDER_ID}]}
_GONE = "order with this orderID was not found"
NOT_FOUND = {"error": "NOT_FOUND", "error_details": _GONE, "message": _GONE}


class Recorder:
    """Records every request; answers batch_cancel with `answer` and order lookups with 404 NOT_FOUND."""

    def __init__(self, answer: dict[str, Any], prefix: str = "") -> None:
        self.answer = answer
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def record(request: Request) -> JSONResponse:
            raw_path = request.scope["raw_path"].decode()
            self.seen.append((request.method, raw_path, dict(request.headers), await request.body()))
            if request.method == "GET":
                return JSONResponse(NOT_FOUND, status_code=404)
            return JSONResponse(self.answer)

        routes = [
            Route("/api/v3/brokerage/orders/batch_cancel", record, methods=["POST"]),
            Route("/api/v3/brokerage/orders/historical/{order_id}", record, methods=["GET"]),
        ]
        self.app = Starlette(routes=[Mount(prefix, routes=routes)] if prefix else routes)


def ec_key() -> tuple[str, ec.EllipticCurvePublicKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    return pem.decode(), key.public_key()


def ed_key() -> tuple[str, ed25519.Ed25519PublicKey]:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(seed + public).decode(), key.public_key()


async def _cancel_through_gateway(
    tmp_path: Path, kraken: Any, monkeypatch: pytest.MonkeyPatch, recorder: Recorder, prefix: str, **creds: Any
) -> tuple[Any, str]:
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_COINBASE", url + prefix)
        assert Settings().base_urls[IntegrationType.coinbase] == url + prefix  # the documented variable is read
        sim, _ = kraken
        async with gateway_harness(tmp_path, sim, url, base_urls=Settings().base_urls) as gw:
            headers = await gw.client()
            token = gw.seal(headers, creds.pop("key"), creds.pop("secret"), IntegrationType.coinbase, **creds)
            body = {"authToken": token, "type": "coinbase", "id": ORDER_ID, "isCryptocurrency": True, "side": "buy"}
            resp = await gw.cancel(headers, **body)
    return resp, url.removeprefix("http://")


@pytest.mark.parametrize(("make_key", "alg"), [(ec_key, "ES256"), (ed_key, "EdDSA")])
@pytest.mark.parametrize("prefix", ["", "/coinbase-proxy"])
async def test_batch_cancel_carries_a_jwt_signed_for_this_very_request(
    tmp_path: Path, kraken: Any, monkeypatch: pytest.MonkeyPatch, make_key: Any, alg: str, prefix: str
) -> None:
    secret, public = make_key()
    recorder = Recorder(SUCCESS, prefix)
    resp, host = await _cancel_through_gateway(tmp_path, kraken, monkeypatch, recorder, prefix, key=KEY_NAME,
                                               secret=secret)  # fmt: skip

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1  # one upstream request, nothing preloaded
    method, path, headers, body = recorder.seen[0]
    assert (method, path) == ("POST", prefix + "/api/v3/brokerage/orders/batch_cancel")
    assert body == b'{"order_ids":["' + ORDER_ID.encode() + b'"]}'
    assert headers["content-type"] == "application/json" and headers["host"] == host
    scheme, _, token = headers["authorization"].partition(" ")
    assert scheme == "Bearer"
    claims = jwt.decode(token, public, algorithms=[alg], options={"require": ["exp", "nbf", "sub", "iss"]})
    assert claims == {
        "sub": KEY_NAME,
        "iss": "cdp",
        "nbf": claims["nbf"],
        "exp": claims["nbf"] + 120,
        "uri": f"POST {host}{prefix}/api/v3/brokerage/orders/batch_cancel",
    }
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["kid"], len(header["nonce"])) == (alg, KEY_NAME, 64)
    assert secret not in json.dumps(headers) and secret not in body.decode()


async def test_an_oauth_access_token_is_sent_as_it_is(
    tmp_path: Path, kraken: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    access_token = secrets.token_urlsafe(40)
    recorder = Recorder(SUCCESS)
    resp, _ = await _cancel_through_gateway(tmp_path, kraken, monkeypatch, recorder, "", key="oauth",
                                            secret=access_token, kind="oauth")  # fmt: skip
    assert resp.status_code == 200, resp.text
    ((_, _, headers, _),) = recorder.seen
    assert headers["authorization"] == f"Bearer {access_token}"


# Answers the simulator never gives, read defensively: none of them is a success.
ODD_ANSWERS = {
    "no results": {"results": []},
    "an error object inside HTTP 200": {"error": "UNKNOWN", "error_details": "oops", "message": "oops"},
    "a result about another order": {"results": [{**SUCCESS["results"][0], "order_id": "another"}]},
    "a reason Coinbase adds later": {"results": [{"success": False, "failure_reason": "NEW", "order_id": ORDER_ID}]},
    "success that is not a boolean": {"results": [{"success": "true", "order_id": ORDER_ID}]},
}  # fmt: skip


@pytest.mark.parametrize("answer", list(ODD_ANSWERS))
async def test_odd_answers_are_never_read_as_success(
    tmp_path: Path, kraken: Any, monkeypatch: pytest.MonkeyPatch, answer: str
) -> None:
    recorder = Recorder(ODD_ANSWERS[answer])
    resp, _ = await _cancel_through_gateway(tmp_path, kraken, monkeypatch, recorder, "", key="oauth", secret="t0k",
                                            kind="oauth")  # fmt: skip
    assert resp.status_code == 502, resp.text
    assert resp.json()["errorType"] == "institutionUnavailable"
    # The service looked the order up before answering (the venue might have cancelled it anyway).
    assert [method for method, *_ in recorder.seen] == ["POST", "GET"]
