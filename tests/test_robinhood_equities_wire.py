"""What a server speaking Robinhood's private equities API receives from ordergate, checked against the requests the
apps (and robin_stocks 3.4.0) send, written out here from their source rather than from ordergate's code: the
password grant as a form with the public client id, `scope=internal` and a device token; `Authorization: Bearer`;
an empty-bodied `POST /orders/{id}/cancel/`; after a 401, one refresh grant and one repeat with the new bearer."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ordergate.domain.integrations import IntegrationType
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi

APP_CLIENT_ID = "c82SH0WZOsabOXGP2sxqcj34FxkvfnWRZBKlBjFS"
OID = "497f6eca-6276-4993-bfeb-53cbbbba6f08"


class Recorder:
    """Answers as Robinhood does: a token for the login, the accounts, a 401 for an old bearer, `{}` for a cancel."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.valid = {"bearer-1"}

        async def record(request: Request) -> tuple[dict[str, str], bytes]:
            raw = await request.body()
            self.seen.append((request.method, request.url.path + ("?" + request.url.query if request.url.query else ""),
                              dict(request.headers), raw))  # fmt: skip
            return dict(request.headers), raw

        async def token(request: Request) -> JSONResponse:
            _, raw = await record(request)
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            access = "bearer-1" if form["grant_type"] == "password" else "bearer-2"
            self.valid.add(access)
            return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 86400,
                                 "refresh_token": f"refresh-{access}", "scope": "internal"})  # fmt: skip

        async def authorized(request: Request) -> JSONResponse:
            headers, _ = await record(request)
            if headers.get("authorization", "").removeprefix("Bearer ") not in self.valid:
                return JSONResponse({"detail": "Incorrect authentication credentials."}, status_code=401)
            if request.url.path == "/accounts/":
                return JSONResponse({"results": [{"account_number": "5QR123", "url": "x", "type": "cash"}]})
            return JSONResponse({})

        self.app = Starlette(routes=[
            Route("/oauth2/token/", token, methods=["POST"]),
            Route("/accounts/", authorized, methods=["GET"]),
            Route("/orders/{id}/cancel/", authorized, methods=["POST"]),
        ])  # fmt: skip


async def test_login_cancel_and_refresh_follow_the_apps_requests(tmp_path: Path) -> None:
    recorder = Recorder()
    with serve_asgi(recorder.app) as url:
        async with gateway_harness(tmp_path, None, url, base_urls={IntegrationType.robinhood: url}) as gw:  # type: ignore[arg-type]
            headers = await gw.client()
            login = {"type": "robinhood", "username": "me@example.com", "password": "pw!"}
            auth = await gw.http.post("/api/v1/authenticate", params={"userId": "u"}, headers=headers, json=login)
            token = auth.json()["content"]["accountTokens"][0]["accessToken"]
            body = {"authToken": token, "type": "robinhood", "id": OID, "isCryptocurrency": False}
            first = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
            recorder.valid.discard("bearer-1")  # the bearer expires
            second = await gw.http.post("/api/v1/transactions/cancel", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    (login, accounts, cancel, expired, refresh, repeat) = recorder.seen
    method, path, sent, raw = login
    assert (method, path) == ("POST", "/oauth2/token/")
    assert sent["content-type"].startswith("application/x-www-form-urlencoded")
    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    assert form["client_id"] == APP_CLIENT_ID and form["grant_type"] == "password" and form["scope"] == "internal"
    assert (form["username"], form["password"], form["expires_in"]) == ("me@example.com", "pw!", "86400")
    device = form["device_token"]
    assert len(device) == 36 and device.count("-") == 4
    assert accounts[:2] == ("GET", "/accounts/?default_to_all_accounts=true")
    assert accounts[2]["authorization"] == "Bearer bearer-1"
    for step in (cancel, expired, repeat):
        assert step[:2] == ("POST", f"/orders/{OID}/cancel/") and step[3] == b""
        assert step[2]["x-robinhood-api-version"] == "1.431.4"
    assert cancel[2]["authorization"] == expired[2]["authorization"] == "Bearer bearer-1"
    refreshed = {k: v[0] for k, v in parse_qs(refresh[3].decode()).items()}
    assert refresh[:2] == ("POST", "/oauth2/token/")
    assert (refreshed["grant_type"], refreshed["refresh_token"], refreshed["client_id"], refreshed["scope"]) == (
        "refresh_token", "refresh-bearer-1", APP_CLIENT_ID, "internal",
    )  # fmt: skip
    assert refreshed["device_token"] == device and "password" not in refreshed
    assert repeat[2]["authorization"] == "Bearer bearer-2"
