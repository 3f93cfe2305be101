"""Coinbase Advanced Trade facts as data: where to call, what each answer means, how long to back off.

Sources checked for this module ([D] Coinbase's docs, [S] the official SDK coinbase-advanced-py 1.8.4, [I] issue
threads, [R] not verified anywhere, chosen as the least surprising reading):
- [D] docs.cdp.coinbase.com/api-reference/advanced-trade-api/rest-api/orders/cancel-order: `POST
  /api/v3/brokerage/orders/batch_cancel` `{"order_ids": [...]}` answers HTTP 200 `{"results": [{"success",
  "failure_reason", "order_id"}]}`; `success` is "whether the cancel request was submitted successfully", and the
  documented success example carries `failure_reason: "UNKNOWN_CANCEL_FAILURE_REASON"`.
- [S] coinbase/rest/types/orders_types.py and the published enum (SDK types, hummingbot's connector): the ten
  CancelOrderFailureReason values below. [I] hummingbot treats UNKNOWN_CANCEL_ORDER and DUPLICATE_CANCEL_REQUEST as
  "order not found OR duplicate request"; ccxt/OctoBot record a 404 `{"error": "NOT_FOUND", "error_details": "order
  with this orderID was not found", ...}` for an unknown id on `GET /orders/historical/{order_id}`.
- [D] .../data-api/get-api-key-permissions: `GET /api/v3/brokerage/key_permissions` → `can_view`, `can_trade`,
  `can_transfer`, `portfolio_uuid`, `portfolio_type`. [D] coinbase-app/oauth2-integration/available-apis: `GET
  /v2/user` (scope `wallet:user:read`) identifies the user behind an OAuth access token.
- [D] coinbase-app/advanced-trade-apis/rest-scopes: batch_cancel needs key scope `trade` / OAuth
  `wallet:buys:create`. [S] rest_base.py: a 403 whose body has `"error_details":"Missing required scopes"` is a key
  without the permission. [I] coinbase-advanced-py#60: a rejected JWT is `401` with the plain-text body
  `Unauthorized`.
- [D] private REST endpoints are limited to about 30 requests per second per user; [S] constants.py names the rate
  limit headers `x-ratelimit-limit/-remaining/-reset`; [I] advanced-trade-sdk-go#18: a 429 may come back as an
  HTML page. What `x-ratelimit-reset` counts is [R]: read as a Unix time when it is one, else as seconds.
- [S] coinbase/rest/orders.py `list_orders`: `GET /api/v3/brokerage/orders/historical/batch` with `order_status`
  (a list, sent as repeated parameters), `limit`, `cursor`, `start_date` (RFC 3339), `product_ids`, `sort_by`…;
  [S] types/orders_types.py ListOrdersResponse: `orders`, `sequence`, `has_next`, `cursor`. Newest first by
  creation time [D, list-orders]. [R] the docs once said OPEN cannot be combined with other statuses in
  `order_status` (not found again with the search tool), so ordergate never combines it; the 1000 cap on `limit`
  is the one third-party clients use (coinbase_cloud_advanced_trade_client's default), also [R]. No total is given.
- [I] coinbase-advanced-node#27: legacy (HMAC) API keys stopped working for Advanced Trade on 2024-05-31, and the
  official SDK supports only CDP keys, so ordergate does not sign the legacy way.
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import UUID, OrderIdShape

PRODUCTION_URL = "https://api.coinbase.com"

CANCEL_PATH = "/api/v3/brokerage/orders/batch_cancel"
# The same endpoint cancels several orders (coinbase-advanced-py RESTClient.cancel_orders(order_ids), checked): one
# `results[]` entry per id with its own success/failure_reason. Coinbase documents no per-request maximum; 100 is
# ordergate's own cap (a whole batch of the extension's 100 orders), which the simulator enforces.
CANCEL_BATCH_MAX = 100

# Kill switch (issue 18: "Coinbase via list + batch_cancel"): Advanced Trade has no cancel-all, so the open orders
# are listed (`order_status=OPEN`, KILL_LIST_PAGE a page) and cancelled KILL_CANCEL_MAX ids a batch_cancel. Coinbase
# documents no maximum for `order_ids`; 100 is ordergate's choice, which the simulator enforces.
KILL_LIST_PAGE = 250
KILL_CANCEL_MAX = 100
KILL_MAX_ORDERS = 10_000  # as the generic kill switch's listing
ORDER_PATH = "/api/v3/brokerage/orders/historical/{order_id}"
CREATE_PATH = "/api/v3/brokerage/orders"  # used by the simulator and the oracle, never by the adapter
KEY_PERMISSIONS_PATH = "/api/v3/brokerage/key_permissions"
LIST_PATH = "/api/v3/brokerage/orders/historical/batch"
LIST_MAX_LIMIT = 1000
USER_PATH = "/v2/user"

JSON_CONTENT_TYPE = "application/json"
JWT_LIFETIME_S = 120  # "Your JWT expires after 2 minutes" (docs) — and what the official SDK signs
JWT_ISSUER = "cdp"
OAUTH_USERNAME = "oauth"  # `username` at authenticate that says `password` is an OAuth access token


class Ambiguous(StrEnum):
    """Answers whose meaning the adapter must resolve (with the cancel service's order lookup)."""

    unknownOrder = "unknownOrder"  # never existed, or already final: look the order up
    acceptedEarlier = "acceptedEarlier"  # a cancel for this order is already under way


# `failure_reason` of a result with `success: false`. A result with `success: true` is an accepted cancel whatever
# its failure_reason says (the enum's default value rides along on successes).
CANCEL_FAILURES: dict[str, ErrorType | Ambiguous] = {
    # Unknown to the engine: never placed, another portfolio's, or already cancelled/expired.
    "UNKNOWN_CANCEL_ORDER": Ambiguous.unknownOrder,
    # Observed from simulators and bots for orders that had just filled; the lookup tells which it was.
    "INVALID_CANCEL_REQUEST": Ambiguous.unknownOrder,
    # The matching engine ("commander") refused: typically the order finished between placement and cancel.
    "COMMANDER_REJECTED_CANCEL_ORDER": Ambiguous.unknownOrder,
    # The order already has a cancel request queued: the venue is cancelling it (an accepted, in-progress cancel).
    "DUPLICATE_CANCEL_REQUEST": Ambiguous.acceptedEarlier,
    "ORDER_IS_FULLY_FILLED": ErrorType.orderNotCancelable,
    "NOT_ALLOWED_TO_CANCEL": ErrorType.institutionPermissionDenied,
    # An edit (cancel-replace) of the order is in flight; the cancel may be sent again once it completes.
    "ORDER_IS_BEING_REPLACED": ErrorType.institutionRejected,
    "INVALID_CANCEL_PRODUCT_ID": ErrorType.institutionRejected,
    # Futures (FCM) orders outside their trading session cannot be cancelled until it reopens.
    "INVALID_CANCEL_FCM_TRADING_SESSION": ErrorType.institutionRejected,
    # `success: false` with the default reason: Coinbase gave no reason, so nothing is known to have happened.
    "UNKNOWN_CANCEL_FAILURE_REASON": ErrorType.institutionUnavailable,
}
DEFAULT_FAILURE_REASON = "UNKNOWN_CANCEL_FAILURE_REASON"

# Request-level errors: `{"error": CODE, "error_details", "message"}` (v3) or `{"errors": [{"id", "message"}]}` (v2).
REQUEST_ERRORS: dict[str, ErrorType] = {
    "PERMISSION_DENIED": ErrorType.institutionPermissionDenied,
    "invalid_scope": ErrorType.institutionPermissionDenied,
    "UNAUTHENTICATED": ErrorType.institutionAuthFailed,
    "authentication_error": ErrorType.institutionAuthFailed,
    "invalid_token": ErrorType.institutionAuthFailed,
    "expired_token": ErrorType.institutionAuthFailed,
    "revoked_token": ErrorType.institutionAuthFailed,
    "INVALID_ARGUMENT": ErrorType.institutionRejected,
    "invalid_request": ErrorType.institutionRejected,
    "rate_limit_exceeded": ErrorType.rateLimited,
    "RESOURCE_EXHAUSTED": ErrorType.rateLimited,
    "internal_server_error": ErrorType.institutionUnavailable,
    "INTERNAL": ErrorType.institutionUnavailable,
    "UNAVAILABLE": ErrorType.institutionUnavailable,
}
MISSING_SCOPES = "Missing required scopes"
NOT_FOUND_CODES = frozenset({"NOT_FOUND", "not_found"})

# The private bucket holds ~30 requests per second, so a second is what one waits when Coinbase says nothing more.
DEFAULT_RETRY_AFTER_S = 1
RATE_LIMIT_RESET_HEADER = "x-ratelimit-reset"

# Order.status → Mesh. OPEN (and the queued states) become partiallyFilled once filled_size > 0.
STATUS_MAP: dict[str, OrderStatus] = {
    "PENDING": OrderStatus.inProgress,
    "OPEN": OrderStatus.inProgress,
    "QUEUED": OrderStatus.inProgress,
    "EDIT_QUEUED": OrderStatus.inProgress,
    "CANCEL_QUEUED": OrderStatus.inProgress,
    "FILLED": OrderStatus.success,
    "CANCELLED": OrderStatus.cancelled,
    "EXPIRED": OrderStatus.expired,
    "FAILED": OrderStatus.failed,
    "UNKNOWN_ORDER_STATUS": OrderStatus.unknown,
}
LIVE_STATUSES = frozenset({"PENDING", "OPEN", "QUEUED", "EDIT_QUEUED", "CANCEL_QUEUED"})

# Mesh statuses of finished orders → Coinbase's `order_status` filter values that produce them (server-side filter).
CLOSED_FILTER: dict[OrderStatus, tuple[str, ...]] = {
    OrderStatus.success: ("FILLED",),
    OrderStatus.cancelled: ("CANCELLED",),
    OrderStatus.expired: ("EXPIRED",),
    OrderStatus.failed: ("FAILED",),
    OrderStatus.unknown: ("UNKNOWN_ORDER_STATUS",),
}

# Order.order_type → Mesh BrokerOrderPlaceType (a BRACKET has both a take-profit and a stop: no single Mesh type).
ORDER_TYPE_MAP: dict[str, str] = {
    "MARKET": "market",
    "LIMIT": "limit",
    "STOP": "stopLoss",
    "STOP_LIMIT": "stopLimit",
}

# Order.time_in_force → Mesh BrokerOrderTimeInForceType (which has no good-till-date).
TIME_IN_FORCE_MAP: dict[str, str] = {
    "GOOD_UNTIL_CANCELLED": "goodTillCanceled",
    "IMMEDIATE_OR_CANCEL": "immediateOrCancel",
    "FILL_OR_KILL": "fillOrKill",
    "GOOD_UNTIL_DATE_TIME": "unknown",
    "UNKNOWN_TIME_IN_FORCE": "unknown",
}

# Advanced Trade order_id is a UUID.
ORDER_ID_SHAPE = OrderIdShape(UUID, "0e5f8a9c-3b1d-4c2e-9f4a-7b6c5d4e3f21")
