"""Webull's official SDK (webull-openapi-python-sdk, independent of ordergate) against the simulator over real HTTP.

The SDK pins packages the test venv cannot share (cryptography<42, grpcio<1.60, a top-level `webull` package), so
it runs from its own venv as a subprocess (tests/support/oracle_venvs.py builds it). When it signs, runs its own
/openapi/config and 2FA token steps, places, reads and cancels against the simulator, and its requests with a wrong
secret are refused, the simulator speaks Webull's protocol rather than ordergate's idea of it.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ordergate.venues.simkit import SimAccount
from ordergate.venues.webull.auth import compact_body, signed_headers
from ordergate.venues.webull.simulator import WebullSimulator
from tests.support.oracle_venvs import WEBULL_SDK, RegistryUnreachable, webull_sdk_python
from tests.support.servers import serve_asgi

CLIENT = Path(__file__).with_name("webull_sdk_client.py")


@pytest.fixture(scope="module")
def python() -> Path:
    try:
        return webull_sdk_python()
    except RegistryUnreachable as exc:
        pytest.skip(f"the package registry is unreachable, so webull-openapi-python-sdk {WEBULL_SDK} is missing: {exc}")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[WebullSimulator, str]]:
    sim = WebullSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def _job(url: str, account: SimAccount, tmp: Path, steps: list[dict[str, Any]]) -> str:
    parts = urlsplit(url)
    return json.dumps(
        {
            "host": parts.hostname,
            "port": parts.port,
            "appKey": account.api_key,
            "secret": account.secret,
            "tokenDir": str(tmp / "tokens"),
            "steps": steps,
        }
    )


def run(python: Path, url: str, account: SimAccount, tmp: Path, *steps: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(CLIENT)],
        input=_job(url, account, tmp, list(steps)),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp,  # the SDK writes webull_trade_sdk.log into its working directory
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_sdk_places_reads_and_cancels(python: Path, served: tuple[WebullSimulator, str], tmp_path: Path) -> None:
    sim, url = served
    account = sim.new_account()
    acct = str(account.extras["account_id"])
    coid = uuid.uuid4().hex
    out = run(
        python,
        url,
        account,
        tmp_path,
        {"op": "accounts"},
        {"op": "place", "account": acct, "coid": coid, "qty": "2", "price": "150.5"},
        {"op": "detail", "account": acct, "coid": coid},
        {"op": "open", "account": acct},
        {"op": "cancel", "account": acct, "coid": coid},
        {"op": "detail", "account": acct, "coid": coid},
        {"op": "cancel", "account": acct, "coid": coid},
        {"op": "cancel", "account": acct, "coid": uuid.uuid4().hex},
    )
    accounts, placed, detail, listed, cancelled, after, again, unknown = out["results"]
    assert accounts["body"][0]["account_id"] == acct
    assert placed["body"]["client_order_id"] == coid
    item = detail["body"]["items"][0]
    assert (item["order_status"], item["qty"], item["limit_price"]) == ("SUBMITTED", "2", "150.5")
    assert [o["client_order_id"] for o in listed["body"]["orders"]] == [coid]
    assert cancelled == {"status": 200, "body": {"client_order_id": coid}}
    assert after["body"]["items"][0]["order_status"] == "CANCELLED"
    assert (again["status"], again["error"]) == (400, "ORDER_CANNOT_BE_CANCELLED")
    assert (unknown["status"], unknown["error"]) == (404, "ORDER_NOT_FOUND")
    assert sim.status(coid).value == "cancelled"
    # The SDK asked /openapi/config first (TradeClient's initializer) and, 2FA being off, made no token.
    assert sim.count(account.api_key, "config") == 1 and sim.count(account.api_key, "token") == 0


def test_a_wrong_secret_is_refused(python: Path, served: tuple[WebullSimulator, str], tmp_path: Path) -> None:
    sim, url = served
    account = sim.new_account()
    out = run(python, url, SimAccount(account.api_key, "0" * 32), tmp_path, {"op": "accounts"})
    assert out["init"] == {"error": "UNAUTHORIZED", "status": 401}


def test_sdk_waits_for_the_2fa_token_approved_in_the_app(
    python: Path, served: tuple[WebullSimulator, str], tmp_path: Path
) -> None:
    sim, url = served
    account = sim.new_account(two_factor=True)
    proc = subprocess.Popen(
        [str(python), str(CLIENT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdin is not None
    proc.stdin.write(_job(url, account, tmp_path, [{"op": "accounts"}]))
    proc.stdin.close()
    for _ in range(600):  # the SDK creates a PENDING token, then checks it every second
        if sim.tokens_of(account.api_key):
            break
        time.sleep(0.05)
    (token,) = sim.tokens_of(account.api_key)
    sim.approve_token(token)
    assert proc.stdout is not None
    stdout = proc.stdout.read()  # the SDK logs to stdout too; our answer is its last line
    assert proc.wait(timeout=120) == 0
    out = json.loads(stdout.strip().splitlines()[-1])
    assert out["token"] == token
    assert out["results"][0]["body"][0]["account_id"] == account.extras["account_id"]


@pytest.mark.parametrize(
    ("uri", "query", "body"),
    [
        ("/trading/orders/cancel", {}, {"account_id": "ACCT1", "client_order_id": "coid-1"}),
        ("/trading/orders/get", {"account_id": "ACCT1", "client_order_id": "coid-1"}, None),
        ("/trading/orders/open-orders/list", {"x-app-key": "dup"}, None),  # a query name colliding with a header
        ("/trading/orders/cancel", {}, {"account_id": "Ä", "client_order_id": "ü"}),  # non-ASCII, sent unescaped
    ],
)
def test_our_signature_is_the_sdks(python: Path, tmp_path: Path, uri: str, query: dict, body: dict | None) -> None:
    account = SimAccount("APPKEY", "APPSECRET")
    stamp, nonce = "2026-11-24T14:32:58Z", "dcc7b071-c792-5d43-9c0f-f94bcef2e12f"
    step = {"op": "sign", "uri": uri, "query": query, "body": body, "timestamp": stamp, "nonce": nonce}
    job = json.loads(_job("http://api.webull.com:443", account, tmp_path, [step]))
    done = subprocess.run(
        [str(python), str(CLIENT)], input=json.dumps(job), capture_output=True, text=True, timeout=60, check=True
    )
    sdk = json.loads(done.stdout)["results"][0]

    ours = signed_headers(
        "APPKEY",
        "APPSECRET",
        uri=uri,
        host="api.webull.com",
        query=query,
        body=compact_body(body) if body is not None else None,
        now=datetime(2026, 11, 24, 14, 32, 58, tzinfo=UTC),
        nonce=nonce,
    )
    assert ours["x-signature"] == sdk["signature"]
    assert ours == {k: v for k, v in sdk["headers"].items() if k.startswith("x-")}


def test_sdk_lists_open_orders_and_history_newest_first(
    python: Path, served: tuple[WebullSimulator, str], tmp_path: Path
) -> None:
    sim, url = served
    account = sim.new_account()
    acct = str(account.extras["account_id"])
    ids = [sim.place(account)[0] for _ in range(3)]
    sim.fill(ids[0])
    sim.backdate(ids[1], 8 * 86_400)  # outside the history's default 7 days
    sim.page_size = 1
    try:
        first = run(python, url, account, tmp_path, {"op": "open", "account": acct})["results"][0]["body"]
        second = run(python, url, account, tmp_path, {"op": "open", "account": acct, "key": first["pagination_key"]})
        recent = run(python, url, account, tmp_path, {"op": "history", "account": acct})["results"][0]["body"]
        ranged = run(python, url, account, tmp_path,
                     {"op": "history", "account": acct, "start": "2020-01-01T00:00:00.000+0000",
                      "end": "2100-01-01T00:00:00.000+0000"})["results"][0]["body"]  # fmt: skip
    finally:
        sim.page_size = 100
    assert [o["client_order_id"] for o in first["orders"]] == [ids[2]]  # newest first, one per Webull page
    page2 = second["results"][0]["body"]
    assert [o["client_order_id"] for o in page2["orders"]] == [ids[1]] and "pagination_key" not in page2
    assert [o["client_order_id"] for o in recent["orders"]] == [ids[2]]  # ids[0] is older than ids[2], page 1
    assert recent["pagination_key"] == ids[2]
    assert [o["client_order_id"] for o in ranged["orders"]] == [ids[2]] and ranged["pagination_key"] == ids[2]
