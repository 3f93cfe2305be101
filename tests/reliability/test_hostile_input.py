"""Hostile input: every request gets a clear 4xx envelope (never a 5xx, never FastAPI's shape), exactly one audit
row, and nothing reaches the venue."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import CANCEL, GatewayHarness
from tests.reliability import report

VALID = {"authToken": "t", "type": "kraken", "id": "OABCDE-FGHIJ-KLMNOP", "isCryptocurrency": True}
JSON = "application/json"


def _raw(content: bytes, ctype: str = JSON) -> dict[str, Any]:
    return {"content": content, "headers": {"Content-Type": ctype}}


def _body(**changes: Any) -> dict[str, Any]:
    return _raw(json.dumps({**VALID, **changes}).encode())


CASES: dict[str, tuple[dict[str, Any], int, str, set[str] | None]] = {
    "body just over 64 KiB": (_body(id="x" * 65_536), 400, "invalidField", {"body"}),
    "1 MB string": (_body(authToken="a" * 1_000_000), 400, "invalidField", {"body"}),
    "deep nesting": (_raw(b'{"a":' * 5_000 + b"1" + b"}" * 5_000), 400, "invalidField", {"body"}),
    "deep array nesting": (_raw(b"[" * 50_000 + b"]" * 50_000), 400, "invalidField", {"body"}),
    "invalid UTF-8": (_raw(b'{"id": "\xc3\x28"}'), 400, "invalidField", {"body"}),
    "UTF-16 body": (_raw(json.dumps(VALID).encode("utf-16")), 400, "invalidField", {"body"}),
    "NUL byte in id": (_body(id="OABC\u0000DEF"), 400, "invalidField", {"id"}),
    "CRLF in symbolPair": (_body(symbolPair="BTC\r\nX-Evil: 1"), 400, "invalidField", {"symbolPair"}),
    "control char in authToken": (_body(authToken="ogt1.\u001b[31m"), 400, "invalidField", {"authToken"}),
    "number for id": (_body(id=42), 400, "invalidField", {"id"}),
    "object for type": (_body(type={"$ne": 1}), 400, "invalidField", {"type"}),
    "array for authToken": (_body(authToken=["a"]), 400, "invalidField", {"authToken"}),
    "string for isCryptocurrency": (_body(isCryptocurrency="false"), 400, "invalidField", {"isCryptocurrency"}),
    "float overflow": (
        _raw(b'{"authToken":"t","type":"kraken","id":"x","isCryptocurrency":1e999999}'),
        400,
        "invalidField",
        {"isCryptocurrency"},
    ),
    "huge integer": (_raw(b'{"id":' + b"9" * 5_000 + b"}"), 400, "invalidField", {"body"}),
    "duplicate keys": (
        _raw(b'{"id":"a","id":"b","authToken":"t","type":"kraken","isCryptocurrency":true}'),
        400,
        "invalidField",
        {"id"},
    ),
    "unknown type": (_body(type="krakenPro"), 400, "invalidField", {"type"}),
    "SQL in type": (_body(type="kraken' OR '1'='1"), 400, "invalidField", {"type"}),
    "id over 4096 chars": (_body(id="O" * 4_097), 400, "invalidField", {"id"}),
    "empty body": (_raw(b""), 400, "invalidField", {"body"}),
    "null body": (_raw(b"null"), 400, "invalidField", {"body"}),
    "text/plain": (_raw(json.dumps(VALID).encode(), "text/plain"), 400, "invalidField", {"Content-Type"}),
    "multipart": (_raw(b"--x\r\n\r\n--x--", "multipart/form-data; boundary=x"), 400, "invalidField", {"Content-Type"}),
    "no content type": (
        {"content": json.dumps(VALID).encode(), "headers": {"Content-Type": ""}},
        400,
        "invalidField",
        {"Content-Type"},
    ),
    "lying content-length": (
        {"content": b"{}", "headers": {"Content-Type": JSON, "Content-Length": "999999999"}},
        400,
        "invalidField",
        {"body"},
    ),
    "valid shape, forged token": (_body(authToken="ogt1.t1." + "A" * 60), 401, "invalidAuthToken", None),
    "lone surrogate in id": (
        _raw(json.dumps(VALID).replace("OABCDE", "\\ud800").encode()),
        400,
        "invalidField",
        {"id"},
    ),
    "lone surrogate in an unknown field": (
        _raw(json.dumps({**VALID, "note": "x"}).replace('"x"', '"\\udfff"').encode()),
        400,
        "invalidField",
        {"note"},
    ),
    "lone surrogate as a key": (_raw(b'{"\\ud800":1,' + json.dumps(VALID).encode()[1:]), 400, "invalidField", {"body"}),
    "lone surrogate with an Idempotency-Key": (
        {
            "content": json.dumps({**VALID, "symbolPair": "x"}).replace('"x"', '"\\ud83d"').encode(),
            "headers": {"Content-Type": JSON, "Idempotency-Key": "hostile-1"},
        },
        400,
        "invalidField",
        {"symbolPair"},
    ),
    "ESC/CR/LF in id": (_body(id="\u001b]0;x\u0007\r\nfake"), 400, "invalidField", {"id"}),
    "token with $ and padding": (_body(authToken="ogt1.t1." + "A" * 60 + "$==="), 401, "invalidAuthToken", None),
    "token with spaces": (_body(authToken="ogt1.t1." + "A" * 30 + " " + "A" * 30), 401, "invalidAuthToken", None),
    "token over 32768 chars": (_body(authToken="a" * 32_769), 400, "invalidField", {"authToken"}),
}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_hostile_bodies(gw: GatewayHarness, name: str) -> None:
    request, status, error_type, fields = CASES[name]
    headers = {**await gw.client(), **request["headers"]}
    before = len(await gw.gateway.audit.tail(10_000))
    venue_calls = gw.sim.total_requests
    try:
        resp = await gw.http.post(CANCEL, content=request["content"], headers=headers)
    except httpx.LocalProtocolError:
        pytest.skip("the HTTP client itself refuses to send this")
    body = resp.json()
    assert resp.status_code == status, (name, resp.text[:300])
    assert set(body) == {"status", "message", "displayMessage", "errorType", "errorData", "content"}
    assert body["errorType"] == error_type
    if fields is not None:
        assert set(body["errorData"]["fields"]) == fields, body
    assert len(resp.content) < 4_096  # nothing the client sent is echoed back at length
    after = await gw.gateway.audit.tail(10_000)
    assert len(after) == before + 1
    assert gw.gateway.audit.spool_state()["waiting"] == 0  # written, not waiting in the spool
    assert gw.sim.total_requests == venue_calls  # nothing reached the venue
    report.count(
        "hostile inputs", inputs=1, server_errors=int(resp.status_code >= 500), violations=0, audit_rows_lost=0
    )


@pytest.mark.parametrize("request_id", ["a" * 65, "x\u00e9y", "<script>", "id with spaces", "../../etc/passwd"])
async def test_unsafe_request_ids_are_replaced(gw: GatewayHarness, request_id: str) -> None:
    raw = request_id.encode("latin-1")  # sent as raw header bytes, as a hostile client would
    resp = await gw.http.post(CANCEL, json=VALID, headers={**await gw.client(), "X-Request-Id": raw})
    assert resp.headers["x-request-id"] != request_id and len(resp.headers["x-request-id"]) == 32
    report.count("hostile inputs", inputs=1, server_errors=int(resp.status_code >= 500), violations=0)


@pytest.mark.parametrize("key", ["k" * 256, "ключ".encode(), "a\tb"])
async def test_bad_idempotency_keys(gw: GatewayHarness, key: str | bytes) -> None:
    try:
        resp = await gw.http.post(CANCEL, json=VALID, headers={**await gw.client(), "Idempotency-Key": key})
    except (httpx.LocalProtocolError, UnicodeEncodeError):
        pytest.skip("the HTTP client itself refuses to send this header")
    assert resp.status_code == 400 and resp.json()["errorData"]["fields"] == {
        "Idempotency-Key": "1-255 printable ASCII characters"
    }
    report.count("hostile inputs", inputs=1, server_errors=0, violations=0)
