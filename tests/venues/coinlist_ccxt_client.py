"""Runs inside the old-ccxt venv (tests/support/oracle_venvs.py), never in the test venv: imports nothing of ours.

stdin: {"url", "apiKey", "secret", "steps": [{"op": "load_markets" | "create" | "fetch" | "list" | "cancel", ...}]}
stdout: one JSON list, per step either {"ok": <ccxt's unified answer>} or {"error": <ccxt exception class>, "message"}.
"""

import json
import sys

import ccxt


def main() -> None:
    job = json.load(sys.stdin)
    exchange = ccxt.coinlist({"apiKey": job["apiKey"], "secret": job["secret"], "enableRateLimit": False})
    exchange.urls["api"] = {"public": job["url"], "private": job["url"]}
    results = []
    for step in job["steps"]:
        try:
            op = step["op"]
            if op == "load_markets":
                answer = sorted(exchange.load_markets())
            elif op == "create":
                answer = exchange.create_order(step["symbol"], "limit", step["side"], step["amount"], step["price"])
            elif op == "fetch":
                answer = exchange.fetch_order(step["id"])
            elif op == "list":
                answer = exchange.fetch_orders(step.get("symbol"), step.get("since"), step.get("limit"), step["params"])
            elif op == "cancel":
                answer = exchange.cancel_order(step["id"])
            else:
                raise ValueError(f"unknown op {op}")
            results.append({"ok": answer})
        except ccxt.BaseError as exc:
            results.append({"error": type(exc).__name__, "message": str(exc)})
    json.dump({"version": ccxt.__version__, "results": results}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
