"""What a Bitstamp-compatible server receives from ordergate, checked with an independent re-implementation of
Bitstamp's published recipe (www.bitstamp.net/api "Authentication" and its Python example), not ordergate's code."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import time
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

ORDER_ID = "1453282316578816"
_ALNUM = string.ascii_letters + string.digits


def _bitstamp_sign(secret: str, method: str, host: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """The docs: 'BITSTAMP ' + api_key + verb + host + path + query + content_type + nonce + timestamp + 'v2' +
    payload; the content type only when there is a body. HMAC-SHA256 with the secret, hex."""
    content_type = headers.get("content-type", "") if body else ""
    message = (
        headers["x-auth"] + method + host + path + "" + content_type + headers["x-auth-nonce"]
        + headers["x-auth-timestamp"] + "v2"
    ).encode() + body  # fmt: skip
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Recorder:
    """Records every request and answers as Bitstamp does on success, signing its answers as documented."""

    def __init__(self, secret: str) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            body = await request.body()
            self.seen.append((request.method, request.url.path, dict(request.headers), body))
            if request.url.path == "/api/v2/account_balances/":
                answer = JSONResponse([{"currency": "usd", "total": "1.00", "available": "1.00", "reserved": "0.00"}])
            else:
                answer = JSONResponse(
                    {"id": int(ORDER_ID), "amount": "0.02035278", "price": "2100.45", "type": 0, "market": "BTC/USD"}
                )
            plain = (
                request.headers["x-auth-nonce"] + request.headers["x-auth-timestamp"] + answer.headers["content-type"]
            )
            signature = hmac.new(secret.encode(), plain.encode() + answer.body, hashlib.sha256).hexdigest()
            answer.headers["X-Server-Auth-Signature"] = signature
            return answer

        self.app = Starlette(
            routes=[
                Route("/api/v2/cancel_order/", endpoint, methods=["POST"]),
                Route("/api/v2/account_balances/", endpoint, methods=["POST"]),
            ]
        )


def _check_signed(method: str, path: str, headers: dict[str, str], body: bytes, key: str, secret: str) -> None:
    assert headers["x-auth"] == f"BITSTAMP {key}"
    assert headers["x-auth-version"] == "v2"
    assert len(headers["x-auth-nonce"]) == 36
    assert abs(int(headers["x-auth-timestamp"]) - time.time() * 1000) < 60_000  # milliseconds, now
    assert headers["x-auth-signature"] == _bitstamp_sign(secret, method, headers["host"], path, headers, body)
    assert secret not in body.decode() and secret not in str(headers)


async def test_cancel_and_authenticate_are_signed_per_bitstamp_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "".join(secrets.choice(_ALNUM) for _ in range(32))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(32))
    recorder = Recorder(secret)
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_BITSTAMP", url)
        assert Settings().base_urls[IntegrationType.bitstamp] == url  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            auth = await gw.http.post(
                "/api/v1/authenticate",
                json={"type": "bitstamp", "username": key, "password": secret},
                headers=headers,
                params={"userId": "user-1"},
            )
            assert auth.status_code == 200, auth.text
            body = {"authToken": gw.seal(headers, key, secret, IntegrationType.bitstamp), "type": "bitstamp",
                    "id": ORDER_ID, "isCryptocurrency": True}  # fmt: skip
            resp = await gw.cancel(headers, **body)

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "cancelled"}
    assert [(m, p) for m, p, _, _ in recorder.seen] == [
        ("POST", "/api/v2/account_balances/"),
        ("POST", "/api/v2/cancel_order/"),
    ]
    _, path, got, raw = recorder.seen[0]
    # An empty body: no Content-Type at all, neither sent nor signed (API0020 otherwise).
    assert (raw, "content-type" in got) == (b"", False)
    _check_signed("POST", path, got, raw, key, secret)
    _, path, got, raw = recorder.seen[1]
    assert (raw, got["content-type"]) == (f"id={ORDER_ID}".encode(), "application/x-www-form-urlencoded")
    _check_signed("POST", path, got, raw, key, secret)
    assert recorder.seen[0][2]["x-auth-nonce"] != recorder.seen[1][2]["x-auth-nonce"]
