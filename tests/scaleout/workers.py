"""Run real `ordergate serve` worker processes against shared PostgreSQL + Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.tokens import TokenSealer, generate_key_spec, parse_token_keys
from tests.test_readme import _free_port, _wait_healthy

ORDERGATE = [sys.executable, "-m", "ordergate.cli"]


@dataclass
class Cluster:
    urls: list[str]
    headers: dict[str, str]
    sealer: TokenSealer
    client_id: str
    env: dict[str, str]

    def token(self, key: str, secret: str) -> str:
        return self.sealer.seal(self.client_id, Credentials(IntegrationType.kraken, key, secret))


@contextmanager
def cluster(
    tmp_path: Path,
    *,
    pg_url: str,
    redis_url: str,
    kraken_url: str,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    keys = generate_key_spec("w")
    env = {
        **os.environ,
        "ORDERGATE_DATABASE_URL": pg_url,
        "ORDERGATE_REDIS_URL": redis_url,
        "ORDERGATE_TOKEN_KEYS": keys,
        "ORDERGATE_BASE_URL_KRAKEN": kraken_url,
        "ORDERGATE_UPSTREAM_TIMEOUT_S": "2",
        "ORDERGATE_CLIENT_CACHE_TTL_S": "1",
        **(extra_env or {}),
    }
    created = subprocess.run(
        [*ORDERGATE, "clients", "create", "--name", "cluster", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    client = json.loads(created.stdout)
    procs: list[subprocess.Popen] = []
    ports = [_free_port() for _ in range(workers)]
    try:
        for i, port in enumerate(ports):
            workdir = tmp_path / f"worker{i}"
            workdir.mkdir(exist_ok=True)
            procs.append(
                subprocess.Popen(
                    [*ORDERGATE, "serve", "--port", str(port)],
                    env=env,
                    cwd=workdir,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port, proc in zip(ports, procs, strict=True):
            _wait_healthy(port, proc)
        yield Cluster(
            urls=[f"http://127.0.0.1:{p}" for p in ports],
            headers={"X-Client-Id": client["clientId"], "X-Client-Secret": client["clientSecret"]},
            sealer=TokenSealer(parse_token_keys(keys)),
            client_id=client["clientId"],
            env=env,
        )
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
