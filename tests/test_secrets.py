"""Known secrets run through every path; none may appear in logs, audit rows, error messages or responses."""

from __future__ import annotations

import base64
import logging
import sqlite3

import pytest

from ordergate.venues.kraken.simulator import Fault
from tests.conftest import GatewayHarness

SECRET = base64.b64encode(b"S3CR3T-" * 9 + b"!").decode()
KEY = "KNOWN-API-KEY-0123456789"
OTP = "975310"


async def test_no_secret_leaks_anywhere(gw: GatewayHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gw.sim.add_account(KEY, SECRET, otp=OTP)
    headers = await gw.client()
    client_secret = headers["X-Client-Secret"]
    auth = await gw.http.post(
        "/api/v1/authenticate",
        params={"userId": "u"},
        headers=headers,
        json={"type": "kraken", "username": KEY, "password": SECRET, "mfaCode": OTP},
    )
    token = auth.json()["content"]["accountTokens"][0]["accessToken"]
    bodies = [auth.text]
    txid = gw.sim.place_order(KEY)

    def cancel_body(**extra: object) -> dict:
        return {"authToken": token, "type": "kraken", "id": txid, "isCryptocurrency": True, **extra}

    scenarios = [
        cancel_body(mfaCode=OTP),
        cancel_body(mfaCode=OTP),  # already cancelled → 409
        cancel_body(),  # mfaRequired
        cancel_body(mfaCode="000000"),
        cancel_body(type="krakenDirect", mfaCode=OTP),  # invalid token for the type
        cancel_body(isCryptocurrency="yes"),
    ]
    for fault in ("venue_error", "http_error", "reset"):
        gw.sim.inject(Fault(kind=fault, op="CancelOrder", api_key=KEY))  # type: ignore[arg-type]
        scenarios.append(cancel_body(id=gw.sim.place_order(KEY), mfaCode=OTP))
    for body in scenarios:
        resp = await gw.cancel(headers, **body)
        bodies.append(resp.text + str(resp.headers))
    bad_secret = await gw.cancel({**headers, "X-Client-Secret": client_secret + "x"}, **cancel_body())
    bodies.append(bad_secret.text)

    conn = sqlite3.connect(gw.db_path)
    audit_dump = "\n".join(map(str, conn.execute("select * from audit_events").fetchall()))
    clients_dump = "\n".join(map(str, conn.execute("select * from api_clients").fetchall()))
    conn.close()
    assert audit_dump.count("\n") >= len(scenarios)
    haystacks = {"responses": "\n".join(bodies), "logs": caplog.text, "audit": audit_dump, "clients": clients_dump}
    needles = {"api secret": SECRET, "api key": KEY, "otp": OTP, "client secret": client_secret, "token": token}
    for where, text in haystacks.items():
        for what, needle in needles.items():
            if where == "responses" and what == "token":
                continue  # authenticate's whole point is to return the token
            assert needle not in text, f"{what} found in {where}"
