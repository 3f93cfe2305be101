"""Issue 11: what production exposes (metrics, docs), the sandbox's bind address, and the small leaks: the
trailing-slash redirect built from Host, a 405 without Allow, a world-readable database, Swagger UI from a CDN."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from ordergate.app import create_app
from ordergate.settings import Settings
from ordergate.tokens import generate_key_spec
from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.conftest import CANCEL, GatewayHarness, gateway_harness
from tests.hardening.serving import SRC


async def _get(app, path: str, client: tuple[str, int], headers: dict[str, str] | None = None) -> httpx.Response:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        return await http.get(path, headers=headers or {})


async def test_metrics_are_loopback_only_without_a_token(tmp_path: Path, kraken: tuple[KrakenSimulator, str]) -> None:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url) as gw:
        app = gw.http._transport.app  # type: ignore[attr-defined]
        assert (await _get(app, "/metrics", ("203.0.113.9", 5555))).status_code == 403
        assert (await _get(app, "/metrics", ("127.0.0.1", 5555))).status_code == 200


async def test_metrics_token_is_required_from_anywhere_once_set(
    tmp_path: Path, kraken: tuple[KrakenSimulator, str]
) -> None:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url, metrics_token="m-" + "x" * 30) as gw:
        app = gw.http._transport.app  # type: ignore[attr-defined]
        for peer in (("127.0.0.1", 1), ("203.0.113.9", 1)):
            assert (await _get(app, "/metrics", peer)).status_code == 401
            wrong = await _get(app, "/metrics", peer, {"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            right = await _get(app, "/metrics", peer, {"Authorization": "Bearer m-" + "x" * 30})
            assert right.status_code == 200 and "ordergate_requests_total" in right.text


async def test_docs_can_be_turned_off(tmp_path: Path, kraken: tuple[KrakenSimulator, str]) -> None:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url, docs=False) as gw:
        for path in ("/docs", "/openapi.json", "/docs/static/swagger-ui-bundle.js"):
            resp = await gw.http.get(path)
            assert resp.status_code == 404 and resp.json()["errorType"] == "routeNotFound"


async def test_docs_load_swagger_ui_from_ordergate_itself(gw: GatewayHarness) -> None:
    page = (await gw.http.get("/docs")).text
    assert "cdn." not in page and "https://" not in page.replace("https://swagger.io", "")
    for asset in ("/docs/static/swagger-ui-bundle.js", "/docs/static/swagger-ui.css"):
        assert asset in page
        resp = await gw.http.get(asset)
        assert resp.status_code == 200 and len(resp.content) > 10_000
    assert (await gw.http.get("/docs/static/..%2F__init__.py")).status_code == 404
    assert (await gw.http.get("/docs/static/index.html")).status_code == 404


async def test_trailing_slash_is_not_redirected_from_the_host_header(gw: GatewayHarness) -> None:
    resp = await gw.http.post(CANCEL + "/", json={}, headers={"Host": "evil.example"})
    assert resp.status_code == 404 and "location" not in resp.headers
    assert resp.json()["errorType"] == "routeNotFound"


async def test_405_names_the_allowed_methods(gw: GatewayHarness) -> None:
    resp = await gw.http.get(CANCEL)
    assert resp.status_code == 405 and resp.headers["allow"] == "POST"
    assert resp.json()["errorType"] == "methodNotAllowed"
    assert (await gw.http.delete("/healthz")).headers["allow"] == "GET"


async def test_the_database_file_is_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "fresh" / "og.db"
    old = os.umask(0o022)
    try:
        app = create_app(
            Settings(
                database_url=f"sqlite+aiosqlite:///{db}",
                token_keys=generate_key_spec("t1"),
                audit_spool_dir=str(tmp_path / "spool"),
            )
        )
        async with app.router.lifespan_context(app):
            pass
    finally:
        os.umask(old)
    for path in [db, *db.parent.glob("og.db-*")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_sandbox_on_a_public_address_needs_an_explicit_flag(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    for host in ("0.0.0.0", "::", "192.0.2.1"):
        out = subprocess.run(
            [sys.executable, "-m", "ordergate.cli", "serve", "--sandbox", "--host", host, "--port", "1"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 2 and "--allow-remote-sandbox" in out.stderr, (host, out.stderr)
