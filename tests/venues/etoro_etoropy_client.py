"""Runs inside the etoropy venv (tests/support/oracle_venvs.py), never in the test venv: imports nothing of ours.

stdin: {"url", "apiKey", "userKey", "mode", "steps": [{"op": "open_limit" | "open_market" | "portfolio" | "order" |
        "cancel_limit" | "cancel_market_open", ...}]}
stdout: {"version", "results"}: per step either {"ok": <etoropy's model, dumped by alias>} or
        {"error": <etoropy exception class>, "status": <HTTP status or null>, "message"}.
"""

import asyncio
import importlib.metadata
import json
import sys

from etoropy.config.settings import EToroConfig
from etoropy.errors.exceptions import EToroApiError, EToroError
from etoropy.http.client import HttpClient
from etoropy.models.trading import LimitOrderRequest, MarketOrderByAmountRequest
from etoropy.rest.trading_execution import TradingExecutionClient
from etoropy.rest.trading_info import TradingInfoClient


async def run(job: dict) -> list:
    # No retries: a 5xx or 429 must show as the simulator answered it, not be papered over.
    config = EToroConfig(
        api_key=job["apiKey"], user_key=job["userKey"], mode=job["mode"], base_url=job["url"], retry_attempts=1
    )
    http = HttpClient(config)
    execution = TradingExecutionClient(http, config.mode)
    info = TradingInfoClient(http, config.mode)
    results = []
    try:
        for step in job["steps"]:
            op = step["op"]
            try:
                if op == "open_limit":
                    request = LimitOrderRequest(
                        InstrumentID=step["instrument"], IsBuy=True, Leverage=1, AmountInUnits=step["units"],
                        Rate=step["rate"], StopLossRate=0, TakeProfitRate=0,
                    )  # fmt: skip
                    answer = await execution.open_limit_order(request)
                elif op == "open_market":
                    request = MarketOrderByAmountRequest(
                        InstrumentID=step["instrument"], IsBuy=True, Leverage=1, Amount=step["amount"]
                    )
                    answer = await execution.open_market_order_by_amount(request)
                elif op == "portfolio":
                    answer = await info.get_portfolio()
                elif op == "order":
                    answer = await info.get_order(step["id"])
                elif op == "cancel_limit":
                    answer = await execution.cancel_limit_order(step["id"])
                elif op == "cancel_market_open":
                    answer = await execution.cancel_market_open_order(step["id"])
                else:
                    raise ValueError(f"unknown op {op}")
                results.append({"ok": answer.model_dump(by_alias=True)})
            except EToroError as exc:
                status = exc.status_code if isinstance(exc, EToroApiError) else None
                results.append({"error": type(exc).__name__, "status": status, "message": str(exc)})
    finally:
        await http.aclose()
    return results


def main() -> None:
    job = json.load(sys.stdin)
    results = asyncio.run(run(job))
    json.dump({"version": importlib.metadata.version("etoropy"), "results": results}, sys.stdout, default=str)


if __name__ == "__main__":
    main()
