"""Runs inside the publicdotcom-py venv (tests/support/oracle_venvs.py), never in the test venv: imports nothing of
ours.

stdin: {"url", "secret", "account", "steps": [{"op": "accounts" | "place" | "get" | "cancel" | "portfolio", ...}]}
stdout: {"version", "requests": [[method, path, has bearer]], "results": [per step {"ok": …} or {"error": <SDK
exception class>, "status", "message", "errorCode"}]}.
"""

import json
import sys
from decimal import Decimal
from importlib.metadata import version

import public_api_sdk.api_client as api_client
import requests
from requests.adapters import HTTPAdapter

# The SDK mounts an adapter refusing http:// (broker-venues.md); the simulator serves plain HTTP on 127.0.0.1.
api_client.BlockHTTPAdapter = HTTPAdapter

from public_api_sdk import (  # noqa: E402
    ApiKeyAuthConfig,
    InstrumentType,
    OrderExpirationRequest,
    OrderInstrument,
    OrderRequest,
    OrderSide,
    OrderType,
    PublicApiClient,
    PublicApiClientConfiguration,
    TimeInForce,
)
from public_api_sdk.exceptions import APIError  # noqa: E402

SEEN: list[list] = []


def _record(response: requests.Response, *args, **kwargs) -> None:
    request = response.request
    SEEN.append([request.method, request.path_url, request.headers.get("Authorization", "").startswith("Bearer ")])


def main() -> None:
    job = json.load(sys.stdin)
    client = PublicApiClient(
        ApiKeyAuthConfig(api_secret_key=job["secret"]),
        config=PublicApiClientConfiguration(default_account_number=job["account"], base_url=job["url"]),
    )
    client.api_client.session.hooks["response"].append(_record)
    results = []
    for step in job["steps"]:
        try:
            op = step["op"]
            if op == "accounts":
                answer = client.get_accounts().model_dump(mode="json", by_alias=True)
            elif op == "place":
                request = OrderRequest(
                    order_id=step["id"],
                    instrument=OrderInstrument(symbol=step.get("symbol", "AAPL"), type=InstrumentType.EQUITY),
                    order_side=OrderSide.BUY,
                    order_type=OrderType(step.get("type", "LIMIT")),
                    expiration=OrderExpirationRequest(time_in_force=TimeInForce.DAY),
                    quantity=Decimal(step["quantity"]),
                    limit_price=Decimal(step["price"]) if "price" in step else None,
                )
                answer = client.place_order(request).order_id
            elif op == "get":
                answer = client.get_order(step["id"]).model_dump(mode="json", by_alias=True)
            elif op == "cancel":
                answer = client.cancel_order(step["id"])
            elif op == "portfolio":
                answer = client.get_portfolio().model_dump(mode="json", by_alias=True)
            else:
                raise ValueError(f"unknown op {op}")
            results.append({"ok": answer})
        except APIError as exc:
            results.append(
                {
                    "error": type(exc).__name__,
                    "status": exc.status_code,
                    "message": exc.message,
                    "errorCode": exc.error_code,
                }
            )
    print(json.dumps({"version": version("publicdotcom-py"), "requests": SEEN, "results": results}))


if __name__ == "__main__":
    try:
        main()
    except APIError as exc:  # the constructor's token exchange
        print(json.dumps({"version": version("publicdotcom-py"), "requests": SEEN, "fatal": type(exc).__name__}))
