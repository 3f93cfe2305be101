"""Runs inside the ibind venv (tests/support/oracle_venvs.py), never in the test venv: imports nothing of ours.

stdin: {"url", "account", "steps": [{"op": "auth" | "accounts" | "tickle" | "place" | "status" | "cancel", ...}]}
stdout: one JSON object {"version", "results"}: per step {"ok": ibind's Result.data} or {"error": class, "message",
"status": the HTTP status ibind saw}.
"""

import importlib.metadata
import json
import os
import sys

os.environ.setdefault("IBIND_LOG_TO_FILE", "False")
os.environ.setdefault("IBIND_LOG_TO_CONSOLE", "False")

from ibind import IbkrClient  # noqa: E402
from ibind.client.ibkr_utils import OrderRequest  # noqa: E402
from ibind.support.errors import ExternalBrokerError  # noqa: E402


def main() -> None:
    job = json.load(sys.stdin)
    client = IbkrClient(
        account_id=job["account"],
        url=job["url"].rstrip("/") + "/v1/api/",
        cacert=False,
        use_session=False,
        auto_register_shutdown=False,
        max_retries=0,
    )
    results = []
    for step in job["steps"]:
        try:
            op = step["op"]
            if op == "auth":
                answer = client.authentication_status()
            elif op == "accounts":
                answer = client.receive_brokerage_accounts()
            elif op == "tickle":
                answer = client.tickle()
            elif op == "place":
                request = OrderRequest(
                    conid=265598, side=step["side"], quantity=step["quantity"], order_type="LMT",
                    price=step["price"], acct_id=job["account"], tif="DAY",
                )  # fmt: skip
                answer = client.place_order(request, answers={})
            elif op == "status":
                answer = client.order_status(step["id"])
            elif op == "cancel":
                answer = client.cancel_order(step["id"])
            else:
                raise ValueError(f"unknown op {op}")
            results.append({"ok": answer.data})
        except ExternalBrokerError as exc:
            results.append({"error": type(exc).__name__, "message": str(exc), "status": exc.status_code})
    json.dump({"version": importlib.metadata.version("ibind"), "results": results}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
