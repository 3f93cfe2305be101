"""Shared fixtures: a Kraken simulator on a real port and the gateway app in-process (httpx + lifespan)."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
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

CANCEL = "/api/v1/transactions/cancel"
# The harness's upstream read timeout. A loaded shared CI runner once took over 0.5 s to answer a lookup, which
# turned a 404 test into 502 ("lookup failed"); tests that want a timeout inject a delay longer than this.
UPSTREAM_TIMEOUT_S = 2.0


@pytest.fixture(scope="session")
def kraken() -> Iterator[tuple[KrakenSimulator, str]]:
    sim = KrakenSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@dataclass
class GatewayHarness:
    http: httpx.AsyncClient
    gateway: Gateway
    sim: KrakenSimulator
    sim_url: str
    db_path: Path

    async def client(self, scopes: frozenset[Scope] = frozenset({Scope.read, Scope.write})) -> dict[str, str]:
        client, secret = await self.gateway.clients.create("test", scopes)
        return {"X-Client-Id": client.id, "X-Client-Secret": secret}

    def account(self, *, otp: str | None = None, can_trade: bool = True) -> tuple[str, str]:
        key = "k-" + secrets.token_hex(8)
        secret = base64.b64encode(secrets.token_bytes(64)).decode()
        self.sim.add_account(key, secret, otp=otp, can_trade=can_trade)
        return key, secret

    def seal(
        self,
        headers: dict[str, str],
        key: str,
        secret: str,
        integration: IntegrationType = IntegrationType.kraken,
        **extras: object,
    ) -> str:
        return self.gateway.sealer.seal(headers["X-Client-Id"], Credentials(integration, key, secret, extras=extras))

    async def cancel(self, headers: dict[str, str], **body: object) -> httpx.Response:
        return await self.http.post(CANCEL, json=body, headers=headers)


@asynccontextmanager
async def gateway_harness(
    tmp_path: Path, sim: KrakenSimulator, sim_url: str, **overrides: object
) -> AsyncIterator[GatewayHarness]:
    db_path = tmp_path / "og.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{db_path}",
        token_keys=overrides.pop("token_keys", generate_key_spec("t1")),
        base_urls=overrides.pop("base_urls", {IntegrationType.kraken: sim_url, IntegrationType.krakenDirect: sim_url}),
        upstream_timeout_s=overrides.pop("upstream_timeout_s", UPSTREAM_TIMEOUT_S),
        audit_spool_dir=overrides.pop("audit_spool_dir", str(tmp_path / "spool")),
        **overrides,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield GatewayHarness(http, app.state.gateway, sim, sim_url, db_path)


@pytest.fixture
async def gw(tmp_path: Path, kraken: tuple[KrakenSimulator, str]) -> AsyncIterator[GatewayHarness]:
    sim, url = kraken
    async with gateway_harness(tmp_path, sim, url) as harness:
        yield harness


@pytest.fixture(autouse=True)
def _no_ambient_ordergate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ORDERGATE_"):
            monkeypatch.delenv(key, raising=False)
