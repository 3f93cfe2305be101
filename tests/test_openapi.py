"""The served OpenAPI agrees with Mesh's published document for every endpoint ordergate implements."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ordergate.api.models import (
    B2BBrokerAuthRequest,
    BrokerRefreshTokenRequest,
    TransactionsB2BBrokerOrderListRequest,
    TransactionsB2BBrokerOrderRequest,
)
from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import ApiResultStatus, IntegrationType, OrderSide
from tests.conftest import GatewayHarness

_REFERENCE = Path(__file__).parents[2] / "shared" / "reference" / "mesh-openapi.json"
_VENDORED = Path(__file__).parents[1] / "src" / "ordergate" / "api" / "mesh_contract.json"


def _mesh() -> dict:
    """Mesh's full document when the reference copy is beside the repo (CI, dev), else our vendored subset."""
    if _REFERENCE.exists():
        return json.loads(_REFERENCE.read_text())
    vendored = json.loads(_VENDORED.read_text())
    return {
        "paths": {"/api/v1/transactions/cancel": {"post": vendored["cancel"]}},
        "components": {"schemas": vendored["schemas"], "securitySchemes": vendored["securitySchemes"]},
        "security": vendored["security"],
    }


@pytest.fixture
async def served(gw: GatewayHarness) -> dict:
    resp = await gw.http.get("/openapi.json")
    assert resp.status_code == 200
    return resp.json()


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema or ("allOf" in schema and len(schema["allOf"]) == 1 and "$ref" in schema["allOf"][0]):
        ref = schema["$ref"] if "$ref" in schema else schema["allOf"][0]["$ref"]
        schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


async def test_cancel_request_schema_matches_mesh(served: dict) -> None:
    mesh = _mesh()
    ours = _resolve(
        served,
        served["paths"]["/api/v1/transactions/cancel"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    )
    theirs = _resolve(
        mesh,
        mesh["paths"]["/api/v1/transactions/cancel"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    )
    assert ours["required"] == theirs["required"]
    assert set(ours["properties"]) == set(theirs["properties"])
    for name, prop in theirs["properties"].items():
        mine = ours["properties"][name]
        for key in ("type", "minLength", "nullable", "enum"):
            assert mine.get(key) == prop.get(key), (name, key)
    assert ours["properties"]["type"]["enum"] == [t.value for t in IntegrationType]  # Mesh's order, all 57
    assert len(IntegrationType) == 57


async def test_request_models_validate_what_the_document_says(served: dict) -> None:
    schema = served["components"]["schemas"]["TransactionsB2BBrokerOrderRequest"]
    model = TransactionsB2BBrokerOrderRequest.model_fields
    assert set(schema["properties"]) == set(model)
    assert set(schema["required"]) == {n for n, f in model.items() if f.is_required()}
    assert served["components"]["schemas"]["BrokerOrderType"]["enum"] == [s.value for s in OrderSide]
    auth = served["components"]["schemas"]["B2BBrokerAuthRequest"]
    assert set(auth["properties"]) == set(B2BBrokerAuthRequest.model_fields)
    assert auth["required"] == ["type"]


async def test_envelope_and_security_match_mesh(served: dict) -> None:
    mesh = _mesh()
    ours, theirs = served["components"]["schemas"]["ApiResult"], mesh["components"]["schemas"]["ApiResult"]
    assert set(theirs["properties"]) <= set(ours["properties"])
    assert ours["properties"]["status"]["enum"] == theirs["properties"]["status"]["enum"]
    assert [s.value for s in ApiResultStatus] == theirs["properties"]["status"]["enum"]
    assert served["components"]["securitySchemes"] == mesh["components"]["securitySchemes"]
    assert served["security"] == mesh["security"]
    op = served["paths"]["/api/v1/transactions/cancel"]["post"]
    assert op["tags"] == ["Transactions"] and op["summary"] == "Cancel order execution"
    assert {"200", "400", "401", "403", "404"} <= set(op["responses"])


async def test_error_catalogue_is_in_the_document(served: dict) -> None:
    text = served["info"]["description"]
    for error_type in ErrorType:
        assert f"`{error_type.value}`" in text


async def test_docs_page_is_served(gw: GatewayHarness) -> None:
    resp = await gw.http.get("/docs")
    assert resp.status_code == 200 and "openapi.json" in resp.text


_DIRECTORY = {
    "/api/v1/status": "get",
    "/api/v1/integrations": "get",
    "/api/v1/authenticationSchemes": "get",
    "/api/v1/token/refresh": "post",
}


def _content_schema(doc: dict, op: dict) -> dict:
    """The 200 answer's `content`, whether the envelope is Mesh's named *ApiResult or our allOf ApiResult."""
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = _resolve(doc, schema)
    return schema["properties"]["content"]


def _comparable(doc: dict, schema: dict) -> object:
    """A schema with refs replaced by their names and descriptions dropped: what the wire shape is."""
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
    out: dict = {}
    for key, value in schema.items():
        if key in ("description", "example", "nullable", "readOnly"):
            continue
        if key == "items":
            value = _comparable(doc, value)
        elif key == "properties":
            value = {name: _comparable(doc, prop) for name, prop in value.items()}
        out[key] = value
    return out


@pytest.mark.parametrize(("path", "method"), list(_DIRECTORY.items()))
async def test_directory_operations_match_mesh(served: dict, path: str, method: str) -> None:
    mesh = _mesh()
    if path not in mesh["paths"]:
        pytest.skip("Mesh's full document is not beside the repo")
    ours, theirs = served["paths"][path][method], mesh["paths"][path][method]
    assert (ours["tags"], ours["summary"]) == (theirs["tags"], theirs["summary"])
    assert {"200", "401"} <= set(ours["responses"])
    assert _comparable(served, _content_schema(served, ours)) == _comparable(mesh, _content_schema(mesh, theirs))
    if "requestBody" in theirs:
        ours_req = _resolve(served, ours["requestBody"]["content"]["application/json"]["schema"])
        theirs_req = _resolve(mesh, theirs["requestBody"]["content"]["application/json"]["schema"])
        assert ours_req == theirs_req
        model = BrokerRefreshTokenRequest.model_fields
        assert set(ours_req["properties"]) == set(model)
        assert set(ours_req["required"]) == {n for n, f in model.items() if f.is_required()}


async def test_every_schema_the_directory_uses_is_mesh_s_own(served: dict) -> None:
    mesh = _mesh()
    if "/api/v1/status" not in mesh["paths"]:
        pytest.skip("Mesh's full document is not beside the repo")
    for name in (
        "B2BBrokersHealthStatus",
        "IntegrationModel",
        "IntegrationsResponse",
        "BrokerAuthenticationScheme",
        "AuthenticationModel",
        "AuthenticationFieldDescription",
        "BrokerRefreshTokenRequest",
        "B2BBrokerRefreshTokenResponse",
        "BrokerAccountTokens",
        "BrokerFeature",
        "MfaScheme",
        "FinancialInstitutionIntegrationType",
    ):
        assert served["components"]["schemas"][name] == mesh["components"]["schemas"][name], name


async def test_list_operation_matches_mesh(served: dict) -> None:
    mesh = _mesh()
    path = "/api/v1/transactions/list"
    if path not in mesh["paths"]:
        pytest.skip("Mesh's full document is not beside the repo")
    ours, theirs = served["paths"][path]["post"], mesh["paths"][path]["post"]
    assert (ours["tags"], ours["summary"]) == (theirs["tags"], theirs["summary"])
    assert ours["description"].startswith(theirs["description"])
    assert {"200", "400", "401", "403"} <= set(ours["responses"])
    assert _comparable(served, _content_schema(served, ours)) == _comparable(mesh, _content_schema(mesh, theirs))
    ours_req = _resolve(served, ours["requestBody"]["content"]["application/json"]["schema"])
    theirs_req = _resolve(mesh, theirs["requestBody"]["content"]["application/json"]["schema"])
    assert ours_req == theirs_req
    for name in ("B2BBrokerOrderListResponse", "B2BBrokerOrder", "BrokerOrderStatus"):
        assert served["components"]["schemas"][name] == mesh["components"]["schemas"][name], name


async def test_list_request_model_validates_what_the_document_says(served: dict) -> None:
    schema = served["components"]["schemas"]["TransactionsB2BBrokerOrderListRequest"]
    model = TransactionsB2BBrokerOrderListRequest.model_fields
    wire = {info.alias or name: info for name, info in model.items()}
    assert set(schema["properties"]) == set(wire) - {"symbolPair"}  # symbolPair: ordergate's documented extension
    assert set(schema["required"]) == {n for n, f in wire.items() if f.is_required()}
    assert schema["properties"]["statuses"]["items"] == {"$ref": "#/components/schemas/BrokerOrderStatus"}
    assert "Maximum: `250`" in schema["properties"]["count"]["description"]
