"""Bad input: always a 400 envelope naming the offending fields, never FastAPI's 422 or a 5xx; always audited."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CANCEL, GatewayHarness

VALID = {"authToken": "x", "type": "kraken", "id": "OABCDE-FGHIJ-KLMNOP", "isCryptocurrency": True}


def _assert_envelope(resp, error_type: str, fields: set[str] | None = None) -> dict:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert set(body) == {"status", "message", "displayMessage", "errorType", "errorData", "content"}
    assert body["status"] == "badRequest"
    assert body["errorType"] == error_type
    assert body["content"] is None
    if fields is not None:
        assert set(body["errorData"]["fields"]) == fields, body
    assert resp.headers["content-type"].startswith("application/json")
    assert resp.headers["x-request-id"]
    return body


@pytest.mark.parametrize("field", ["authToken", "type", "id", "isCryptocurrency"])
async def test_each_missing_required_field_is_named(gw: GatewayHarness, field: str) -> None:
    headers = await gw.client()
    body = {k: v for k, v in VALID.items() if k != field}
    _assert_envelope(await gw.cancel(headers, **body), "missingField", {field})


async def test_all_missing_fields_are_named_at_once(gw: GatewayHarness) -> None:
    headers = await gw.client()
    resp = await gw.http.post(CANCEL, json={}, headers=headers)
    _assert_envelope(resp, "missingField", {"authToken", "type", "id", "isCryptocurrency"})


@pytest.mark.parametrize("field", ["authToken", "id"])
async def test_empty_strings_break_min_length(gw: GatewayHarness, field: str) -> None:
    headers = await gw.client()
    _assert_envelope(await gw.cancel(headers, **{**VALID, field: ""}), "missingField", {field})


@pytest.mark.parametrize("field", ["authToken", "type", "id", "isCryptocurrency"])
async def test_null_required_field_is_missing(gw: GatewayHarness, field: str) -> None:
    headers = await gw.client()
    _assert_envelope(await gw.cancel(headers, **{**VALID, field: None}), "missingField", {field})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("type", "krakenn"),
        ("type", "Kraken"),  # enum values are exact camelCase
        ("type", 9),
        ("id", 12345),
        ("authToken", ["a"]),
        ("isCryptocurrency", "true"),
        ("isCryptocurrency", 1),
        ("side", "long"),
        ("symbolPair", 5),
        ("mfaCode", {"a": 1}),
    ],
)
async def test_wrong_types_and_unknown_enums(gw: GatewayHarness, field: str, value: object) -> None:
    headers = await gw.client()
    _assert_envelope(await gw.cancel(headers, **{**VALID, field: value}), "invalidField", {field})


async def test_missing_and_invalid_together_reports_both(gw: GatewayHarness) -> None:
    headers = await gw.client()
    body = _assert_envelope(await gw.cancel(headers, type="nope", isCryptocurrency=True, authToken="t"), "missingField")
    assert set(body["errorData"]["fields"]) == {"id", "type"}


@pytest.mark.parametrize(
    ("content", "ctype", "field"),
    [
        (b"{not json", "application/json", "body"),
        (b"", "application/json", "body"),
        (b"[1,2]", "application/json", "body"),
        (b'"text"', "application/json", "body"),
        (b"\xff\xfe\x00", "application/json", "body"),
        (json.dumps(VALID).encode(), "text/plain", "Content-Type"),
        (b"authToken=x&type=kraken", "application/x-www-form-urlencoded", "Content-Type"),
        (json.dumps(VALID).encode(), "", "Content-Type"),
        (b"[" * 100_000, "application/json", "body"),
    ],
)
async def test_unreadable_bodies(gw: GatewayHarness, content: bytes, ctype: str, field: str) -> None:
    headers = {**await gw.client(), "Content-Type": ctype}
    _assert_envelope(await gw.http.post(CANCEL, content=content, headers=headers), "invalidField", {field})


async def test_body_over_64_kib(gw: GatewayHarness) -> None:
    headers = await gw.client()
    resp = await gw.cancel(headers, **{**VALID, "id": "x" * (64 * 1024)})
    _assert_envelope(resp, "invalidField", {"body"})


async def test_body_over_limit_without_content_length(gw: GatewayHarness) -> None:
    headers = {**await gw.client(), "Content-Type": "application/json"}

    async def chunks():
        yield b'{"id":"'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    resp = await gw.http.post(CANCEL, content=chunks(), headers=headers)
    _assert_envelope(resp, "invalidField", {"body"})


async def test_property_names_are_case_insensitive_like_mesh(gw: GatewayHarness) -> None:
    """Mesh's own sample app sends `isCryptoCurrency`; it must reach the same validation as the exact name."""
    headers = await gw.client()
    body = {"authToken": "", "type": "kraken", "id": "x", "isCryptoCurrency": True}
    _assert_envelope(await gw.cancel(headers, **body), "missingField", {"authToken"})


async def test_unknown_properties_are_ignored(gw: GatewayHarness) -> None:
    headers = await gw.client()
    resp = await gw.cancel(headers, **{**VALID, "foo": 1})
    # Passes validation and fails later, on the (fake) authToken.
    assert resp.status_code == 401
    assert resp.json()["errorType"] == "invalidAuthToken"


async def test_nullable_optionals_accept_null(gw: GatewayHarness) -> None:
    headers = await gw.client()
    resp = await gw.cancel(headers, **{**VALID, "side": None, "symbolPair": None, "mfaCode": None})
    assert resp.json()["errorType"] == "invalidAuthToken"


async def test_unknown_route_and_method_are_envelopes(gw: GatewayHarness) -> None:
    resp = await gw.http.post("/api/v1/transactions/nope", json={})
    assert resp.status_code == 404
    assert resp.json()["errorType"] == "routeNotFound"
    resp = await gw.http.get(CANCEL)
    assert resp.status_code == 405
    assert resp.json()["errorType"] == "methodNotAllowed"


async def test_every_bad_request_is_audited(gw: GatewayHarness) -> None:
    headers = await gw.client()
    await gw.http.post(CANCEL, content=b"{", headers={**headers, "Content-Type": "application/json"})
    await gw.cancel(headers, **{**VALID, "type": "nope"})
    await gw.cancel({}, **VALID)
    rows = await gw.gateway.audit.tail(3)
    assert [(r.http_status, r.error_type) for r in rows] == [
        (400, "invalidField"),
        (400, "invalidField"),
        (401, "invalidClientCredentials"),
    ]
    assert rows[0].client_id == headers["X-Client-Id"]
    assert rows[2].client_id is None
    assert all(r.endpoint == "transactions/cancel" and r.upstream_requests == 0 for r in rows)
