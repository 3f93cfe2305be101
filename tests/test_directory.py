"""GET /api/v1/status, /integrations, /authenticationSchemes and POST /api/v1/token/refresh: client auth, scopes,
envelope, content checked against Mesh's own schemas, and agreement with the README table and featureList."""

from __future__ import annotations

import json
import re
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordergate.domain.cancel import venue_back_off_id
from ordergate.domain.directory import integration_id
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.store.clients import Scope
from ordergate.tokens import TokenSealer, generate_key_spec, parse_token_keys
from ordergate.venues.binance.simulator import BinanceSimulator
from ordergate.venues.catalog import INSTRUCTIONS_URLS, SPECS
from ordergate.venues.health import DOWN_AFTER, VenueHealth
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.registry import ADAPTERS
from ordergate.venues.simkit import Fault
from tests.conftest import GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

README = Path(__file__).parents[1] / "README.md"
CONTRACT = json.loads((Path(__file__).parents[1] / "src/ordergate/api/mesh_contract.json").read_text())
STATUS, INTEGRATIONS, SCHEMES, REFRESH = (
    "/api/v1/status",
    "/api/v1/integrations",
    "/api/v1/authenticationSchemes",
    "/api/v1/token/refresh",
)
_UNIX = re.compile(r"^\d{10}$")


def conforms(value: Any, schema: dict[str, Any], path: str = "$") -> None:
    """The subset of OpenAPI 3.0 schema rules Mesh's document uses, strictly (additionalProperties: false)."""
    schemas = CONTRACT["schemas"]
    while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1):
        nullable = schema.get("nullable", False)
        enum = schema.get("enum")
        ref = schema["$ref"] if "$ref" in schema else schema["allOf"][0]["$ref"]
        schema = {**schemas[ref.rsplit("/", 1)[1]]}
        schema["nullable"] = schema.get("nullable", False) or nullable
        if enum:
            schema["enum"] = enum
    if value is None:
        assert schema.get("nullable"), f"{path} is null but not nullable"
        return
    if "enum" in schema:
        assert value in schema["enum"], f"{path}={value!r} not in {schema['enum']}"
    kind = schema.get("type")
    if kind == "object":
        assert isinstance(value, dict), path
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(props), f"{path}: unknown {set(value) - set(props)}"
        for name in schema.get("required", []):
            assert name in value, f"{path}.{name} required"
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = props.get(name) or (extra if isinstance(extra, dict) else {})
            conforms(item, sub, f"{path}.{name}")
    elif kind == "array":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            conforms(item, schema.get("items", {}), f"{path}[{i}]")
    elif kind == "string":
        assert isinstance(value, str), path
        if schema.get("format") == "uuid":
            uuid.UUID(value)
        assert len(value) >= schema.get("minLength", 0), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), path


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"status", "message", "displayMessage", "errorType", "errorData", "content"}
    assert body["status"] == "ok" and body["errorType"] == "" and body["errorData"] is None
    return body["content"]


async def _refresh(gw: GatewayHarness, headers: dict[str, str], **body: object) -> httpx.Response:
    return await gw.http.post(REFRESH, json=body, headers=headers)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", STATUS), ("GET", INTEGRATIONS), ("GET", SCHEMES), ("POST", REFRESH)]
)
async def test_client_credentials_scope_and_audit_row(gw: GatewayHarness, method: str, path: str) -> None:
    body = {"type": "kraken", "refreshToken": "x"} if method == "POST" else None
    anonymous = await gw.http.request(method, path, json=body)
    assert anonymous.status_code == 401 and anonymous.json()["errorType"] == "invalidClientCredentials"
    write_only = await gw.client(frozenset({Scope.write}))
    refused = await gw.http.request(method, path, json=body, headers=write_only)
    assert refused.status_code == 403 and refused.json()["errorData"] == {"requiredScope": "read"}
    row = (await gw.gateway.audit.tail(1))[0]
    assert row.endpoint == path.removeprefix("/api/v1/") and row.error_type == "insufficientScope"
    assert row.upstream_requests == 0


async def test_integrations_lists_every_type_as_mesh_models_it(gw: GatewayHarness) -> None:
    content = _ok(await gw.http.get(INTEGRATIONS, headers=await gw.client()))
    conforms(content, CONTRACT["schemas"]["IntegrationsResponse"])
    items = content["items"]
    assert [i["type"] for i in items] == [t.value for t in IntegrationType]
    assert len({i["id"] for i in items}) == len(IntegrationType)
    assert all(i["categories"] and i["cryptoTransfersSupported"] is False for i in items)
    kraken = next(i for i in items if i["type"] == "kraken")
    assert kraken["id"] == integration_id(IntegrationType.kraken) == str(uuid.UUID(kraken["id"]))
    assert kraken["name"] == "Kraken" and kraken["categories"] == ["exchange"]
    assert next(i for i in items if i["type"] == "robinhood")["categories"] == ["brokerage"]


async def test_readme_integrations_status_and_feature_list_agree(gw: GatewayHarness) -> None:
    headers = await gw.client()
    items = {i["type"]: i for i in _ok(await gw.http.get(INTEGRATIONS, headers=headers))["items"]}
    statuses = {s["type"]: s for s in _ok(await gw.http.get(STATUS, headers=headers))}
    schemes = {s["brokerType"] for s in _ok(await gw.http.get(SCHEMES, headers=headers))}
    table = {
        m.group(1): (m.group(2), m.group(3) == "**yes**")
        for m in re.finditer(r"^\| `(\w+)` \| ([^|]+?) \| ([^|]+?) \|", README.read_text(), re.M)
    }
    for t in IntegrationType:
        readme_name, readme_cancels = table[t.value]
        feature = await gw.http.post(
            "/api/v1/transactions/featureList",
            json={"type": t.value, "authToken": gw.seal(headers, "k", "s", t)},
            headers=headers,
        )
        cancels = _ok(feature)["supportsOrderCancellation"]
        assert items[t.value]["name"] == statuses[t.value]["name"] == readme_name == SPECS[t].name
        if SPECS[t].cancel_supported and SPECS[t].production_url is None:
            # Operator-configured venues (Interactive Brokers' gateway URL): supported, but not until configured.
            assert readme_cancels and not cancels and statuses[t.value]["isUp"] is False
            continue
        assert readme_cancels is cancels is (t.value in schemes) is (statuses[t.value]["supportedProducts"] != [])


async def test_authentication_schemes_come_from_the_credential_fields(gw: GatewayHarness) -> None:
    content = _ok(await gw.http.get(SCHEMES, headers=await gw.client()))
    conforms(content, {"type": "array", "items": {"$ref": "#/components/schemas/BrokerAuthenticationScheme"}})
    by_type = {s["brokerType"]: s for s in content}
    kraken = by_type["kraken"]
    assert kraken["authenticationSchemeType"] == "apiKey"
    assert kraken["initialAuthenticationModel"]["fields"] == [
        {"name": "Username", "description": "API key"},
        {"name": "Password", "description": "API secret"},
        {"name": "Type", "description": "kraken"},
    ]
    assert kraken["mfaSchemes"] == ["mfaCode"]
    assert kraken["authenticationSteps"][0]["authResponse"]["mfaType"] == "totp"
    assert kraken["instructionsUrl"].startswith("https://support.kraken.com/")
    okx = {f["name"]: f["description"] for f in by_type["okx"]["initialAuthenticationModel"]["fields"]}
    assert okx["AuthToken"] == "passphrase" and by_type["okx"]["mfaSchemes"] == []
    assert (
        "paper/live"
        in {f["name"]: f["description"] for f in by_type["alpaca"]["initialAuthenticationModel"]["fields"]}["AuthToken"]
    )
    assert "paxos" not in by_type and "stash" not in by_type  # nothing ordergate could connect


def test_every_adapter_family_has_instructions() -> None:
    assert set(ADAPTERS) <= set(INSTRUCTIONS_URLS)
    assert all(url.startswith("https://") for url in INSTRUCTIONS_URLS.values())


async def test_status_is_up_for_adapters_and_says_why_not_for_the_rest(gw: GatewayHarness) -> None:
    requests_before = gw.gateway.transport.requests_sent
    content = _ok(await gw.http.get(STATUS, headers=await gw.client()))
    conforms(content, {"type": "array", "items": {"$ref": "#/components/schemas/B2BBrokersHealthStatus"}})
    assert gw.gateway.transport.requests_sent == requests_before  # no upstream call
    by_type = {s["type"]: s for s in content}
    assert len(by_type) == len(IntegrationType)
    assert by_type["kraken"] == {"type": "kraken", "name": "Kraken", "isUp": True, "supportedProducts": ["orders"]}
    paxos = by_type["paxos"]
    assert paxos["isUp"] is False and paxos["supportedProducts"] == []
    assert paxos["description"].startswith("ordergate does not support Paxos")
    assert "no API for cancelling" in by_type["stash"]["description"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_repeated_connect_failures_mark_the_type_down(
    tmp_path: Path, kraken: tuple[KrakenSimulator, str]
) -> None:
    sim, url = kraken
    dead = f"http://127.0.0.1:{_closed_port()}"
    async with gateway_harness(
        tmp_path, sim, url, base_urls={IntegrationType.kraken: dead, IntegrationType.krakenDirect: url}
    ) as gw:
        headers = await gw.client()
        key, secret = gw.account()
        token = gw.seal(headers, key, secret)
        for attempt in range(DOWN_AFTER):
            up = {s["type"]: s for s in _ok(await gw.http.get(STATUS, headers=headers))}["kraken"]
            assert up["isUp"] is True, attempt
            resp = await gw.cancel(
                headers, authToken=token, type="kraken", id="OABCDE-FGHIJ-KLMNOP", isCryptocurrency=True
            )
            assert resp.json()["errorType"] == "institutionUnavailable"
        statuses = {s["type"]: s for s in _ok(await gw.http.get(STATUS, headers=headers))}
        down = statuses["kraken"]
        assert down["isUp"] is False and down["supportedProducts"] == ["orders"]
        assert f"{DOWN_AFTER} times in a row" in down["description"]
        assert _UNIX.match(str(down["downTimeStart"])) and "downTimeEnd" not in down
        assert statuses["krakenDirect"]["isUp"] is True  # another type, reached
        feature = await gw.http.post(
            "/api/v1/transactions/featureList", json={"type": "kraken", "authToken": token}, headers=headers
        )
        assert _ok(feature)["isIntegrationUp"] is False  # featureList tells the same story as /status


async def test_a_venue_wide_ban_marks_every_type_of_that_host_down(gw: GatewayHarness) -> None:
    registry = gw.gateway.registry
    spec, adapter = (
        registry.spec(IntegrationType.binanceInternational),
        registry.adapter(IntegrationType.binanceInternational),
    )
    assert adapter is not None and spec.limits_per_ip
    # As another worker recorded it: only the shared coordination knows, so no start time.
    await gw.gateway.coordination.block(venue_back_off_id(spec, adapter.base_url), 120, "institutionLocked")
    by_type = {s["type"]: s for s in _ok(await gw.http.get(STATUS, headers=await gw.client()))}
    for t in ("binanceInternational", "binanceInternationalDirect"):
        assert by_type[t]["isUp"] is False and "banned" in by_type[t]["description"]
        assert _UNIX.match(str(by_type[t]["downTimeEnd"])) and by_type[t].get("downTimeStart") is None
    assert by_type["binanceUs"]["isUp"] is True  # another host


async def test_health_streaks_end_with_an_answer_and_age_out() -> None:
    now = [1_700_000_000.0]
    health = VenueHealth(clock=lambda: now[0])
    for _ in range(DOWN_AFTER):
        await health.connect_failed("okx")
        now[0] += 1
    await health.timed_out("okx")
    outage = health.outage(IntegrationType.okx)
    assert outage is not None and outage.start == 1_700_000_000 and "1 requests timed out" in outage.description
    await health.answered("okx")
    assert health.outage(IntegrationType.okx) is None
    for _ in range(DOWN_AFTER):
        await health.connect_failed("okx")
    now[0] += 61
    assert health.outage(IntegrationType.okx) is None  # the last failure is over a minute old
    health.cooled_down([IntegrationType.binanceUs], 30, "rateLimited")
    cooled = health.outage(IntegrationType.binanceUs)
    assert cooled is not None and cooled.end == cooled.start + 30 and "slow down" in cooled.description


async def test_refresh_reseals_the_same_account_under_the_current_key(
    tmp_path: Path, kraken: tuple[KrakenSimulator, str]
) -> None:
    old_key = generate_key_spec("t1")
    async with gateway_harness(tmp_path, *kraken, token_keys=old_key) as gw:
        await _refresh_after_rotation(gw, old_key)


async def _refresh_after_rotation(gw: GatewayHarness, old_key: str) -> None:
    headers = await gw.client()
    key, secret = gw.account()
    token = gw.seal(headers, key, secret)
    # Key rotation: a new first key seals, the old one still opens.
    rotated = TokenSealer(parse_token_keys(f"{generate_key_spec('t2')},{old_key}"))
    gw.gateway.sealer = gw.gateway.cancels.sealer = rotated
    content = _ok(await _refresh(gw, headers, type="kraken", refreshToken=token, createNewRefreshToken=True))
    conforms(content, CONTRACT["schemas"]["B2BBrokerRefreshTokenResponse"])
    assert content["status"] == "succeeded"
    [tokens] = content["brokerAccountTokens"]
    assert tokens["accessToken"] == tokens["refreshToken"] and tokens["accessToken"].startswith("ogt1.t2.")
    assert rotated.open(headers["X-Client-Id"], IntegrationType.kraken, tokens["accessToken"]) == Credentials(
        IntegrationType.kraken, key, secret
    )
    txid = gw.sim.place_order(key)
    resp = await gw.cancel(headers, authToken=tokens["accessToken"], type="kraken", id=txid, isCryptocurrency=True)
    assert resp.json()["content"]["status"] == "cancelled"
    row = (await gw.gateway.audit.tail(2))[0]
    assert (row.endpoint, row.integration_type, row.status) == ("token/refresh", "kraken", "ok")


async def test_refresh_refuses_what_it_cannot_open(gw: GatewayHarness) -> None:
    headers, other = await gw.client(), await gw.client()
    token = gw.seal(headers, "k", "s")
    for body in (
        {"type": "kraken", "refreshToken": gw.seal(other, "k", "s")},  # another API client's
        {"type": "krakenDirect", "refreshToken": token},  # another type's
        {"type": "kraken", "refreshToken": token[:-2] + ("AA" if not token.endswith("AA") else "BB")},
    ):
        resp = await _refresh(gw, headers, **body)
        assert resp.status_code == 400, resp.text
        assert resp.json()["status"] == "badRequest" and resp.json()["message"] == "Unauthorized token"
        assert resp.json()["content"] is None
    missing = await _refresh(gw, headers, type="kraken")
    assert missing.status_code == 400 and missing.json()["errorData"]["fields"] == {"refreshToken": "required"}
    unsupported = await _refresh(gw, headers, type="paxos", refreshToken=token)
    assert unsupported.status_code == 400 and unsupported.json()["errorType"] == "authenticationNotSupported"


async def test_binance_ip_ban_seen_by_the_cancel_service_is_an_outage_with_an_end(tmp_path: Path) -> None:
    sim = BinanceSimulator()
    with serve_asgi(sim.app) as url:
        async with gateway_harness(tmp_path, sim, url, base_urls={IntegrationType.binanceInternational: url}) as gw:
            headers = await gw.client()
            account = sim.new_account()
            sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="ban"))
            order_id, extra = sim.place(account)
            token = gw.seal(headers, account.api_key, account.secret, IntegrationType.binanceInternational)
            body = {"authToken": token, "type": "binanceInternational", "id": order_id, "isCryptocurrency": True}
            banned = await gw.cancel(headers, **body, **extra)
            assert banned.status_code == 423
            by_type = {s["type"]: s for s in _ok(await gw.http.get(STATUS, headers=headers))}
    down = by_type["binanceInternational"]
    assert down["isUp"] is False and "banned" in down["description"]
    assert down["downTimeStart"] < down["downTimeEnd"]
    assert by_type["binanceInternationalDirect"]["isUp"] is True  # here it is served from another host


async def test_workers_share_connect_failure_streaks_through_redis(tmp_path: Path) -> None:
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    import redis.asyncio as redis

    from tests.scaleout.test_redis_restart import PrivateRedis

    server = PrivateRedis(tmp_path)
    server.start()
    a, b = redis.Redis(port=server.port), redis.Redis(port=server.port)
    try:
        worker_a, worker_b = VenueHealth(a), VenueHealth(b)
        for _ in range(DOWN_AFTER):
            await worker_a.connect_failed("okx")
        shared = await worker_b.shared_streaks(["okx", "kraken"])
        assert set(shared) == {"okx"} and shared["okx"][0] == DOWN_AFTER
        assert worker_b.outage(IntegrationType.okx, shared["okx"]) is not None
        await worker_b.answered("okx")  # any worker reaching the venue ends the streak for all
        assert await worker_a.shared_streaks(["okx"]) == {}
        assert await b.ttl("og:health:okx") == -2
    finally:
        await a.aclose()
        await b.aclose()
        server.stop()
