"""KuCoin's cancel-all for the kill switch (issue 18); endpoints and answers in constants.py.

Classic accounts: one `DELETE /api/v1/orders`, whose answer names every order it cancelled. HF accounts: KuCoin's
cancel-all answers no order ids, so the open orders are listed before it (per symbol, the only way HF lists them)
and each one's outcome is read from the done listing after it: an order that filled first is reported not
cancelled rather than acknowledged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import OrderStatus
from ordergate.domain.killswitch import NativeResult, Touched, not_cancelable
from ordergate.domain.orders import CancelAck, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES
from ordergate.venues.kucoin.constants import (
    CLASSIC_CANCEL_ALL_PATH,
    HF_ACTIVE_PATH,
    HF_CANCEL_ALL_PATH,
    HF_CANCEL_SYMBOL_PATH,
    HF_DONE_LIMIT_MAX,
    HF_DONE_PATH,
    HF_OPEN_SYMBOLS_PATH,
)

Call = Callable[[str, str], Awaitable[tuple[int, Any]]]  # signed (method, path with query) → (status, data)
Snapshot = Callable[[str, dict[str, Any]], OrderSnapshot]
# Done-listing pages read per symbol to find the orders just cancelled (newest first) before giving up on them.
_DONE_PAGES = 5


async def classic(call: Call, symbol: str | None) -> NativeResult:
    query = f"symbol={symbol}&tradeType=TRADE" if symbol else "tradeType=TRADE"
    status, data = await call("DELETE", f"{CLASSIC_CANCEL_ALL_PATH}?{query}")
    ids = data.get("cancelledOrderIds") if isinstance(data, dict) else None
    if not isinstance(ids, list):
        raise GatewayError(
            ErrorType.institutionUnavailable, "KuCoin's cancel-all answer names no orders", upstream_status=status
        )
    touched = [Touched(str(i), CancelAck(str(i), OrderStatus.inProgress, status)) for i in ids]
    return NativeResult(touched, how="KuCoin DELETE /api/v1/orders names each order it cancelled")


async def hf(call: Call, snapshot: Snapshot, symbol: str | None) -> NativeResult:
    if symbol:
        symbols = [symbol]
    else:
        status, data = await call("GET", HF_OPEN_SYMBOLS_PATH)
        listed = data.get("symbols") if isinstance(data, dict) else None
        if not isinstance(listed, list):
            raise GatewayError(
                ErrorType.institutionUnavailable, "KuCoin's open-order symbols are missing", upstream_status=status
            )
        symbols = [str(s) for s in listed]
    named: dict[str, list[str]] = {}
    for each in symbols:
        status, data = await call("GET", f"{HF_ACTIVE_PATH}?symbol={each}")
        rows = data if isinstance(data, list) else []
        named[each] = [str(r.get("id")) for r in rows if isinstance(r, dict) and r.get("id")]
    named = {s: ids for s, ids in named.items() if ids}
    if not named:
        return NativeResult([], how="KuCoin HF: no open orders listed, nothing sent")
    failed: dict[str, str] = {}
    if symbol:
        status, _ = await call("DELETE", f"{HF_CANCEL_SYMBOL_PATH}?symbol={symbol}")
    else:
        status, data = await call("DELETE", HF_CANCEL_ALL_PATH)
        rows = data.get("failedSymbols") if isinstance(data, dict) else None
        failed = {str(r.get("symbol")): str(r.get("error") or "") for r in rows or [] if isinstance(r, dict)}
    touched: list[Touched] = []
    for each, ids in named.items():
        if each in failed:
            error = GatewayError(ErrorType.institutionRejected, f"KuCoin did not cancel the orders of {each}: "
                                 f"{failed[each][:200]}", upstream_status=status)  # fmt: skip
            touched += [Touched(i, error) for i in ids]
            continue
        after = await _done(call, snapshot, each, set(ids))
        touched += [Touched(i, _outcome(i, after.get(i), status)) for i in ids]
    return NativeResult(
        touched,
        how="KuCoin HF cancel-all names no orders: named from the open orders per symbol before it, outcomes from "
        "the done orders after it",
    )


async def _done(call: Call, snapshot: Snapshot, symbol: str, wanted: set[str]) -> dict[str, OrderSnapshot]:
    found: dict[str, OrderSnapshot] = {}
    last_id: Any = None
    for _ in range(_DONE_PAGES):
        query = f"symbol={symbol}" + (f"&lastId={last_id}" if isinstance(last_id, int) else "")
        _, data = await call("GET", f"{HF_DONE_PATH}?{query}&limit={HF_DONE_LIMIT_MAX}")
        items = data.get("items") if isinstance(data, dict) else None
        items = [r for r in items if isinstance(r, dict)] if isinstance(items, list) else []
        found.update({str(r["id"]): snapshot(str(r["id"]), r) for r in items if str(r.get("id")) in wanted})
        last_id = data.get("lastId") if isinstance(data, dict) else None
        if wanted <= set(found) or len(items) < HF_DONE_LIMIT_MAX or isinstance(last_id, bool):
            break
    return found


def _outcome(order_id: str, done: OrderSnapshot | None, status: int) -> CancelAck | GatewayError:
    # Not among the done orders: KuCoin took the cancel request and has not finished it, as a single cancel's
    # acknowledgement says.
    if done is None or done.status in OPEN_STATUSES:
        return CancelAck(order_id, OrderStatus.inProgress, status)
    if done.status is OrderStatus.cancelled:
        return CancelAck(order_id, OrderStatus.cancelled, status)
    return not_cancelable(order_id, done.status)
