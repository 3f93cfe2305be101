"""`POST /api/v1/transactions/list` through the gateway against the Kraken simulator: client auth first, validation
naming fields, the typed refusal for types that cannot list, the sealed cursor's bindings and the audit row. The
venue side (every status, paging, `from`) is in tests/venues/test_kraken_list.py and the conformance kit."""

from __future__ import annotations

import importlib

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.store.clients import Scope
from ordergate.tokens import LIST_CURSOR, InvalidToken
from ordergate.venues.base import Adapter
from ordergate.venues.catalog import LISTS_ORDERS, SPECS
from ordergate.venues.registry import ADAPTERS
from tests.conftest import GatewayHarness

LIST = "/api/v1/transactions/list"


def _adapter_class(family: str) -> type[Adapter]:
    module, _, name = ADAPTERS[family].partition(":")
    return getattr(importlib.import_module(module), name)


def test_lists_orders_is_exactly_the_adapters_that_implement_it() -> None:
    implementing = {f for f in ADAPTERS if _adapter_class(f).list_orders is not Adapter.list_orders}
    assert implementing == LISTS_ORDERS
    assert {s.family for s in SPECS.values() if s.lists_orders} == LISTS_ORDERS


async def _kraken_token(gw: GatewayHarness, headers: dict[str, str], n: int = 0) -> tuple[str, list[str]]:
    key, secret = gw.account()
    placed = [gw.sim.place_order(key, price=str(100 + i)) for i in range(n)]
    return gw.seal(headers, key, secret), placed


def _ok(resp) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "ok"
    return resp.json()["content"]


def _error(resp, http: int, error_type: str) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status_code == http, resp.text
    body = resp.json()
    assert body["errorType"] == error_type and body["content"] is None, body
    return body


async def test_client_auth_comes_first_and_needs_read_scope(gw: GatewayHarness) -> None:
    _error(await gw.http.post(LIST, json={"count": "nonsense"}), 401, "invalidClientCredentials")
    write_only = await gw.client(frozenset({Scope.write}))
    body = _error(await gw.http.post(LIST, json={"count": 0}, headers=write_only), 403, "insufficientScope")
    assert body["errorData"] == {"requiredScope": "read"}
    reader = await gw.client(frozenset({Scope.read}))
    token, _ = await _kraken_token(gw, reader, 1)
    assert (
        len(_ok(await gw.http.post(LIST, json={"authToken": token, "type": "kraken"}, headers=reader))["transactions"])
        == 1
    )


@pytest.mark.parametrize(
    ("fields", "error_type", "named"),
    [
        ({"count": 0}, "invalidField", "count"),
        ({"count": 251}, "invalidField", "count"),
        ({"count": "5"}, "invalidField", "count"),
        ({"count": 2.0}, "invalidField", "count"),
        ({"statuses": ["open"]}, "invalidField", "statuses.0"),
        ({"statuses": "success"}, "invalidField", "statuses"),
        ({"from": -1}, "invalidField", "from"),
        ({"from": "yesterday"}, "invalidField", "from"),
        ({"cursor": 7}, "invalidField", "cursor"),
        ({"cursor": "not-a-cursor"}, "invalidField", "cursor"),
        ({"type": "nope"}, "invalidField", "type"),
        ({"authToken": None}, "missingField", "authToken"),
    ],
)
async def test_validation_names_the_field(gw: GatewayHarness, fields: dict, error_type: str, named: str) -> None:
    headers = await gw.client()
    token, _ = await _kraken_token(gw, headers)
    body = _error(
        await gw.http.post(LIST, json={"authToken": token, "type": "kraken", **fields}, headers=headers),
        400,
        error_type,
    )
    assert named in body["errorData"]["fields"]
    row = (await gw.gateway.audit.tail(1))[0]
    assert (row.endpoint, row.error_type, row.upstream_requests) == ("transactions/list", error_type, 0)


async def test_names_are_case_insensitive_unknown_properties_ignored_count_defaults_to_100(gw: GatewayHarness) -> None:
    headers = await gw.client()
    token, placed = await _kraken_token(gw, headers, 101)
    content = _ok(
        await gw.http.post(
            LIST,
            json={"AUTHTOKEN": token, "Type": "kraken", "Statuses": ["inProgress"], "FROM": 0, "whatever": [1]},
            headers=headers,
        )
    )
    assert [t["id"] for t in content["transactions"]] == placed[:0:-1]  # 100, newest first
    assert content["total"] == 101 and isinstance(content["cursor"], str)
    rest = _ok(
        await gw.http.post(
            LIST,
            json={
                "authToken": token,
                "type": "kraken",
                "statuses": ["inProgress"],
                "from": 0,
                "cursor": content["cursor"],
            },
            headers=headers,
        )
    )
    assert [t["id"] for t in rest["transactions"]] == placed[:1] and rest["cursor"] is None


async def test_types_that_cannot_list_are_refused_before_any_token_is_opened(gw: GatewayHarness) -> None:
    headers = await gw.client()
    for integration in (IntegrationType.stash, IntegrationType.openSea):
        body = _error(
            await gw.http.post(LIST, json={"authToken": "x", "type": integration.value}, headers=headers),
            400,
            "listingNotSupported",
        )
        assert body["errorData"] == {"type": integration.value}
    cannot = [s for s in SPECS.values() if s.family and not s.lists_orders and s.production_url]
    if cannot:
        spec = cannot[0]
        body = _error(
            await gw.http.post(LIST, json={"authToken": "x", "type": spec.type.value}, headers=headers),
            400,
            "listingNotSupported",
        )
        assert body["errorData"] == {"type": spec.type.value}


async def test_an_unopenable_token_is_401(gw: GatewayHarness) -> None:
    headers = await gw.client()
    _error(
        await gw.http.post(LIST, json={"authToken": "ogt1.x.AAAA", "type": "kraken"}, headers=headers),
        401,
        "invalidAuthToken",
    )


async def test_cursor_is_bound_to_the_type_and_one_audit_row_per_page(gw: GatewayHarness) -> None:
    headers = await gw.client()
    key, secret = gw.account()
    for i in range(3):
        gw.sim.place_order(key, price=str(100 + i))
    kraken = gw.seal(headers, key, secret)
    direct = gw.seal(headers, key, secret, IntegrationType.krakenDirect)
    first = _ok(await gw.http.post(LIST, json={"authToken": kraken, "type": "kraken", "count": 2}, headers=headers))
    row = (await gw.gateway.audit.tail(1))[0]
    assert (row.endpoint, row.integration_type, row.status, row.error_type) == ("transactions/list", "kraken", "ok", "")
    assert row.upstream_requests == 1 and row.order_id is None
    assert first["earliestTimestamp"] == min(t["createdTimestamp"] for t in first["transactions"])
    cursor = first["cursor"]
    body = _error(
        await gw.http.post(
            LIST, json={"authToken": direct, "type": "krakenDirect", "count": 2, "cursor": cursor}, headers=headers
        ),
        400,
        "invalidField",
    )
    assert set(body["errorData"]["fields"]) == {"cursor"}
    client_id = headers["X-Client-Id"]
    with pytest.raises(InvalidToken):  # a cursor is no challengeId
        gw.gateway.sealer.open_state(client_id, IntegrationType.kraken, cursor)
    assert gw.gateway.sealer.open_state(client_id, IntegrationType.kraken, cursor, LIST_CURSOR)["n"] == 2
    last = _ok(
        await gw.http.post(
            LIST, json={"authToken": kraken, "type": "kraken", "count": 2, "cursor": cursor}, headers=headers
        )
    )
    assert (len(last["transactions"]), last["cursor"], last["total"]) == (1, None, 3)
