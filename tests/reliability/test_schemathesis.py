"""schemathesis against the served OpenAPI document: no server errors, every response matches the schema,
invalid input is rejected. Run over real HTTP against the production app (Kraken simulator as the venue)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from ordergate.app import create_app
from ordergate.domain.integrations import IntegrationType
from ordergate.settings import Settings
from ordergate.tokens import generate_key_spec
from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.reliability import report
from tests.support.servers import serve_asgi


@schemathesis.check
def not_an_internal_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """not_a_server_error, but for the venue's own failure: /authenticate verifies the credentials it is given with
    the venue, and every venue but Kraken here is its production host, which this machine cannot reach; ordergate
    then answers its documented 502 `institutionUnavailable` (an unhandled error, 500, was found this way)."""
    if response.status_code == 502 and case.operation.path == "/api/v1/authenticate":
        with contextlib.suppress(ValueError, AttributeError):
            if response.json().get("errorType") == "institutionUnavailable":
                return None
    return not_a_server_error(ctx, response, case)  # type: ignore[no-any-return]


CHECKS = [
    not_an_internal_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    negative_data_rejection,
]


def _create_client(db: Path) -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, "-m", "ordergate.cli", "clients", "create", "--name", "schemathesis", "--json"],
        env={**os.environ, "ORDERGATE_DATABASE_URL": f"sqlite+aiosqlite:///{db}"},
        capture_output=True,
        text=True,
        check=True,
    )
    created = json.loads(out.stdout)
    return {"X-Client-Id": created["clientId"], "X-Client-Secret": created["clientSecret"]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    sim = KrakenSimulator()
    db = Path(tmp_path_factory.mktemp("st")) / "st.db"
    headers = _create_client(db)
    with serve_asgi(sim.app) as sim_url:
        settings_ = Settings(
            database_url=f"sqlite+aiosqlite:///{db}",
            token_keys=generate_key_spec(),
            base_urls={IntegrationType.kraken: sim_url, IntegrationType.krakenDirect: sim_url},
            upstream_timeout_s=1.0,
            client_rate_per_s=0,
        )
        with serve_asgi(create_app(settings_), lifespan="on") as url:
            yield url, headers


def _fuzz(operation: Any, headers: dict[str, str], failures: list[str], calls: list[int]) -> None:
    params = {"userId": "fuzz"} if "authenticate" in operation.path else None

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        for creds in (headers, {}):
            calls.append(1)
            response = case.call(headers=creds, params=params)
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {exc!s:.300}")

    run()


def test_every_operation_conforms(served: tuple[str, dict[str, str]]) -> None:
    url, headers = served
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    calls: list[int] = []
    for operation in operations:
        _fuzz(operation, headers, failures, calls)
    report.record("schemathesis", operations=len(operations), requests=len(calls), failures=len(failures))
    assert failures == [], "\n".join(failures[:10])
