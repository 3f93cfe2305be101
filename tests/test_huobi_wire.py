"""What an HTX-compatible server receives from ordergate, checked with an independent re-implementation of HTX's
published signature v2 recipe (not ordergate's signing code), and connecting an account end to end."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.settings import Settings
from ordergate.venues.huobi.simulator import HuobiSimulator
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

AUTH = "/api/v1/authenticate"
DETAILS = "/api/v1/transactions/details"
ORDER_ID = "356501383558845"


def _htx_signature(secret: str, method: str, host: str, path: str, query: str) -> str:
    """The docs' steps: sort the parameters by ASCII, URL-encode (upper-case hex), join METHOD, lower-case host,
    path and the parameters with newlines, HMAC-SHA256 with the secret, base64."""
    pairs = [p.split("=", 1) for p in query.split("&") if not p.startswith("Signature=")]
    decoded = sorted((urllib.parse.unquote_plus(k), urllib.parse.unquote_plus(v)) for k, v in pairs)
    encoded = "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}" for k, v in decoded)
    text = "\n".join([method, host.lower(), path, encoded])
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            # The full path the client called, whether or not the server strips a mount prefix from scope["path"].
            root = request.scope.get("root_path", "")
            path = root + request.scope["path"].removeprefix(root)
            self.seen.append(
                (request.method, path, request.url.query, request.headers["host"], dict(request.headers),
                 await request.body())
            )  # fmt: skip
            return JSONResponse({"status": "ok", "data": request.path_params["order_id"]})

        inner = Starlette(routes=[Route("/v1/order/orders/{order_id}/submitcancel", endpoint, methods=["POST"])])
        self.app = Starlette(routes=[Mount("/htx", inner)])


@pytest.mark.parametrize("prefix", ["", "/htx"])
async def test_cancel_request_is_signed_per_htx_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    recorder = Recorder()
    if not prefix:  # the venue at the root: the recorder's routes without the mount
        recorder.app = recorder.app.routes[0].app  # type: ignore[attr-defined]
    key, secret = "e2xxxxxx-99xxxxxx-84xxxxxx-7xxxx", "b0xxxxxx-c6xxxxxx-94xxxxxx-dxxxx"
    with serve_asgi(recorder.app) as url:
        monkeypatch.setenv("ORDERGATE_BASE_URL_HUOBI", url + prefix)
        assert Settings().base_urls[IntegrationType.huobi] == url + prefix  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            token = gw.gateway.sealer.seal(headers["X-Client-Id"], Credentials(IntegrationType.huobi, key, secret))
            before = time.time()
            resp = await gw.cancel(headers, authToken=token, type="huobi", id=ORDER_ID, isCryptocurrency=True)
    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1  # one upstream request, no preloading
    method, path, query, host, got, body = recorder.seen[0]
    assert (method, path, body, got["content-type"]) == (
        "POST",
        f"{prefix}/v1/order/orders/{ORDER_ID}/submitcancel",
        b"{}",
        "application/json",
    )
    params = dict(urllib.parse.parse_qsl(query))
    assert set(params) == {"AccessKeyId", "SignatureMethod", "SignatureVersion", "Timestamp", "Signature"}
    assert (params["AccessKeyId"], params["SignatureMethod"], params["SignatureVersion"]) == (key, "HmacSHA256", "2")
    stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    assert abs(stamp - before) <= 5
    assert host == url.removeprefix("http://")  # host:port, as sent
    assert params["Signature"] == _htx_signature(secret, "POST", host, path, query)
    assert secret not in query and secret not in str(got)


async def test_connect_then_cancel_and_look_up_with_the_returned_token(tmp_path: Path) -> None:
    sim = HuobiSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.huobi: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            account = sim.new_account()
            resp = await gw.http.post(
                AUTH,
                json={"type": "huobi", "username": account.api_key, "password": account.secret},
                headers=headers,
                params={"userId": "u-1"},
            )
            assert resp.status_code == 200, resp.text
            content = resp.json()["content"]
            assert content["status"] == "succeeded"
            assert account.api_key not in resp.text and account.secret not in resp.text
            assert sim.count_key(account.api_key) == sim.count(account.api_key, "accounts") == 1  # one cheap read
            token = content["accountTokens"][0]["accessToken"]
            order_id, extra = sim.place(account, volume="2")
            assert content["accountTokens"][0]["account"]["accountId"] == (
                f"huobi-{sim.describe(order_id)['account-id']}"
            )
            body = {"authToken": token, "type": "huobi", "id": order_id, "isCryptocurrency": True, **extra}
            before = await gw.http.post(DETAILS, json=body, headers=headers)
            assert (before.json()["content"]["status"], before.json()["content"]["amount"]) == ("inProgress", 0.0)
            cancel = await gw.cancel(headers, **body)
            assert cancel.json()["content"] == {"orderId": order_id, "status": "inProgress"}
            after = await gw.http.post(DETAILS, json=body, headers=headers)
            assert after.json()["content"]["status"] == "cancelled"

            wrong = await gw.http.post(
                AUTH,
                json={"type": "huobi", "username": account.api_key, "password": sim.new_account().secret},
                headers=headers,
                params={"userId": "u-1"},
            )
            assert (wrong.status_code, wrong.json()["errorType"]) == (401, "institutionAuthFailed")
