"""Regenerate src/ordergate/api/mesh_contract.json from Mesh's published OpenAPI document.

Usage: python tools/vendor_mesh_contract.py ../shared/reference/mesh-openapi.json
Keeps the operations ordergate serves and the transitive closure of the schemas they use.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPERATIONS = {
    "cancel": "/api/v1/transactions/cancel",
    "details": "/api/v1/transactions/details",
    "featureList": "/api/v1/transactions/featureList",
    "authenticate": "/api/v1/authenticate",
}
ROOTS = [
    "ApiResult", "ApiResultStatus", "BrokerType", "BrokerOrderType", "BrokerOrderStatus",
    "TransactionsB2BBrokerOrderRequest", "TransactionsBrokerBaseRequest", "B2BBrokerOrder",
    "B2BBrokerTradingFeatureInfo",
]  # fmt: skip
AUTH_FIELDS = ["type", "username", "password", "authToken", "mfaCode", "isSensitiveFieldsEncrypted"]
OUT = Path(__file__).parents[1] / "src" / "ordergate" / "api" / "mesh_contract.json"


def _refs(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[1])
            else:
                found |= _refs(value)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def main(source: str) -> None:
    doc = json.loads(Path(source).read_text())
    schemas = doc["components"]["schemas"]
    keep: dict[str, object] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = schemas[name]
        todo.extend(_refs(schemas[name]) - set(keep))
    auth = schemas["B2BBrokerAuthRequest"]
    keep["B2BBrokerAuthRequest"] = {
        "required": auth["required"],
        "type": "object",
        "properties": {k: auth["properties"][k] for k in AUTH_FIELDS},
        "additionalProperties": auth.get("additionalProperties", False),
    }
    fields = ("tags", "summary", "description", "requestBody", "parameters")
    out = {
        "source": "Mesh Connect Integration API, OpenAPI 3.0.1 (@meshconnect/node-api 2.0.28): the operations "
        "ordergate serves and the schemas they use",
        **{
            name: {k: v for k, v in doc["paths"][path]["post"].items() if k in fields}
            for name, path in OPERATIONS.items()
        },
        "securitySchemes": doc["components"]["securitySchemes"],
        "security": doc["security"],
        "schemas": dict(sorted(keep.items())),
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/mesh-openapi.json")
