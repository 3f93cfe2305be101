"""What a Crypto.com-compatible server receives from ordergate, checked with an independent re-implementation of
the recipe published in the Exchange v1 docs ("Digital Signature", its Python sample), not ordergate's signing code."""

from __future__ import annotations

import hashlib
import hmac
import json
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

ORDER_ID = "6142909895025252686"
_ALNUM = string.ascii_letters + string.digits


def _params_to_str(obj: dict, level: int) -> str:  # type: ignore[type-arg]
    """The docs' sample, as published (MAX_LEVEL = 3)."""
    if level >= 3:
        return str(obj)
    return_str = ""
    for key in sorted(obj):
        return_str += key
        if obj[key] is None:
            return_str += "null"
        elif isinstance(obj[key], list):
            for sub_obj in obj[key]:
                return_str += _params_to_str(sub_obj, level + 1)
        else:
            return_str += str(obj[key])
    return return_str


def _docs_sig(req: dict, secret: str) -> str:  # type: ignore[type-arg]
    param_str = _params_to_str(req["params"], 0) if "params" in req else ""
    payload_str = req["method"] + str(req["id"]) + req["api_key"] + param_str + str(req["nonce"])
    return hmac.new(bytes(str(secret), "utf-8"), msg=bytes(payload_str, "utf-8"), digestmod=hashlib.sha256).hexdigest()


class Recorder:
    """Records every request and answers as Crypto.com does on success."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], bytes]] = []

        async def endpoint(request: Request) -> JSONResponse:
            raw = await request.body()
            self.seen.append((request.url.path, dict(request.headers), raw))
            body = json.loads(raw)
            result = {"client_oid": "c5f682ed-7108-4f1c-b755-972fcdca0f02", "order_id": ORDER_ID}
            return JSONResponse({"id": body["id"], "method": body["method"], "code": 0, "message": "NO_ERROR",
                                 "result": result})  # fmt: skip

        self.app = Starlette(routes=[Route("/private/cancel-order", endpoint, methods=["POST"])])


@pytest.mark.parametrize("mount", ["", "/exchange/v1"])
async def test_cancel_request_is_signed_per_the_published_recipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mount: str
) -> None:
    recorder = Recorder()
    key = "".join(secrets.choice(_ALNUM) for _ in range(22))
    secret = "".join(secrets.choice(_ALNUM) for _ in range(22))
    app = recorder.app if not mount else Starlette(routes=[])
    if mount:
        app.mount(mount, recorder.app)
    with serve_asgi(app) as url:
        base = url + mount  # Crypto.com's base URL carries the /exchange/v1 prefix
        monkeypatch.setenv(f"ORDERGATE_BASE_URL_{IntegrationType.cryptoCom.env_name}", base)
        assert Settings().base_urls[IntegrationType.cryptoCom] == base  # the documented variable is what is read
        async with gateway_harness(tmp_path, None, url, base_urls=Settings().base_urls) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            body = {"authToken": gw.seal(headers, key, secret, IntegrationType.cryptoCom), "type": "cryptoCom",
                    "id": ORDER_ID, "isCryptocurrency": True}  # fmt: skip
            resp = await gw.cancel(headers, **body)

    assert resp.status_code == 200, resp.text
    assert resp.json()["content"] == {"orderId": ORDER_ID, "status": "inProgress"}
    assert len(recorder.seen) == 1
    path, got, raw = recorder.seen[0]
    assert (path, got["content-type"]) == (mount + "/private/cancel-order", "application/json")
    sent = json.loads(raw)
    assert set(sent) == {"id", "method", "api_key", "params", "nonce", "sig"}
    assert (sent["method"], sent["api_key"], sent["params"]) == ("private/cancel-order", key, {"order_id": ORDER_ID})
    assert abs(int(sent["nonce"]) - time.time() * 1000) < 60_000  # milliseconds, now
    assert sent["sig"] == _docs_sig(sent, secret)
    assert secret not in raw.decode() and secret not in str(got)
