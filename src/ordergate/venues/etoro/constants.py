"""eToro Public API facts as data: where to call, what each answer means, how long to back off.

Sources (checked with the search tools for this module):
- Cancel: api-portal.etoro.com "Cancels an order before it is executed" (OpenAPI v1.206.0):
  `DELETE /api/v2/trading/execution/orders/{orderId}` (Trading Real) and `.../execution/demo/orders/{orderId}`
  (Trading Demo); orderId is an int64; 200 "Order cancellation request submitted successfully" with an optional
  `{"token": <uuid>}`. "If the order has already been processed, cancellation will not be possible. This operation is
  idempotent when the order is already closed or cancelled." So a 200 is a submitted request, never a confirmation,
  and it is also what an order that is already final gets: it cannot tell "cancelled now" from "was final".
- Headers: `x-api-key` (application key), `x-user-key` (the user's key, created for Demo or Real with Read or Write
  permission), `x-request-id` (a UUID, required, unique per request) on every endpoint; the same scopes may come as
  an OAuth bearer (`etoro-public:trade.demo:write`, …) — only the key pair is supported here.
- Errors: ProblemDetails (RFC 7807) `{"type","title","status","detail","instance"}` for 400/401/404 ("Create an
  order" in the same OpenAPI document; the cancel's own error bodies are not published).
- Rate limit: "20 requests per 60 seconds. This is a shared quota" across every execution write (v1 limit-orders,
  market-open-orders, market-close-orders cancels and opens, and the v2 cancel); 429 carries `Retry-After` (seconds,
  example 60) and `RateLimit-Limit/-Remaining/-Reset` (seconds until the window resets), `RateLimit-Policy: 20;w=60`.
  Order-info reads have their own pool (60 per 60 s, as clients that pace per pool record it).
- Lookup: `GET /api/v1/trading/info/demo/orders/{orderId}` (api-portal "Get Order Information and Position Details
  for Demo Account"); the real account's twin is `/api/v1/trading/info/real/orders/{orderId}` (etoropy 0.1.7
  rest/trading_info.py, `TradingInfoClient.get_order`). Body `OrderForOpenInfoResponse`: `statusID` "Common values:
  0 = Pending, 1 = Executed, 2 = Cancelled, 3 = Rejected, 4 = Partially Executed" (eToro's schema text, which adds
  that codes "may vary"; an unlisted code is reported `unknown`, never open or final). An order of another account
  is not found (404).
- Credentials check: the portfolio (`/api/v1/trading/info/demo/portfolio`, real `/api/v1/trading/info/portfolio`
  without a `real` segment: etoropy 0.1.7 rest/trading_info.py), the cheapest read that both environments have.
- Listing: eToro has no order list beyond the portfolio (`clientPortfolio.orders`: pending limit orders,
  `ordersForOpen`: pending market orders, each with orderID, openDateTime, instrumentID, isBuy, rate, units; the
  `positions` carry the orderID that opened them, so a pending order with positions is partially executed). Its
  "trade history" (`GET /api/v1/trading/info/trade/history?minDate=&page=&pageSize=`, real accounts only: etoropy
  0.1.7 get_trade_history) lists closed positions, not orders: executed, cancelled or rejected orders cannot be
  listed, and ordergate says so instead of answering an empty list.
- Base URL: https://public-api.etoro.com ("servers" of the OpenAPI document; etoropy DEFAULT_BASE_URL). Demo and
  real are one host; the environment is a path segment.
"""

from __future__ import annotations

import re

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

BASE_URL = "https://public-api.etoro.com"

# (demo, real) paths. The real portfolio has no `real` segment while the real order info has one (etoropy).
CANCEL_PATHS = ("/api/v2/trading/execution/demo/orders/{order_id}", "/api/v2/trading/execution/orders/{order_id}")
ORDER_INFO_PATHS = ("/api/v1/trading/info/demo/orders/{order_id}", "/api/v1/trading/info/real/orders/{order_id}")
VERIFY_PATHS = ("/api/v1/trading/info/demo/portfolio", "/api/v1/trading/info/portfolio")

# `authToken` at /authenticate names the environment the user key was created for; real when absent.
ENVIRONMENTS = ("demo", "real")
DEFAULT_ENVIRONMENT = "real"

# eToro's order ids are int64 (the cancel's `orderId integer<int64>`): 1 to 19 digits, no sign, no leading zero.
ORDER_ID_SHAPE = OrderIdShape(r"[1-9][0-9]{0,18}", "13902598")
INT64_MAX = 2**63 - 1
# Keys travel as header values; a control character would be a header-injection attempt. eToro's user keys are
# long base64url text (the docs' example is 220 characters), so the bound is generous.
HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,4096}")

# statusID of OrderForOpenInfoResponse → Mesh. Pending and partially executed orders are still working.
STATUS_MAP: dict[int, OrderStatus] = {
    0: OrderStatus.inProgress,
    1: OrderStatus.success,
    2: OrderStatus.cancelled,
    3: OrderStatus.rejected,
    4: OrderStatus.partiallyFilled,
}
STATUS_NAMES = {0: "Pending", 1: "Executed", 2: "Cancelled", 3: "Rejected", 4: "PartiallyExecuted"}
OPEN_STATUS_IDS = frozenset({0, 4})

ERROR_BY_STATUS: dict[int, ErrorType] = {
    400: ErrorType.institutionRejected,
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    429: ErrorType.rateLimited,
}

# The documented write window: when a 429 carries neither Retry-After nor RateLimit-Reset, a whole window is the wait.
RATE_WINDOW_S = 60
WRITE_LIMIT = 20  # per user key per 60 s, shared by every execution write (see the module docstring)
