"""CEX.IO Spot Trading REST facts as data: where to call, what answers mean, how long to back off.

Sources, checked for this module (the reference notes tagged the recipe [C]; verified with the search tools):
- CEX.IO Spot Trading API docs (trade.cex.io/docs, stored copy of its source): "Private API Calls": every private
  call is `POST https://trade.cex.io/api/spot/rest/<action>` with a JSON body; headers `X-AGGR-KEY`,
  `X-AGGR-TIMESTAMP` (unix seconds), `X-AGGR-SIGNATURE` = base64(HMAC-SHA256(action + timestamp + body)).
  The prose says "using the base64-decoded secret key", but the docs' own example (`createHmac('sha256',
  apiSecret)`), CEX.IO's Node client (cexio-exchange-plus `_getSignature`) and ccxt 4.5.90 `cex.sign()`
  (`self.hmac(self.encode(auth), self.encode(self.secret), sha256, 'base64')`) all key the HMAC with the secret
  as text; so does ordergate (the Appendix A vector was computed that way).
- "Cancel Order": `do_cancel_my_order` `{"orderId": <number>|"clientOrderId", "cancelRequestId", "timestamp"
  (ms)}`, "Trade" permission, cost 1; the answer `{"ok":"ok","data":{}}` is an "acknowledgement message confirming
  that the cancellation request is accepted". The WebSocket twin shows the same `ok` for an order "that has never
  been created", the refusal arriving later as an `orderCancelReject` event (`cancelRejectReason:
  "unknown_order"`). So `ok` proves nothing about the order: ordergate looks it up right after (see adapter).
- "Orders": `get_my_orders`, "Read" permission, cost 5. `{"orderId": n}` "wants to see the status of the exact
  order ... ignores all other parameters" (the docs' example returns a final, REJECTED order that way);
  `archived: true` lists final orders and then needs `serverCreateTimestampFrom` (period ≤ 365 days). ccxt
  4.5.90 has no separate history action: `fetch_open_order` sends `{"orderId"}`, `fetch_closed_order` adds
  `archived: true` and a since of now − 364 days; ordergate asks the archive the same way when the exact-order
  query comes back empty, before answering 404.
  Statuses: PENDING_NEW, NEW, PARTIALLY_FILLED, FILLED, EXPIRED, REJECTED, PENDING_CANCEL, CANCELLED.
- "API Rate Limit": private calls are limited per API key to 200 points per minute (REST and WebSocket together);
  past it HTTP 429, served again "starting from the next calendar minute". No Retry-After header is documented.
- "Response Codes": 401 for a wrong key or signature, 422 for missing or malformed params (`{"error": …,
  "statusCode": 422}`), 429 too many requests, 500 server side. Failed answers carry `error` (and sometimes
  `statusCode`) instead of `ok`, also inside HTTP 200 and inside `data` (`{"ok":"ok","data":{"error":…}}`).
- ccxt 4.5.90 `cex.handle_errors`: any `error` field is a failure; broad texts "key not passed or incorrect" →
  AuthenticationError, "API rate limit reached" → RateLimitExceeded.
Unverified (not in the docs or ccxt; the simulator uses them, the adapter does not depend on them): the exact text
for a bad signature and for a key without "Trade" permission, and the timestamp window of X-AGGR-TIMESTAMP (the
simulator allows 30 s, the window the docs give for an order's own `timestamp`).
"""

from __future__ import annotations

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

PRODUCTION_URL = "https://trade.cex.io/api/spot/rest"

CANCEL_ACTION = "do_cancel_my_order"
ORDERS_ACTION = "get_my_orders"
# Cost 1 and "Read" permission: the cheapest signed call, used to verify a key at /authenticate.
VERIFY_ACTION = "get_fee_strategy"
NEW_ORDER_ACTION = "do_my_new_order"

JSON_CONTENT_TYPE = "application/json"

# CEX.IO's own order ids are decimal numbers sent as JSON numbers ("orderId": 123456789) and returned as strings
# ("17062", "2284074"); bounded to fit the signed 64-bit number the engine uses.
ORDER_ID_SHAPE = OrderIdShape(r"[1-9][0-9]{0,17}", "2284074")

# get_my_orders `archived: true` needs a period of at most 365 days; ccxt asks for 364, and so does ordergate.
ARCHIVE_LOOKBACK_MS = 364 * 24 * 60 * 60 * 1000

# Listing: get_my_orders without `archived` answers open orders, with `archived: true` final ones (and then needs
# serverCreateTimestampFrom, period <= 365 days); both take pair, serverCreateTimestampFrom/To, sortOrder (DESC is the
# default), pageSize (at most 1000) and pageNumber (trade.cex.io/docs "Orders"; ccxt 4.5.90 fetch_orders_by_status
# sends archived, pageSize, serverCreateTimestampFrom/To and never pageNumber). Not verified, chosen with the
# simulator: pageNumber counts from 0. No total is answered.
LIST_MAX_PAGE_SIZE = 1000
# ordergate's own bound (not CEX.IO's): get_my_orders requests one listing page may make (the open phase's last page,
# then archive pages while a statuses filter drops rows).
LIST_REQUESTS_PER_PAGE = 4

# An order CEX.IO shows cancelled this long before our cancel's own timestamp was cancelled by someone else, before
# this request (a generous bound on the clock difference; CEX.IO refuses order timestamps 30 s off its clock).
CANCELLED_BEFORE_SLACK_MS = 60_000

# 200 points per minute per key, counted per calendar minute: a minute is the longest a client must wait.
RATE_LIMIT_WINDOW_S = 60
POINTS_PER_MINUTE = 200
CANCEL_COST, ORDERS_COST = 1, 5

STATUS_MAP: dict[str, OrderStatus] = {
    "PENDING_NEW": OrderStatus.inProgress,
    "NEW": OrderStatus.inProgress,
    "PARTIALLY_FILLED": OrderStatus.partiallyFilled,
    "PENDING_CANCEL": OrderStatus.inProgress,  # the cancel is under way; still open until CANCELLED
    "FILLED": OrderStatus.success,
    "CANCELLED": OrderStatus.cancelled,
    "EXPIRED": OrderStatus.expired,
    "REJECTED": OrderStatus.rejected,
}
# Still open (a cancel may act on them); PENDING_CANCEL too, as a cancel can still be refused or beaten by a fill.
OPEN_STATUSES = frozenset({"PENDING_NEW", "NEW", "PARTIALLY_FILLED", "PENDING_CANCEL"})
# Final and not cancelled: nothing left to cancel (CANCELLED is handled apart, see adapter).
FINAL_STATUSES = frozenset({"FILLED", "EXPIRED", "REJECTED"})

ORDER_TYPE_MAP = {"Market": "market", "Limit": "limit", "Stop": "stopLoss", "StopLimit": "stopLimit",
                  "Stop Limit": "stopLimit"}  # fmt: skip
TIME_IN_FORCE_MAP = {"GTC": "goodTillCanceled", "IOC": "immediateOrCancel", "FOK": "fillOrKill", "GTD": "goodTillDate"}

# Error texts (ccxt's broad exceptions and the docs), matched case-insensitively as substrings.
AUTH_TEXTS = ("key not passed or incorrect", "signature", "unauthorized", "invalid api key")
RATE_LIMIT_TEXTS = ("api rate limit reached", "too many requests")
PERMISSION_TEXTS = ("permission",)
MAINTENANCE_TEXTS = ("maintenance",)
