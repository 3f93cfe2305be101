"""What a Webull-compatible server receives from ordergate, checked with an independent re-implementation of the
recipe in Webull's SDK (webull-openapi-python-sdk 3.0.4, core/auth/composer/default_signature_composer.py), not
ordergate's own signing code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, quote

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

SIGNED = ("x-app-key", "x-timestamp", "x-signature-version", "x-signature-algorithm", "x-signature-nonce")


class Recorder:
    """Records every request and answers as Webull does when it accepts a cancel."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            body = await request.body()
            self.seen.append((request.method, request.url.path, request.url.query, dict(request.headers), body))
            return JSONResponse({"client_order_id": json.loads(body)["client_order_id"]})

        self.app = Starlette(routes=[Route("/trading/orders/cancel", endpoint, methods=["POST"])])


def expected_signature(secret: str, path: str, headers: dict[str, str], host: str, query: str, body: bytes) -> str:
    params = {name: headers[name] for name in SIGNED} | {"host": host} | dict(parse_qsl(query))
    text = path + "&" + "&".join(f"{k}={params[k]}" for k in sorted(params))
    text += "&" + hashlib.sha256(body).hexdigest().upper()
    mac = hmac.new(f"{secret}&".encode(), quote(text, safe="").encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


async def test_cancel_requests_follow_webulls_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    integration = IntegrationType.weBull
    recorder = Recorder()
    key, secret, account = secrets.token_hex(16), secrets.token_hex(16), "ACCT9F3"
    ids = ["27290e2404e84572b2ffa0f89906525d", "my-order_7"]
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{integration.env_name}", url)
        assert Settings().base_urls[integration] == url
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.seal(headers, key, secret, integration, account_id=account)
            answers = [
                await gw.cancel(headers, authToken=token, type=integration.value, id=oid, isCryptocurrency=False)
                for oid in ids
            ]

    for oid, resp in zip(ids, answers, strict=True):
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == {"orderId": oid, "status": "inProgress"}
    assert len(recorder.seen) == len(ids)  # one upstream request per cancel
    nonces = set()
    for oid, (method, path, query, got, raw) in zip(ids, recorder.seen, strict=True):
        assert (method, path, query) == ("POST", "/trading/orders/cancel", "")
        assert json.loads(raw) == {"account_id": account, "client_order_id": oid}
        assert b" " not in raw  # compact JSON: the signed digest is over these exact bytes
        assert (got["x-signature-algorithm"], got["x-signature-version"], got["x-version"]) == (
            "HMAC-SHA256",
            "1.0",
            "v3",
        )
        assert got["x-app-key"] == key and got["content-type"] == "application/json"
        assert got["x-signature"] == expected_signature(secret, path, got, "127.0.0.1", query, raw)
        assert secret not in json.dumps(got) and "x-access-token" not in got
        nonces.add(got["x-signature-nonce"])
    assert len(nonces) == len(ids)
