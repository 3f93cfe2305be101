"""Bybit v5 REST facts as data: where to call, what each retCode means, how long to back off.

Sources (github.com/bybit-exchange/docs, the source of bybit-exchange.github.io/docs/v5):
- docs/v5/guide.mdx: headers X-BAPI-API-KEY / -TIMESTAMP / -SIGN / -RECV-WINDOW (default 5000 ms); sign =
  hex HMAC-SHA256 of timestamp + api key + recv_window + (query string | raw JSON body); accepted when
  server_time - recv_window <= timestamp < server_time + 1000.
- docs/v5/order/cancel-order.mdx: POST /v5/order/cancel {category, symbol, orderId}; category and symbol are
  required; only unfilled or partially filled orders can be cancelled; result {orderId, orderLinkId}.
- docs/v5/order/order-list.mdx: "order creation/cancellation is asynchronous"; create-order.mdx: an ack "indicates
  that the request is successfully accepted". So a cancel ack is `inProgress`, not `cancelled`.
- docs/v5/order/open-order.mdx: GET /v5/order/realtime returns open orders and the most recent 500 closed ones;
  `openOnly` is ignored when querying by orderId; after a Bybit restart closed orders are only in /v5/order/history
  (7 days for every status, filled orders beyond that).
- docs/v5/user/apikey-info.mdx: GET /v5/user/query-api works with any permission; `readOnly` 1 = read only.
- docs/v5/error.mdx: the retCode tables below; HTTP 403 = IP rate limit breached (or a GET with a body).
- docs/v5/rate-limit/rate-limit.mdx: retCode 10006 is the per-UID limit; X-Bapi-Limit-Reset-Timestamp (ms) says
  when it resets; "403, access too frequent" means the IP is blocked for at least 10 minutes.
- docs/v5/enum.mdx: orderStatus, timeInForce, orderType values.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

PRODUCTION_URL = "https://api.bybit.com"
TESTNET_URL = "https://api-testnet.bybit.com"

CANCEL_PATH = "/v5/order/cancel"
# Kill switch (bybit-exchange.github.io/docs/v5/order/cancel-all, checked with the search tool): with category=spot
# and no symbol it cancels every spot order; `symbol` narrows it (no side filter). The answer lists each order
# (`orderId`, `orderLinkId`) and "only means the request was accepted", as a single cancel's does.
CANCEL_ALL_PATH = "/v5/order/cancel-all"
# bybit-exchange.github.io/docs/v5/order/batch-cancel (ccxt bybit.cancel_orders → privatePostV5OrderCancelBatch and
# pybit Trade.cancel_batch_order, checked with the search tool): body `{"category", "request": [{"symbol",
# "orderId"}, …]}`; the answer's `result.list` and `retExtInfo.list` each hold one entry per order in request
# order, `retExtInfo.list[i].code` 0 or the order's own retCode. The per-request maximum is by category: the docs
# page gives 10 for spot (20 for linear, inverse, option); the third-party summaries found say "≤20" without a
# category, so the documented spot figure, the smaller one, is used.
CANCEL_BATCH_PATH = "/v5/order/cancel-batch"
CANCEL_BATCH_MAX = 10
REALTIME_PATH = "/v5/order/realtime"
HISTORY_PATH = "/v5/order/history"
# Any key may call it (no permission needed) and it says whether the key is read-only.
VERIFY_PATH = "/v5/user/query-api"

RECV_WINDOW_MS = 5000
# Mesh's cancel carries no product type. Every order ordergate cancels today is a spot order (isCryptocurrency).
# Linear/inverse would need a hint: "BTCUSDT" names both a spot pair and a USDT perpetual, so the symbol alone
# cannot choose; the plan is a category sealed into the token at authenticate, or a suffix on symbolPair.
CATEGORY = "spot"

HEADER_KEY = "X-BAPI-API-KEY"
HEADER_SIGN = "X-BAPI-SIGN"
HEADER_TIMESTAMP = "X-BAPI-TIMESTAMP"
HEADER_RECV_WINDOW = "X-BAPI-RECV-WINDOW"
HEADER_LIMIT_RESET = "X-Bapi-Limit-Reset-Timestamp"


class Ambiguous(StrEnum):
    """retCodes whose meaning depends on the call that got them; the adapter resolves them."""

    unknownOrder = "unknownOrder"  # cancel: the service looks the order up; lookup: no such order
    outcomeUnknown = "outcomeUnknown"  # a timeout inside Bybit: the cancel may or may not have happened
    cancelPending = "cancelPending"  # a cancel for this order is already being processed


ERROR_MAP: dict[int, ErrorType | Ambiguous] = {
    10000: Ambiguous.outcomeUnknown,  # "Server Timeout"
    10001: ErrorType.institutionRejected,  # "Request parameter error"
    10002: ErrorType.institutionAuthFailed,  # timestamp outside recv_window: the signed request was refused
    10003: ErrorType.institutionAuthFailed,  # "API key is invalid."
    10004: ErrorType.institutionAuthFailed,  # "Error sign"
    10005: ErrorType.institutionPermissionDenied,  # "Permission denied, please check your API key permissions."
    10006: ErrorType.rateLimited,  # "Too many visits. Exceeded the API Rate Limit."
    10007: ErrorType.institutionAuthFailed,  # "User authentication failed."
    10008: ErrorType.institutionLocked,  # "Common banned"
    10009: ErrorType.institutionLocked,  # "IP has been banned."
    10010: ErrorType.institutionPermissionDenied,  # "Unmatched IP": the key is bound to other addresses
    10014: Ambiguous.outcomeUnknown,  # "Invalid duplicate request": an identical request was already received
    10016: ErrorType.institutionUnavailable,  # "Server error."
    10017: ErrorType.institutionUnavailable,  # "Route not found."
    10018: ErrorType.rateLimited,  # "Exceeded the IP Rate Limit." (struck out in the docs, still mapped)
    10024: ErrorType.institutionRestricted,  # "Compliance rules triggered"
    10027: ErrorType.institutionLocked,  # "Transactions are banned."
    10029: ErrorType.institutionPermissionDenied,  # symbol not in the key's symbol whitelist
    33004: ErrorType.institutionAuthFailed,  # API key expired (ccxt's map; not in the v5 table)
    # Derivatives/UTA order codes. "Does not exist" also covers orders that filled or were cancelled.
    110001: Ambiguous.unknownOrder,  # "Order does not exist"
    110008: Ambiguous.unknownOrder,  # "The order has been completed or cancelled."
    110010: Ambiguous.unknownOrder,  # "The order has been cancelled"
    110019: Ambiguous.unknownOrder,  # "Order ID is illegal.": cannot name an order of this account
    # Spot codes.
    170001: ErrorType.institutionUnavailable,  # "Internal error."
    170005: ErrorType.rateLimited,  # "Too many new orders"
    170007: Ambiguous.outcomeUnknown,  # "Timeout waiting for response from backend server."
    170032: ErrorType.institutionUnavailable,  # "Network error. Please try again later"
    170121: ErrorType.institutionRejected,  # "Invalid symbol."
    170139: Ambiguous.unknownOrder,  # "Order has been filled."
    170142: Ambiguous.unknownOrder,  # "Order has been canceled"
    170143: Ambiguous.unknownOrder,  # "Cannot be found on order book"
    170145: ErrorType.institutionRejected,  # "This order type does not support cancellation"
    170147: Ambiguous.outcomeUnknown,  # "Order cancellation timeout"
    170150: ErrorType.institutionUnavailable,  # "Cancel order failed"
    170190: Ambiguous.unknownOrder,  # "Cancel order has been finished"
    170191: ErrorType.institutionUnavailable,  # "Can not cancel order, please try again later"
    170201: ErrorType.institutionLocked,  # "Your account has been restricted for trades."
    170212: Ambiguous.cancelPending,  # "Cancel order request processing"
    170213: Ambiguous.unknownOrder,  # "Order does not exist."
    170222: ErrorType.rateLimited,  # "Too many requests in this time frame."
    170234: ErrorType.institutionUnavailable,  # "System Error"
}

# Back-off when Bybit gives no reset time of its own.
RETRY_AFTER_S: dict[int, int] = {
    10006: 1,  # the per-UID limit is a rolling one-second window
    10018: 1,
    170005: 1,
    170222: 1,
    10009: 600,  # no documented duration; the documented IP block ("access too frequent") lasts 10 minutes
}
IP_BLOCK_S = 600  # HTTP 403 "access too frequent": "wait for at least 10 minutes"

STATUS_MAP: dict[str, OrderStatus] = {
    "New": OrderStatus.inProgress,
    "PartiallyFilled": OrderStatus.partiallyFilled,
    "Untriggered": OrderStatus.inProgress,  # a conditional order waiting for its trigger
    "Triggered": OrderStatus.inProgress,  # instantaneous, on its way to New
    "Filled": OrderStatus.success,
    "Cancelled": OrderStatus.cancelled,
    "PartiallyFilledCanceled": OrderStatus.cancelled,  # spot only; cumExecQty keeps the fill
    "Deactivated": OrderStatus.cancelled,  # a spot TP/SL, conditional or OCO order cancelled before triggering
    "Rejected": OrderStatus.rejected,
}

ORDER_TYPE_MAP: dict[str, str] = {"Market": "market", "Limit": "limit"}
STOP_ORDER_TYPE_MAP: dict[str, str] = {
    "TakeProfit": "takeProfit",
    "PartialTakeProfit": "takeProfit",
    "StopLoss": "stopLoss",
    "PartialStopLoss": "stopLoss",
}
TIME_IN_FORCE_MAP: dict[str, str] = {
    "GTC": "goodTillCanceled",
    "IOC": "immediateOrCancel",
    "FOK": "fillOrKill",
    "PostOnly": "postOnly",
    "RPI": "postOnly",  # Retail Price Improvement orders are post-only by definition
}

# Bybit's spot quote coins, longest first so "BTCUSDT" is BTC/USDT, not BTCUSD/T.
_QUOTES = ("FDUSD", "USDT", "USDC", "USDE", "USD1", "RLUSD", "BTC", "ETH", "EUR", "BRL", "TRY", "PLN", "DAI", "MNT")
_QUOTES_BY_LENGTH = tuple(sorted(_QUOTES, key=len, reverse=True))
_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")


def normalize_symbol(pair: str) -> str | None:
    """`BTCUSDT`, `BTC/USDT`, `btc-usdt` → `BTCUSDT`; None for anything Bybit could not name a symbol with."""
    compact = pair.strip().upper().replace("/", "").replace("-", "")
    return compact if _SYMBOL.match(compact) else None


def split_symbol(symbol: str) -> tuple[str | None, str | None]:
    """`BTCUSDT` → (BTC, USDT); unknown quote → (None, None)."""
    quote = next((q for q in _QUOTES_BY_LENGTH if symbol.endswith(q) and len(symbol) > len(q)), None)
    return (symbol[: -len(quote)], quote) if quote else (None, None)


# Bybit spot orderIds are decimal strings of up to 19-20 digits.
ORDER_ID_SHAPE = OrderIdShape(r"[0-9]{1,20}", "1321003749386327552")

# Listing (Mesh /transactions/list), from docs/v5/order/open-order.mdx and order-list.mdx:
# - GET /v5/order/realtime: category, symbol (optional for spot), `openOnly` 0 = open orders (New,
#   PartiallyFilled), `limit` [1, 50] default 20, `cursor` = the previous answer's `nextPageCursor`.
# - GET /v5/order/history: "orders in the last 7 days: supports querying all statuses; beyond 7 days: filled
#   orders"; `orderStatus` (one value), `startTime` and `endTime` "must be passed together" (default: the past
#   7 days, at most 7 days apart), `limit` [1, 50] default 20, `cursor`.
# ordergate lists open orders from /realtime first (it is real time; history "may delay"), then final orders from
# /history, where rows still live are dropped as /realtime already gave them. A listing therefore reaches back
# Bybit's default 7 days; Mesh's `from` within them becomes startTime with endTime = now, fixed in the cursor.
LIST_LIMIT_MAX = 50
# ordergate's own bound (not Bybit's): /history requests one listing page may make while it drops the open orders
# /history repeats, well inside /history's 50 requests per second.
LIST_REQUESTS_PER_PHASE = 4
HISTORY_WINDOW_MS = 7 * 24 * 3600 * 1000
