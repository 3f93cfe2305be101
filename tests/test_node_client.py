"""Mesh's official Node client (`@meshconnect/node-api`, pinned in tests/node/package.json) vs a real server.

The gateway and a Kraken simulator are both served by uvicorn on real ports; `tests/node/cancel.mjs` points
`new FrontApi({baseURL, headers})` at the gateway and reports what the client saw (status and body, or the
AxiosError it threw). Node and npm are required in CI (`CI` set): missing there is a failure, not a skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ordergate.app import create_app
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.gateway import Gateway
from ordergate.settings import Settings
from ordergate.store.clients import Scope
from ordergate.tokens import generate_key_spec
from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.support.servers import serve_asgi

NODE_DIR = Path(__file__).parent / "node"
CLIENT_PACKAGE = "@meshconnect/node-api"
MIN_NODE_MAJOR = 18
NPM_CI_TIMEOUT_S = 600  # a cold cache on a slow CI runner; a warm one takes a few seconds
SCRIPT_TIMEOUT_S = 120
UNKNOWN_TXID = "ONODE0-UNKNW-N00000"  # well-formed Kraken txid that the simulator never issued

T = TypeVar("T")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def _node_tooling() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    missing = [name for name, path in (("node", node), ("npm", npm)) if path is None]
    if missing:
        _unavailable(f"{' and '.join(missing)} not on PATH; the Mesh Node client test needs Node.js >= 18 and npm")
    assert node is not None and npm is not None
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    major = version.stdout.strip().lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < MIN_NODE_MAJOR:
        _unavailable(f"Node.js >= {MIN_NODE_MAJOR} is needed, found {version.stdout.strip() or version.stderr}")
    return node, npm


def _installed_client_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / CLIENT_PACKAGE / "package.json"
    try:
        return json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _ensure_node_deps(npm: str) -> str:
    """Install tests/node from its lockfile unless the pinned client version is already there."""
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"][CLIENT_PACKAGE]
    if _installed_client_version() == pinned:
        return pinned
    env = {**os.environ, "npm_config_update_notifier": "false"}
    try:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`npm ci` in {NODE_DIR} did not finish within {NPM_CI_TIMEOUT_S} s")
    if done.returncode != 0:
        output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        pytest.fail(f"`npm ci` in {NODE_DIR} failed ({done.returncode}):\n{output}")
    installed = _installed_client_version()
    assert installed == pinned, f"npm ci installed {CLIENT_PACKAGE} {installed}, package.json pins {pinned}"
    return pinned


class _LoopProbe:
    """Transparent ASGI wrapper that remembers the event loop uvicorn runs the app on.

    The gateway's database engine belongs to that loop, so test-side setup (creating an API client) is
    submitted to it rather than run on a second loop in this thread.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self.loop is not None, "the server never ran the app (no lifespan?)"
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)


def _no_proxy_env() -> dict[str, str]:
    """axios honours HTTP(S)_PROXY; make sure requests to the local gateway never go through one."""
    env = dict(os.environ)
    local = "127.0.0.1,localhost,::1"
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = f"{env[name]},{local}" if env.get(name) else local
    return env


def _run_node(node: str, config: dict[str, Any]) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [node, "cancel.mjs"],
            cwd=NODE_DIR,
            input=json.dumps(config),
            env=_no_proxy_env(),
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"cancel.mjs did not finish within {SCRIPT_TIMEOUT_S} s; stderr: {exc.stderr!r}")
    assert done.returncode == 0, f"cancel.mjs exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"cancel.mjs printed nothing; stderr:\n{done.stderr}"
    return json.loads(lines[-1])


def _place(sim: KrakenSimulator, key: str) -> str:
    return sim.place_order(key, pair="XBTUSD", side="buy", volume="0.01", price="1000.0")


def _show(step: dict[str, Any]) -> str:
    return json.dumps(step, indent=2)


def _assert_cancelled(step: dict[str, Any], txid: str) -> None:
    assert step.get("threw") is False, f"the client threw:\n{_show(step)}"
    assert step["httpStatus"] == 200, _show(step)
    data = step["data"]
    assert data["status"] == "ok", _show(step)
    assert data["content"]["status"] == "cancelled", _show(step)
    assert data["content"]["orderId"] == txid, _show(step)


def _assert_client_error(step: dict[str, Any], http_status: int, error_type: str) -> None:
    assert step.get("threw") is True, f"the client did not throw:\n{_show(step)}"
    assert step["isAxiosError"] is True and step["errorName"] == "AxiosError", _show(step)
    assert step["httpStatus"] == http_status, _show(step)
    assert step["data"]["errorType"] == error_type, _show(step)
    assert step["data"]["status"] != "ok", _show(step)


def test_official_node_client_cancels_through_ordergate(tmp_path: Path, kraken: tuple[KrakenSimulator, str]) -> None:
    node, npm = _node_tooling()
    _ensure_node_deps(npm)
    sim, sim_url = kraken

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'ordergate.db'}",
        token_keys=generate_key_spec("t1"),
        base_urls={IntegrationType.kraken: sim_url},
    )
    app = create_app(settings)
    probe = _LoopProbe(app)
    # serve_asgi defaults to lifespan="off"; the gateway is built in the lifespan, so it must run.
    with serve_asgi(probe, lifespan="on") as base_url:
        gateway: Gateway | None = getattr(app.state, "gateway", None)
        assert gateway is not None, "serve_asgi returned before the app's lifespan built the gateway"

        client, client_secret = probe.run(gateway.clients.create("node-client", frozenset({Scope.read, Scope.write})))
        key, secret = sim.new_credentials()  # Kraken-shaped key and base64 secret
        auth_token = gateway.sealer.seal(client.id, Credentials(IntegrationType.kraken, key, secret))
        cancel_txid, wrong_secret_txid, auth_txid = _place(sim, key), _place(sim, key), _place(sim, key)
        refresh_txid = _place(sim, key)
        list_key, list_secret = sim.new_credentials()
        list_token = gateway.sealer.seal(client.id, Credentials(IntegrationType.kraken, list_key, list_secret))
        listed = [_place(sim, list_key) for _ in range(3)]  # oldest first; the oldest is filled
        sim.fill(listed[0])

        out = _run_node(
            node,
            {
                "baseURL": base_url,
                "clientId": client.id,
                "clientSecret": client_secret,
                "userId": "node-client-user",
                "authToken": auth_token,
                "cancelOrderId": cancel_txid,
                "wrongSecretOrderId": wrong_secret_txid,
                "unknownOrderId": UNKNOWN_TXID,
                "authOrderId": auth_txid,
                "refreshOrderId": refresh_txid,
                "account": {"username": key, "password": secret},
                "listAuthToken": list_token,
            },
        )

    # Sealed authToken → 200, envelope ok, and the venue really cancelled the order.
    _assert_cancelled(out["cancel"], cancel_txid)
    assert sim.order(cancel_txid)["status"] == "canceled"

    # Wrong X-Client-Secret → the client throws an AxiosError carrying our 401 envelope; nothing is cancelled.
    _assert_client_error(out["wrongSecret"], 401, "invalidClientCredentials")
    assert sim.order(wrong_secret_txid)["status"] == "open"

    # A txid the venue never issued → 404 orderNotFound.
    _assert_client_error(out["unknownOrder"], 404, "orderNotFound")

    # POST /api/v1/authenticate through the client's own method → an accessToken that cancels.
    auth = out["authenticate"]
    assert auth.get("threw") is False and auth["httpStatus"] == 200, _show(auth)
    assert auth["data"]["status"] == "ok", _show(auth)
    assert auth["data"]["content"]["status"] == "succeeded", _show(auth)
    access_token = auth["data"]["content"]["accountTokens"][0]["accessToken"]
    assert isinstance(access_token, str) and access_token, _show(auth)
    _assert_cancelled(out["cancelWithAccessToken"], auth_txid)
    assert sim.order(auth_txid)["status"] == "canceled"

    # GET /api/v1/status, /integrations, /authenticationSchemes: the envelope and Mesh's content shapes.
    statuses = _ok_content(out["status"])
    assert {s["type"] for s in statuses} == {t.value for t in IntegrationType}, _show(out["status"])
    assert next(s for s in statuses if s["type"] == "kraken")["isUp"] is True
    items = _ok_content(out["integrations"])["items"]
    assert [i["type"] for i in items] == [t.value for t in IntegrationType]
    assert all(isinstance(i["id"], str) and i["categories"] for i in items)
    schemes = {s["brokerType"]: s for s in _ok_content(out["authenticationSchemes"])}
    assert schemes["kraken"]["authenticationSchemeType"] == "apiKey" and schemes["kraken"]["mfaSchemes"] == ["mfaCode"]
    _assert_client_error(out["statusWrongSecret"], 401, "invalidClientCredentials")

    # POST /api/v1/token/refresh: the authToken as refreshToken → a token for the same account that cancels.
    refresh = _ok_content(out["tokenRefresh"])
    assert refresh["status"] == "succeeded" and refresh["brokerAccountTokens"][0]["accessToken"] != auth_token
    _assert_cancelled(out["cancelWithRefreshedToken"], refresh_txid)
    assert sim.order(refresh_txid)["status"] == "canceled"
    _assert_client_error(out["tokenRefreshUnopenable"], 400, "invalidField")

    # POST /api/v1/transactions/list: typed B2BBrokerOrderListResponse pages, newest first, cursor round trip.
    first, last = _ok_content(out["listFirst"]), _ok_content(out["listNext"])
    assert [t["id"] for t in first["transactions"]] == listed[:0:-1] and isinstance(first["cursor"], str)
    assert [t["id"] for t in last["transactions"]] == listed[:1] and last["cursor"] is None and last["total"] == 3
    assert last["transactions"][0]["status"] == "success" and last["transactions"][0]["brokerType"] == "kraken"
    assert first["earliestTimestamp"] == min(t["createdTimestamp"] for t in first["transactions"])
    assert [t["id"] for t in _ok_content(out["listOpen"])["transactions"]] == listed[:0:-1]
    _assert_client_error(out["listForeignCursor"], 400, "invalidField")
    assert set(out["listForeignCursor"]["data"]["errorData"]["fields"]) == {"cursor"}
    _assert_client_error(out["listCountTooLarge"], 400, "invalidField")


def _ok_content(step: dict[str, Any]) -> Any:
    assert step.get("threw") is False and step["httpStatus"] == 200, _show(step)
    assert step["data"]["status"] == "ok" and step["data"]["errorType"] == "", _show(step)
    return step["data"]["content"]
