"""Coinbase Exchange (formerly Coinbase Pro, Mesh `coinbasePro`) REST facts as data.

Sources (checked for this module):
- docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/orders/cancel-an-order: `DELETE /orders/{order_id}`,
  "trade" permission, product id "highly recommended" as a query string "to prevent a race condition", success is
  the order id; "If the order had no matches during its lifetime, its record may be purged. This means the order
  details is not available with GET /orders/<id>"; a cancel reject carries the reason in `message`.
- .../orders/get-single-order: "view" or "trade" permission; "If the order is canceled, and if the order had no
  matches, the response might return the status code 404". Users see that 404 right after a cancel
  (Superalgos/Superalgos#804, coinbase/coinbase-pro-node#156, msolters/gdax-multipong#5: `{"message":"NotFound"}`).
- .../accounts/get-all-account-profile: `GET /accounts` lists the trading accounts "from the profile of the API key",
  "view" or "trade" permission, its own rate limit (25 r/s, burst 50) apart from the private bucket.
- docs.cdp.coinbase.com/exchange/rest-api/requests: errors are 4xx/5xx with `{"message": …}`; 401 = invalid key,
  403 = no access to the resource. A view-only key gets `Forbidden` (danpaquin/coinbasepro-python#244).
- docs.cdp.coinbase.com/exchange/rest-api/rate-limits: 429 when exceeded; private endpoints 15 r/s per profile,
  bursts to 30, lazy-fill token bucket. No rate-limit headers are documented.
- ccxt 4.5.90 `coinbaseexchange.exceptions`: the message strings below (exact and broad matches).
- danpaquin/coinbasepro-python#453: `request timestamp expired` comes back as 401; the timestamp must be within
  30 seconds of the API's clock.
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import UUID, OrderIdShape

PRODUCTION_URL = "https://api.exchange.coinbase.com"
SANDBOX_URL = "https://api-public.sandbox.exchange.coinbase.com"

ORDERS_PATH = "/orders"  # DELETE /orders/{id} cancels, GET /orders/{id} looks up, GET /orders lists
LIST_DEFAULT_LIMIT = 100
LIST_MAX_LIMIT = 1000
# `status` values of orders still working (ccxt's fetchOpenOrders asks for the first three), and finished ones.
OPEN_FILTER = ("open", "pending", "active", "received")
DONE_FILTER = ("done", "rejected")
# The cheapest call that proves key, secret and passphrase: one request, its own rate-limit bucket, and it names
# the key's profile (each account carries `profile_id`), which is the stable account id we report.
VERIFY_PATH = "/accounts"


class Ambiguous(StrEnum):
    """Answers whose meaning depends on the call that got them."""

    unknownOrder = "unknownOrder"  # cancel: look the order up; lookup: no such order (or purged)


# Coinbase's `message` → meaning. Exact strings first; BROAD entries match as lowercase substrings.
ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "NotFound": Ambiguous.unknownOrder,
    "Order already done": Ambiguous.unknownOrder,  # filled (or otherwise final): the lookup says which
    "Invalid order id": Ambiguous.unknownOrder,  # a malformed id cannot name an order
    "Invalid API Key": ErrorType.institutionAuthFailed,
    "invalid signature": ErrorType.institutionAuthFailed,
    "Invalid Passphrase": ErrorType.institutionAuthFailed,
    "request timestamp expired": ErrorType.institutionAuthFailed,  # our clock is off by more than 30 s
    "Forbidden": ErrorType.institutionPermissionDenied,  # the key lacks the "trade" permission
    "Private rate limit exceeded": ErrorType.rateLimited,
    "Public rate limit exceeded": ErrorType.rateLimited,
}
BROAD_ERRORS: dict[str, ErrorType | Ambiguous] = {
    "order not found": Ambiguous.unknownOrder,
    "under maintenance": ErrorType.institutionUnavailable,
    "cancel only mode": ErrorType.institutionUnavailable,  # ccxt#7690; cancels still work, so only a surprise
}
# When the message is unknown, the HTTP status decides (the docs' status table).
STATUS_FALLBACK: dict[int, ErrorType | Ambiguous] = {
    400: ErrorType.institutionRejected,
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    404: Ambiguous.unknownOrder,
    429: ErrorType.rateLimited,
}

# No Retry-After is documented: one token of the private bucket refills in 1/15 s, so a second is enough.
RATE_LIMIT_RETRY_AFTER_S = 1

# `status` → Mesh. `done` needs `done_reason` (DONE_REASONS); live ones become partiallyFilled once filled.
STATUS_MAP: dict[str, OrderStatus] = {
    "received": OrderStatus.inProgress,
    "pending": OrderStatus.inProgress,
    "open": OrderStatus.inProgress,
    "active": OrderStatus.inProgress,  # a stop order waiting for its trigger
    "rejected": OrderStatus.rejected,
}
LIVE_STATUSES = frozenset({"received", "pending", "open", "active"})
DONE_REASONS: dict[str, OrderStatus] = {
    "filled": OrderStatus.success,
    "canceled": OrderStatus.cancelled,
    "cancelled": OrderStatus.cancelled,
    "rejected": OrderStatus.rejected,
}

ORDER_TYPE_MAP = {"market": "market", "limit": "limit", "stop": "stopLimit"}
TIME_IN_FORCE_MAP = {"GTC": "goodTillCanceled", "IOC": "immediateOrCancel", "FOK": "fillOrKill"}

# Exchange order ids are UUIDs.
ORDER_ID_SHAPE = OrderIdShape(UUID, "d0c5340b-6d6c-49d9-b567-48c4bfca13d2")
