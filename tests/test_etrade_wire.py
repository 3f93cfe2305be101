"""What an E*TRADE-compatible server receives from ordergate, checked against an independent re-implementation of
the published OAuth 1.0a recipe (RFC 5849 §3.4, as E*TRADE's docs describe it). A plain recording server, not the
simulator, so nothing is inferred from ordergate's own signing code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from pathlib import Path
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

CK, CS = "c5bb4dcb7bd6826c7c4340df3f791188", "7d30246211192cda43ede3abd9b393b9"
TOKEN, TOKEN_SECRET = "VbiNYl63EejjlKdQM6FeENshcRXbGQ=", "XCF9RzyQr4UEPloA+WlC06BnTfYC1P0Fwr3GUw/B0Es="
ACCOUNT_KEY = "JIdOIAcSpwR1Jva7RQBraQ"


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, str], bytes]] = []

        async def record(request: Request) -> Response:
            self.seen.append(
                (request.method, str(request.url), request.url.path, dict(request.headers), await request.body())
            )
            if request.url.path == "/oauth/request_token":
                return PlainTextResponse(
                    "oauth_token=cmVx%2BdG9r&oauth_token_secret=c2Vj%2F&oauth_callback_confirmed=true"
                )
            if request.method == "PUT":
                order_id = json.loads(await request.body())["CancelOrderRequest"]["orderId"]
                ack = {"orderId": order_id, "cancelTime": int(time.time() * 1000), "accountId": "840104290"}
                ack["Messages"] = {"Message": [{"code": 5011, "type": "WARNING"}]}
                return JSONResponse({"CancelOrderResponse": ack})
            return Response(status_code=404)

        self.app = Starlette(
            routes=[
                Route("/oauth/request_token", record, methods=["GET"]),
                Route("/v1/accounts/{key}/orders/cancel", record, methods=["PUT"]),
            ]
        )


def _independent_signature(method: str, url: str, fields: dict[str, str], secret: str, token_secret: str) -> str:
    """The recipe, written out again: pct() every name and value, sort, join, pct() the three parts."""

    def enc(s: str) -> str:
        return quote(s, safe="~")  # quote leaves "-._" alone by default; "~" added as RFC 3986 unreserved

    base_uri, _, query = url.partition("?")
    pairs = [(k, v) for k, v in fields.items() if k not in ("oauth_signature", "realm")]
    pairs += [tuple(unquote(p).split("=", 1)) for p in query.split("&") if p]  # type: ignore[misc]
    normalized = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in pairs))
    text = f"{method}&{enc(base_uri)}&{enc(normalized)}"
    key = f"{enc(secret)}&{enc(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha1).digest()).decode()


def _fields(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}


async def test_cancel_is_one_signed_put_with_the_documented_body(tmp_path: Path) -> None:
    recorder = Recorder()
    with serve_asgi(recorder.app) as url:
        async with gateway_harness(tmp_path, None, url, base_urls={IntegrationType.eTrade: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            creds = Credentials(
                IntegrationType.eTrade, TOKEN, TOKEN_SECRET, f"{CK}:{CS}", {"accountIdKey": ACCOUNT_KEY}
            )
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], creds)
            resp = await gw.cancel(headers, authToken=token, type="eTrade", id="676", isCryptocurrency=False)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": "676", "status": "inProgress"}
    assert len(recorder.seen) == 1  # one upstream request
    method, full_url, path, got, body = recorder.seen[0]
    assert (method, path) == ("PUT", f"/v1/accounts/{ACCOUNT_KEY}/orders/cancel")
    assert json.loads(body) == {"CancelOrderRequest": {"orderId": 676}}
    assert got["content-type"] == "application/json" and got["accept"] == "application/json"
    fields = _fields(got["authorization"])
    assert fields["oauth_consumer_key"] == CK and fields["oauth_token"] == TOKEN
    assert (fields["oauth_signature_method"], fields["oauth_version"]) == ("HMAC-SHA1", "1.0")
    assert abs(int(fields["oauth_timestamp"]) - time.time()) < 300 and len(fields["oauth_nonce"]) >= 16
    assert fields["oauth_signature"] == _independent_signature("PUT", full_url, fields, CS, TOKEN_SECRET)
    assert CS not in got["authorization"] and TOKEN_SECRET not in got["authorization"]


async def test_first_authenticate_step_asks_for_a_request_token_with_callback_oob(tmp_path: Path) -> None:
    recorder = Recorder()
    with serve_asgi(recorder.app) as url:
        async with gateway_harness(tmp_path, None, url, base_urls={IntegrationType.eTrade: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            resp = await gw.http.post(
                "/api/v1/authenticate",
                json={"type": "eTrade", "username": CK, "password": CS},
                headers=headers,
                params={"userId": "u1"},
            )
    assert resp.status_code == 200, resp.text
    content = resp.json()["content"]
    # the token arrives percent-encoded once; the link carries it encoded again for the query string
    assert content["redirectLink"] == f"{url}/e/t/etws/authorize?key={CK}&token=cmVx%2BdG9r"
    assert len(recorder.seen) == 1
    method, full_url, path, got, body = recorder.seen[0]
    assert (method, path, body) == ("GET", "/oauth/request_token", b"")
    fields = _fields(got["authorization"])
    assert fields["oauth_callback"] == "oob" and "oauth_token" not in fields
    assert fields["oauth_signature"] == _independent_signature("GET", full_url, fields, CS, "")
