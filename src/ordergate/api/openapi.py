"""The served OpenAPI document (3.0.1, like Mesh's): Mesh's own schemas for what we share, plus our envelope
content and the errorType catalogue. tests/test_openapi.py checks it against Mesh's published document and
against the request models that actually validate requests."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ordergate import __version__
from ordergate.api.extensions_doc import document_extensions
from ordergate.domain.errors import CATALOGUE
from ordergate.domain.integrations import OrderStatus

_CONTRACT = Path(__file__).with_name("mesh_contract.json")


def error_catalogue_markdown() -> str:
    lines = ["| errorType | status | HTTP | meaning |", "|---|---|---|---|"]
    for error_type, info in CATALOGUE.items():
        lines.append(f"| `{error_type.value}` | `{info.status.value}` | {info.http_status} | {info.meaning} |")
    return "\n".join(lines)


def _envelope(ref_content: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "allOf": [{"$ref": "#/components/schemas/ApiResult"}],
        "type": "object",
        "properties": {"content": ref_content or {"nullable": True}},
    }


def _error_responses(codes: dict[str, str]) -> dict[str, Any]:
    return {
        code: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiResult"}}},
        }
        for code, text in codes.items()
    }


_COMMON_ERRORS = {
    "400": "Validation failure (`missingField` / `invalidField`, `errorData.fields` names each field) or an "
    "unsupported integration.",
    "401": "`invalidClientCredentials`, `invalidAuthToken` or `institutionAuthFailed`.",
    "403": "`insufficientScope`, `institutionPermissionDenied` or `mfaInvalid`.",
    "429": "`rateLimited`; see the `Retry-After` header.",
    "423": "`institutionLocked`; see the `Retry-After` header.",
    "451": "`institutionRestricted`.",
    "500": "`internalError`.",
    "502": "`institutionUnavailable`.",
    "504": "`cancelOutcomeUnknown`.",
}


@lru_cache(maxsize=1)
def build_openapi() -> dict[str, Any]:
    contract = json.loads(_CONTRACT.read_text())
    schemas: dict[str, Any] = copy.deepcopy(contract["schemas"])
    # ordergate extension: the envelope may carry `content` (Mesh's ApiResult subclasses do the same).
    schemas["ApiResult"]["properties"]["content"] = {
        "nullable": True,
        "description": "Payload of a successful call (ordergate also fills it for cancel).",
    }
    schemas["ApiResult"]["properties"]["errorType"]["description"] += (
        "\n\nordergate's catalogue:\n\n" + error_catalogue_markdown()
    )
    assert schemas["BrokerOrderStatus"]["enum"] == [s.value for s in OrderStatus]
    schemas["CancelOrderResult"] = {
        "type": "object",
        "properties": {
            "orderId": {"type": "string"},
            "status": {
                "allOf": [{"$ref": "#/components/schemas/BrokerOrderStatus"}],
                "description": "`cancelled` when the venue confirmed it, `inProgress` when it only acknowledged.",
            },
        },
        "additionalProperties": False,
    }
    schemas["B2BBrokerAuthResponse"] = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["succeeded", "failed", "mfaRequired"]},
            "mfaType": {"type": "string", "nullable": True},
            "errorMessage": {"type": "string", "nullable": True},
            "brokerType": {"allOf": [{"$ref": "#/components/schemas/BrokerType"}]},
            "accountTokens": {"type": "array", "nullable": True, "items": {"type": "object"}},
            "expiresInSeconds": {"type": "integer", "nullable": True},
            "refreshTokenExpiresInSeconds": {"type": "integer", "nullable": True},
            "requiresReauthentication": {"type": "boolean"},
        },
    }
    cancel = copy.deepcopy(contract["cancel"])
    cancel["operationId"] = "cancelOrder"
    cancel["responses"] = {
        "200": {
            "description": "Order cancelled (or, with `content.status` `inProgress`, the cancel was accepted).",
            "content": {"application/json": {"schema": _envelope({"$ref": "#/components/schemas/CancelOrderResult"})}},
        },
        **_error_responses(
            {
                **_COMMON_ERRORS,
                "404": "`orderNotFound` (confirmed by an order lookup).",
                "409": "`orderNotCancelable`: the order is final; `errorData.orderStatus` says why.",
            }
        ),
    }
    details = copy.deepcopy(contract["details"])
    details["operationId"] = "orderDetails"
    details["responses"] = {
        "200": {
            "description": "The order as the venue reports it now.",
            "content": {"application/json": {"schema": _envelope({"$ref": "#/components/schemas/B2BBrokerOrder"})}},
        },
        **_error_responses({**_COMMON_ERRORS, "404": "`orderNotFound`: the venue has no such order."}),
    }
    listing = copy.deepcopy(contract["list"])
    listing["operationId"] = "listOrders"
    listing["description"] += (
        "\n\nordergate: open orders first, then the order history, each newest first. `cursor` is sealed (opaque) "
        "and bound to the API client, the integration type, the account (authToken) and the query (`statuses`, "
        "`from`, `count`); any other use is refused with 400 `invalidField` naming `cursor`. `cursor` is null on "
        "the last page. `total` is the venue's own total where it gives one, else the number of orders served so "
        "far in this walk (exact on the last page). `earliestTimestamp` is the smallest `createdTimestamp` on the "
        "page, 0 when it is empty. An empty `statuses` list means every status. Extension: `symbolPair`, for "
        "venues that list one instrument at a time (400 `missingField` names it where needed). Integration types "
        "ordergate cannot list answer 400 `listingNotSupported`."
    )
    listing["responses"] = {
        "200": {
            "description": "One page of the account's orders.",
            "content": {
                "application/json": {"schema": _envelope({"$ref": "#/components/schemas/B2BBrokerOrderListResponse"})}
            },
        },
        **_error_responses(_COMMON_ERRORS),
    }
    feature_list = copy.deepcopy(contract["featureList"])
    feature_list["operationId"] = "featureList"
    feature_list["responses"] = {
        "200": {
            "description": "What ordergate supports for the integration.",
            "content": {
                "application/json": {"schema": _envelope({"$ref": "#/components/schemas/B2BBrokerTradingFeatureInfo"})}
            },
        },
        **_error_responses(_COMMON_ERRORS),
    }
    authenticate = copy.deepcopy(contract["authenticate"])
    authenticate["operationId"] = "authenticate"
    authenticate["description"] = (
        "Connects an API-key account: `username` = API key, `password` = API secret, `authToken` = "
        "passphrase where the venue has one. The credentials are verified with one cheap authenticated call "
        "to the venue, then sealed into `content.accountTokens[0].accessToken`."
    )
    authenticate["requestBody"] = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/B2BBrokerAuthRequest"}}}
    }
    authenticate["responses"] = {
        "200": {
            "description": "Credentials verified (`succeeded`) or a one-time code is needed (`mfaRequired`).",
            "content": {
                "application/json": {"schema": _envelope({"$ref": "#/components/schemas/B2BBrokerAuthResponse"})}
            },
        },
        **_error_responses(_COMMON_ERRORS),
    }
    directory = _directory_operations(contract)
    doc = {
        "openapi": "3.0.1",
        "info": {
            "title": "ordergate — Mesh Connect compatible Integration API",
            "version": __version__,
            "description": "A self-hosted gateway serving Mesh Connect's trading endpoints.\n\n"
            "## errorType catalogue\n\n" + error_catalogue_markdown(),
        },
        "paths": {
            "/api/v1/transactions/cancel": {"post": cancel},
            "/api/v1/transactions/details": {"post": details},
            "/api/v1/transactions/list": {"post": listing},
            "/api/v1/transactions/featureList": {"post": feature_list},
            "/api/v1/authenticate": {"post": authenticate},
            **directory,
        },
        "components": {"schemas": schemas, "securitySchemes": contract["securitySchemes"]},
        "security": contract["security"],
    }
    document_extensions(doc)  # beside Mesh's paths, under their own tag
    return doc


_READ_ERRORS = {
    "401": "`invalidClientCredentials`.",
    "403": "`insufficientScope` (these endpoints need a `read` client).",
    "429": "`rateLimited`; see the `Retry-After` header.",
    "500": "`internalError`.",
}


def _directory_operations(contract: dict[str, Any]) -> dict[str, Any]:
    """status, integrations, authenticationSchemes and token/refresh, on Mesh's own operation text and schemas."""

    def operation(name: str, content: dict[str, Any], description: str, errors: dict[str, str]) -> dict[str, Any]:
        op = copy.deepcopy(contract[name])
        op["operationId"] = name
        op["responses"] = {
            "200": {"description": description, "content": {"application/json": {"schema": _envelope(content)}}},
            **_error_responses(errors),
        }
        return op

    status = operation(
        "status",
        {"type": "array", "items": {"$ref": "#/components/schemas/B2BBrokersHealthStatus"}},
        "Every integration type: `isUp` false without an adapter, after repeated connect failures in the last "
        "minute, or while the venue has banned or throttled this gateway. No venue is called to answer.",
        _READ_ERRORS,
    )
    integrations = operation(
        "integrations",
        {"$ref": "#/components/schemas/IntegrationsResponse"},
        "Every integration type ordergate knows, with a stable id (uuid5 of the type).",
        _READ_ERRORS,
    )
    schemes = operation(
        "authenticationSchemes",
        {"type": "array", "items": {"$ref": "#/components/schemas/BrokerAuthenticationScheme"}},
        "The integrations ordergate can connect, with the fields `/api/v1/authenticate` takes for each.",
        _READ_ERRORS,
    )
    refresh = operation(
        "tokenRefresh",
        {"$ref": "#/components/schemas/B2BBrokerRefreshTokenResponse"},
        "The same account's token, sealed again under the current sealing key.",
        {
            "400": "`invalidField` (`Unauthorized token`: the refreshToken does not open for this client and "
            "type), `missingField`, or `authenticationNotSupported`.",
            **_READ_ERRORS,
        },
    )
    refresh["description"] = (
        "API-key integrations: send the current authToken as `refreshToken`. API keys do not expire, so the "
        "answer is the same account's credentials sealed again under the first key of ORDERGATE_TOKEN_KEYS "
        "(after a key rotation, refresh every token before retiring the old key), as both `accessToken` and "
        "`refreshToken` of `brokerAccountTokens[0]`. A token sealed for another API client or type, or with a "
        "key no longer configured, is refused with 400."
    )
    return {
        "/api/v1/status": {"get": status},
        "/api/v1/integrations": {"get": integrations},
        "/api/v1/authenticationSchemes": {"get": schemes},
        "/api/v1/token/refresh": {"post": refresh},
    }
