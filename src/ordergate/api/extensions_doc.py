"""The OpenAPI description of ordergate's own endpoints (api/extensions.py), under the "ordergate extensions" tag.
Mesh's operations keep their own description untouched."""

from __future__ import annotations

import copy
from typing import Any

from ordergate.domain.batch import MAX_ORDERS
from ordergate.domain.killswitch import MAX_CANCEL_AFTER_S
from ordergate.domain.settle import MAX_WAIT_S

TAG = "ordergate extensions"
_ENVELOPE = {"$ref": "#/components/schemas/ApiResult"}


def _answer(description: str, content: dict[str, Any] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = _ENVELOPE
    if content is not None:
        schema = {"allOf": [_ENVELOPE], "type": "object", "properties": {"content": content}}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_extensions(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    schemas["BatchCancelRequest"] = {
        "type": "object",
        "required": ["orders"],
        "properties": {
            "orders": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_ORDERS,
                "items": {"$ref": "#/components/schemas/TransactionsB2BBrokerOrderRequest"},
                "description": "Each item is exactly the body of `POST /api/v1/transactions/cancel`; accounts and "
                "integration types may mix.",
            },
            "waitSeconds": {
                "type": "number",
                "minimum": 0,
                "maximum": MAX_WAIT_S,
                "default": 0,
                "description": "Where a venue only acknowledges (`inProgress`), look the order up (backing off, "
                "within the key's budget) until it reads cancelled (→ `cancelled`), filled or otherwise final (→ "
                "409 `orderNotCancelable` with `errorData.orderStatus`) or the time is up (→ `inProgress`).",
            },
        },
    }
    # Mesh's ApiResult forbids additional properties, so an item restates its fields rather than extending it.
    envelope_fields = copy.deepcopy(schemas["ApiResult"]["properties"])
    schemas["BatchCancelItem"] = {
        "type": "object",
        "additionalProperties": False,
        "description": "The envelope a single cancel of this order would have answered, with its HTTP status.",
        "properties": {
            **envelope_fields,
            "content": {"allOf": [{"$ref": "#/components/schemas/CancelOrderResult"}], "nullable": True},
            "httpStatus": {"type": "integer"},
            "retryAfter": {"type": "integer", "description": "Seconds, where the answer carries Retry-After."},
        },
    }
    schemas["BatchCancelResult"] = {
        "type": "object",
        "properties": {
            "complete": {
                "type": "boolean",
                "description": "Every order has a definite answer (HTTP 200, 400, 403, 404, 409 or 451). Only a "
                "complete answer is kept for an Idempotency-Key; otherwise a retry with the same key runs again.",
            },
            "summary": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "How many orders got each answer: `cancelled`, `inProgress` or an errorType.",
            },
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/BatchCancelItem"}},
        },
    }
    doc.setdefault("tags", []).append(
        {
            "name": TAG,
            "description": "ordergate's own endpoints, served beside Mesh's under the same client authentication, "
            "scopes, limits, Idempotency-Key and audit. Not part of Mesh's API.",
        }
    )
    doc["paths"]["/api/v1/transactions/cancel/batch"] = {
        "post": {
            "tags": [TAG],
            "operationId": "cancelOrderBatch",
            "summary": f"Cancel up to {MAX_ORDERS} orders, each answered as a single cancel",
            "description": "Needs a `write` client; counts one request per order against the client's limit. "
            "Orders run concurrently, paced by each venue key's budget; the orders of one venue key go in the "
            "venue's native batch request where it has one (Kraken, OKX, Bybit, Coinbase Advanced), else as single "
            "cancels, and every item is resolved as a single cancel's answer. One audit row per order. An "
            "`Idempotency-Key` covers the whole batch.",
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchCancelRequest"}}}
            },
            "responses": {
                "200": _answer(
                    "One result per order, in request order (an order's own failure is its item, not the batch's).",
                    {"$ref": "#/components/schemas/BatchCancelResult"},
                ),
                "400": _answer("The batch itself is malformed (`missingField` / `invalidField`)."),
                "401": _answer("`invalidClientCredentials`."),
                "403": _answer("`insufficientScope`."),
                "409": _answer("`idempotencyKeyInFlight`."),
                "422": _answer("`idempotencyKeyReused`."),
                "429": _answer("`rateLimited` for the API client; see `Retry-After`."),
                "500": _answer("`internalError`."),
                "503": _answer("`serviceUnavailable`."),
            },
        }
    }

    _document_kill_switch(doc)


_CLIENT_REFUSALS = {
    "401": _answer("`invalidClientCredentials`, `invalidAuthToken`."),
    "403": _answer("`insufficientScope` (needs `write`)."),
    "409": _answer("`idempotencyKeyInFlight`."),
    "422": _answer("`idempotencyKeyReused`."),
    "429": _answer("`rateLimited` for the API client or the venue key; see `Retry-After`."),
    "500": _answer("`internalError`."),
    "502": _answer("`institutionUnavailable`: the venue could not be reached or listed; nothing was cancelled."),
    "503": _answer("`serviceUnavailable`."),
}


def _document_kill_switch(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    schemas["CancelAllRequest"] = {
        "type": "object",
        "required": ["authToken", "type"],
        "properties": {
            "authToken": {"type": "string", "description": "The account's token, as for a single cancel."},
            "type": {"$ref": "#/components/schemas/BrokerType"},
            "symbolPair": {"type": "string", "maxLength": 32, "description": "Only orders of this pair."},
            "side": {"type": "string", "enum": ["buy", "sell"], "description": "Only orders of this side."},
        },
    }
    item = copy.deepcopy(schemas["BatchCancelItem"])
    item["properties"]["orderId"] = {"type": "string", "description": "The order this item is about."}
    item["description"] = "The envelope a single cancel of this order would have answered, with its order id."
    schemas["CancelAllItem"] = item
    schemas["CancelAllResult"] = {
        "type": "object",
        "properties": {
            "complete": {"type": "boolean", "description": "Every order has a definite answer and none was left."},
            "summary": {"type": "object", "additionalProperties": {"type": "integer"}},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/CancelAllItem"}},
            "notCancelled": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Orders touched but not cancelled: filled meanwhile (409 `orderNotCancelable`), "
                "venue errors.",
            },
            "method": {
                "type": "string",
                "enum": ["native", "listing"],
                "description": "`native`: the venue's own cancel-all; `listing`: open orders listed, each cancelled.",
            },
            "how": {"type": "string"},
            "unnamedCancelled": {
                "type": "integer",
                "description": "Orders a count-only native cancel-all (Kraken) cancelled beyond those it could name.",
            },
            "truncated": {"type": "boolean", "description": "More open orders than one kill switch walks."},
        },
    }
    doc["paths"]["/api/v1/transactions/cancel/all"] = {
        "post": {
            "tags": [TAG],
            "operationId": "cancelAllOrders",
            "summary": "Kill switch: cancel every open order of an account",
            "description": "Needs a `write` client. The venue's own cancel-all where it has one that applies the "
            "filters (Kraken CancelAll, Alpaca DELETE /v2/orders, Bybit cancel-all by symbol, Binance DELETE "
            "/api/v3/openOrders per symbol, KuCoin cancel-all, Coinbase listing + batch_cancel); otherwise the open "
            "orders are listed (every page) and each is cancelled as a single cancel, concurrently and paced by the "
            "key's budget. Names every order touched; one audit row per order.",
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CancelAllRequest"}}}
            },
            "responses": {
                "200": _answer("One item per order touched.", {"$ref": "#/components/schemas/CancelAllResult"}),
                "400": _answer("`missingField` / `invalidField`, `cancelNotSupported`, `mfaRequired`."),
                **_CLIENT_REFUSALS,
                "504": _answer("`cancelOutcomeUnknown`: the native cancel-all's answer was lost."),
            },
        }
    }
    schemas["CancelAfterRequest"] = {
        "type": "object",
        "required": ["authToken", "type", "timeoutSeconds"],
        "properties": {
            "authToken": {"type": "string"},
            "type": {"$ref": "#/components/schemas/BrokerType"},
            "timeoutSeconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_CANCEL_AFTER_S,
                "description": "Cancel every open order after this long unless sent again; 0 disarms.",
            },
        },
    }
    doc["paths"]["/api/v1/transactions/cancel/after"] = {
        "post": {
            "tags": [TAG],
            "operationId": "cancelAllOrdersAfter",
            "summary": "Dead-man's switch: the venue cancels every open order unless re-armed in time",
            "description": "Needs a `write` client. Arms the venue's own timer (Kraken CancelAllOrdersAfter); "
            "other types answer 400 `cancelAfterNotSupported` before anything is sent.",
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CancelAfterRequest"}}}
            },
            "responses": {
                "200": _answer(
                    "The venue's view of the timer.",
                    {
                        "type": "object",
                        "properties": {
                            "armed": {"type": "boolean"},
                            "timeoutSeconds": {"type": "integer"},
                            "currentTime": {"type": "string"},
                            "triggerTime": {"type": "string", "description": "`0` when disarmed."},
                        },
                    },
                ),
                "400": _answer("`missingField` / `invalidField`, `cancelAfterNotSupported`."),
                **_CLIENT_REFUSALS,
            },
        }
    }
