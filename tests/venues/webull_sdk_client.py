"""Runs inside the webull-openapi-python-sdk venv (tests/support/oracle_venvs.py), never in the test venv: imports
nothing of ours.

stdin: {"host", "port", "appKey", "secret", "tokenDir", "steps": [{"op": ..., ...}]}
    ops: accounts | place {account, coid, qty, price} | detail {account, coid} | cancel {account, coid}
         | open {account, key?} | history {account, start?, end?, key?} | sign {uri, query, body, timestamp, nonce}
stdout: {"results": [...]}, per step {"status": <HTTP status>, "body": <JSON>} or {"error": <error_code>, "status"}.
Building the TradeClient runs the SDK's own /openapi/config check (and its 2FA token loop when the app asks for it).
"""

import json
import sys

from webull.core.auth.composer import default_signature_composer as composer
from webull.core.client import ApiClient
from webull.core.exception.exceptions import ServerException
from webull.core.http import protocol_type
from webull.core.request import set_default_protocol_type
from webull.trade.trade_client import TradeClient


def main() -> None:
    job = json.load(sys.stdin)
    results = []
    if job["steps"] and job["steps"][0]["op"] == "sign":
        for step in job["steps"]:
            results.append(_sign(step, job))
        json.dump({"results": results}, sys.stdout)
        return
    set_default_protocol_type(protocol_type.HTTP)
    client = ApiClient(job["appKey"], job["secret"], "us", port=job["port"], token_check_interval_seconds=1)
    client.add_endpoint("us", job["host"])
    client.set_token_dir(job["tokenDir"])
    try:
        trade = TradeClient(client)
    except ServerException as exc:
        json.dump({"init": {"error": exc.get_error_code(), "status": exc.get_http_status()}}, sys.stdout)
        return
    for step in job["steps"]:
        op = step["op"]
        try:
            if op == "accounts":
                resp = trade.account_v2.get_account_list()
            elif op == "place":
                order = {
                    "combo_type": "NORMAL",
                    "client_order_id": step["coid"],
                    "symbol": "AAPL",
                    "instrument_type": "EQUITY",
                    "market": "US",
                    "order_type": "LIMIT",
                    "limit_price": step["price"],
                    "quantity": step["qty"],
                    "support_trading_session": "CORE",
                    "side": "BUY",
                    "time_in_force": "DAY",
                    "entrust_type": "QTY",
                }
                resp = trade.order_v3.place_order(step["account"], [order])
            elif op == "detail":
                resp = trade.order_v3.get_order_detail(step["account"], step["coid"])
            elif op == "cancel":
                resp = trade.order_v3.cancel_order(step["account"], step["coid"])
            elif op == "open":
                resp = trade.order_v3.list_order_open(step["account"], pagination_key=step.get("key"))
            elif op == "history":
                resp = trade.order_v3.list_order_history(
                    step["account"], step.get("start"), step.get("end"), pagination_key=step.get("key")
                )
            else:
                raise ValueError(f"unknown op {op}")
            results.append({"status": resp.status_code, "body": resp.json()})
        except ServerException as exc:
            results.append({"error": exc.get_error_code(), "status": exc.get_http_status()})
    json.dump({"token": client.get_token(), "results": results}, sys.stdout)


def _sign(step: dict, job: dict) -> dict:
    """The SDK's own signature for fixed inputs (timestamp and nonce pinned), for the golden-vector test."""
    composer.common.get_iso_8601_date = lambda: step["timestamp"]
    composer.common.get_uuid = lambda: step["nonce"]
    headers: dict = {}
    signed = composer.calc_signature(
        headers, job["host"], step["uri"], step.get("query") or {}, step.get("body"), job["appKey"], job["secret"], None
    )
    return {"signature": signed, "headers": headers}


if __name__ == "__main__":
    main()
