"""`ordergate connect etrade` as a person runs it: a real subprocess against the simulator, the verification code
typed on stdin, sealed authTokens printed (that open for the API client and cancel at the simulator)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import CancelAck, Credentials, OrderRef
from ordergate.settings import Settings
from ordergate.tokens import TokenSealer, generate_key_spec, parse_token_keys
from ordergate.venues.catalog import SPECS
from ordergate.venues.etrade.adapter import ETradeAdapter
from ordergate.venues.etrade.simulator import ETradeSimulator
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ETradeSimulator, str]]:
    sim = ETradeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def _env(url: str, keys: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGATE_")}
    return {**env, "PYTHONPATH": str(SRC), "ORDERGATE_TOKEN_KEYS": keys, "ORDERGATE_BASE_URL_E_TRADE": url, **extra}


@pytest.mark.parametrize("consumer_from", ["arguments", "environment"])
def test_connect_in_a_terminal_prints_one_sealed_token_per_account(
    served: tuple[ETradeSimulator, str], tmp_path: Path, consumer_from: str
) -> None:
    sim, url = served
    key, secret = sim.demo_consumer
    keys = generate_key_spec("cli")
    args = ["connect", "etrade", "--client-id", "client-7", "--json"]
    extra: dict[str, str] = {}
    if consumer_from == "arguments":
        args += ["--consumer-key", key, "--consumer-secret", secret]
    else:
        extra = {"ORDERGATE_ETRADE_CONSUMER_KEY": key, "ORDERGATE_ETRADE_CONSUMER_SECRET": secret}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ordergate.cli", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(url, keys, **extra),
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stdin is not None
    link = ""
    for line in proc.stdout:
        if line.startswith("http"):
            link = line.strip()
            break
    assert link.startswith(f"{url}/e/t/etws/authorize?key={key}&token="), link
    page = httpx.get(link)  # the person logs in and accepts; E*TRADE's page shows the code
    verifier = re.search(r'value="([A-Z0-9]+)"', page.text)[1]  # type: ignore[index]
    out, err = proc.communicate(verifier + "\n", timeout=60)
    assert proc.returncode == 0, err
    printed = json.loads(out.strip().splitlines()[-1])
    assert secret not in out and secret not in err
    assert 0 < printed["expiresInSeconds"] <= 86400

    sealer = TokenSealer(parse_token_keys(keys))
    opened = [sealer.open("client-7", IntegrationType.eTrade, row["authToken"]) for row in printed["accounts"]]
    assert sorted(c.extras["accountIdKey"] for c in opened) == sorted(sim.accounts_of(sim.demo_user))
    assert all(c.passphrase == (f"{key}:{secret}" if consumer_from == "arguments" else None) for c in opened)

    creds = opened[0]
    order_id, _ = sim.place(SimAccount(creds.api_key, creds.secret, extras=dict(creds.extras)))
    settings = Settings(etrade_consumer_key=SecretStr(key), etrade_consumer_secret=SecretStr(secret))
    ack = asyncio.run(_cancel(url, creds, order_id, settings if consumer_from == "environment" else None))
    assert ack.status is OrderStatus.inProgress and sim.status(order_id) is OrderStatus.cancelled


async def _cancel(url: str, creds: Credentials, order_id: str, settings: Settings | None) -> CancelAck:
    transport = Transport(timeout_s=5)
    adapter = ETradeAdapter(SPECS[IntegrationType.eTrade], url, transport)
    adapter.settings = settings
    try:
        return await adapter.cancel(creds, OrderRef(order_id, is_cryptocurrency=False))
    finally:
        await transport.close()


def test_a_wrong_code_fails_without_tokens(served: tuple[ETradeSimulator, str], tmp_path: Path) -> None:
    sim, url = served
    key, secret = sim.demo_consumer
    done = subprocess.run(
        [sys.executable, "-m", "ordergate.cli", "connect", "etrade", "--client-id", "c", "--consumer-key", key,
         "--consumer-secret", secret],
        input="NOPE1\n", capture_output=True, text=True, timeout=60, env=_env(url, generate_key_spec("x")),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "institutionAuthFailed" in done.stderr and "authToken" not in done.stdout
    assert secret not in done.stdout + done.stderr
