"""CoinList Pro REST facts as data: where to call, what each message code means, how long to back off.

Sources. CoinList's own docs (trade-docs.coinlist.co, "CoinList Pro API v1.3.0") were not reachable in full; what is
below was checked against ccxt's `coinlist` exchange, python/ccxt/coinlist.py of ccxt 4.4.88 (still shipped there,
gone in 4.4.94; the reference note's "ccxt ≤ 4.3" is too strict):
- `sign()`: headers CL-ACCESS-KEY, CL-ACCESS-SIG, CL-ACCESS-TIMESTAMP (`str(self.seconds())`: whole seconds) and
  Content-Type application/json; CL-ACCESS-SIG = base64(HMAC-SHA256(base64-decode(secret), ts + METHOD + path +
  ("?" + urlencoded query for GET/DELETE with params | JSON body for POST/PATCH))). Verified; the reference's
  Appendix A vector reproduces with it (tests/venues/test_coinlist_auth.py).
- `cancel_order()`: DELETE /v1/orders/{order_id}, no symbol, answer {"message": "Cancel order request received.",
  "order_id", "timestamp"}: a request received, not a cancel done. trade-docs' "Matching Engine" section: cancels
  "will be effected in the next auction" and a fill may still be reported after the cancel ("Fills-After-Cancels").
  Hence `inProgress`.
- `fetch_order()`: GET /v1/orders/{order_id} → the order (order_id, symbol, side, type, size, price, size_filled,
  average_fill_price, fill_fees, created_at, status, ...). `handle_errors()`: for an order that never got a status
  "the exchange returns an empty response with code 404".
- `parse_order_status()`: the status values are exactly pending, accepted, rejected, done, canceled (one l). There
  is no "partially filled" status: a partly filled order is `accepted` with size_filled > 0 (verified: the brief's
  "partially filled, filled, cancelled" were guesses; `done` is the filled end state).
- `exceptions`: message codes (ORDER_REJECT_NOT_FOUND "The order to modify or cancel was not found",
  ORDER_REJECT_BAD_STATUS "The order has a status that makes it not cancelable or modifyable", AUTH_SIG_INVALID with
  body {"status":400,"message":"invalid signature","message_code":"AUTH_SIG_INVALID"}, DENIED_MAINTENANCE,
  ORDER_REJECT_FROZEN_ORDER) and the broad message `"order_id" must be a valid GUID`: order ids are UUIDs (verified,
  and every example id in the file is one). `handle_errors()` treats a body with `message_code`, or a non-200/202
  HTTP status with a `status` field, as an error; 202 is a success status there.
- `fetch_accounts()`: GET /v1/accounts → {"accounts": [{"trader_id", "name"}]}: the cheap authenticated read.
- `describe()`: 'rateLimit': 300 with the comment "1000 per 5 minutes".
Not verified (no source reached): the HTTP status of each error (the simulator answers 404 for NOT_FOUND, 400 for
BAD_STATUS and AUTH_SIG_INVALID as in ccxt's sample, 401 for an unknown key, 403 for a key without trading
permission, 429 for the rate limit), a Retry-After header, the timestamp window (30 s assumed, as the other
CL-/CB-style venues), and whether the cancel ack is 200 or 202 (the adapter accepts any 2xx that names the order).
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import UUID, OrderIdShape

PRODUCTION_URL = "https://trade-api.coinlist.co"

ORDERS_PATH = "/v1/orders"  # DELETE /v1/orders/{id} cancels, GET /v1/orders/{id} looks up
VERIFY_PATH = "/v1/accounts"  # lists the key's trader accounts; its trader_id is the account id we report

HEADER_KEY = "CL-ACCESS-KEY"
HEADER_SIGN = "CL-ACCESS-SIG"
HEADER_TIMESTAMP = "CL-ACCESS-TIMESTAMP"

CANCEL_ACK_MESSAGE = "Cancel order request received."


class Ambiguous(StrEnum):
    """Answers whose meaning depends on the call that got them."""

    unknownOrder = "unknownOrder"  # cancel: look the order up; lookup: no such order


# `message_code` → meaning (ccxt 4.4.88 `exceptions.exact`, the codes a cancel or a read can meet).
ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "ORDER_REJECT_NOT_FOUND": Ambiguous.unknownOrder,
    "ORDER_REJECT_BAD_STATUS": Ambiguous.unknownOrder,  # filled, cancelled or rejected: the lookup says which
    "AUTH_SIG_INVALID": ErrorType.institutionAuthFailed,
    "DENIED_MAINTENANCE": ErrorType.institutionUnavailable,
    # "not allowed on this order at this time" (an auction in progress): nothing happened, try again later.
    "ORDER_REJECT_FROZEN_ORDER": ErrorType.institutionUnavailable,
    "ORDER_REJECT_CLOSED": ErrorType.institutionUnavailable,  # the market is closed for order operations
}
# Lowercase substrings of `message` (ccxt's `exceptions.broad`).
BROAD_ERRORS: dict[str, ErrorType | Ambiguous] = {
    "must be a valid guid": Ambiguous.unknownOrder,  # an id that cannot name an order
}
# When there is no message code we know, the HTTP status decides.
STATUS_FALLBACK: dict[int, ErrorType | Ambiguous] = {
    400: ErrorType.institutionRejected,
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    404: Ambiguous.unknownOrder,
    429: ErrorType.rateLimited,
}

# No Retry-After is documented; at 1000 requests per 5 minutes one request's worth comes back in 0.3 s.
RATE_LIMIT_RETRY_AFTER_S = 1

STATUS_MAP: dict[str, OrderStatus] = {
    "pending": OrderStatus.inProgress,
    "accepted": OrderStatus.inProgress,  # partiallyFilled once size_filled > 0
    "rejected": OrderStatus.rejected,
    "done": OrderStatus.success,
    "canceled": OrderStatus.cancelled,  # size_filled keeps what filled before the cancel
}
LIVE_STATUSES = frozenset({"pending", "accepted"})

# Listing: GET /v1/orders with `symbol`, `status` (one or more of the five above; ccxt's default is all five),
# `start_time` / `end_time` (ISO 8601 date-time: ccxt 4.4.88 sends iso8601(ms) and maps CoinList's '"end_time" ...
# fails to match the JsonSchema date-time format pattern'), `count` (ccxt: "default 200, max 500") → {"orders": [...]}.
# CoinList documents no page token, offset or total, and ccxt pages nothing: the only paging is by time. Not verified
# (trade-docs unreachable), chosen: newest first and `end_time` inclusive. The adapter pages with end_time = the
# oldest created_at read and skips the ids it already returned at that very millisecond, so an inclusive bound
# repeats nothing; were the bound exclusive, orders sharing the boundary millisecond could be missed. `status` is sent
# once per value (an OpenAPI query array); ccxt itself sends the Python repr of a list, which no server parses.
LIST_MAX_COUNT = 500

# ccxt's parse_order_type: stop_/take_ variants are triggered market/limit orders.
ORDER_TYPE_MAP: dict[str, str] = {
    "market": "market",
    "limit": "limit",
    "stop_market": "stopLoss",
    "stop_limit": "stopLimit",
    "take_market": "takeProfit",
    "take_limit": "takeProfit",
}

# CoinList order ids are UUIDs (`"order_id" must be a valid GUID`).
ORDER_ID_SHAPE = OrderIdShape(UUID, "d36e7588-6525-485c-b768-8ad8b3f745f9")
