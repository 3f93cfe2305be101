"""Coinbase Prime REST facts as data.

Sources (checked for this module):
- docs.cdp.coinbase.com/api-reference/prime-api/rest-api/orders/cancel-order: `POST
  /v1/portfolios/{portfolio_id}/orders/{order_id}/cancel`, no body, answers `{"id": "<order uuid>"}`; "Filled orders
  cannot be canceled". Nothing says the order is already cancelled when the answer comes back (Prime routes orders
  to several venues), so the answer is an acknowledgement.
- docs.cdp.coinbase.com/prime/rest-api/authentication: `X-CB-ACCESS-KEY/-PASSPHRASE/-SIGNATURE/-TIMESTAMP`; integer
  seconds "within 30 seconds"; signature = base64(HMAC-SHA256(SECRET_KEY.encode(), timestamp + METHOD + url_path
  [+ body])). "API keys created in the Prime UI are scoped to individual portfolios."
- docs.cdp.coinbase.com/prime/concepts/account-structure: portfolio-level keys reach one portfolio, entity-level
  keys any portfolio of their entity.
- .../portfolios/list-portfolios: `GET /v1/portfolios` lists "all portfolios for which the current API key has read
  access" as `{"portfolios": [{"id", "name", "entity_id", "organization_id", "entity_name"}]}`.
- .../orders/get-order-by-order-id and coinbase/prime-sdk-py (`prime_sdk/enums` OrderStatus, generated models):
  `GET /v1/portfolios/{pid}/orders/{oid}` → `{"order": {...}}`; status OPEN, FILLED, CANCELLED, EXPIRED, FAILED,
  PENDING; types MARKET, LIMIT, TWAP, BLOCK, VWAP, STOP_LIMIT, RFQ.
- coinbase/prime-sdk-py `prime_sdk/generated/errors.py`: error bodies carry `code`, `message`, `subcode`,
  `trace_id`; the documented error statuses of CancelOrder are 400, 403 and 404. The exact message strings are not
  published, so the HTTP status decides here.
- .../orders/list-open-orders and .../orders/list-portfolio-orders, prime-sdk-py OrdersService.list_open_orders /
  list_orders: `GET /v1/portfolios/{pid}/open_orders` (product_ids, order_type, order_side, start_date, end_date)
  and `GET /v1/portfolios/{pid}/orders` (the same plus `order_statuses`, repeated), both with `cursor`, `limit`,
  `sort_direction` (default DESC) and an answer `{"orders": [...], "pagination": {"next_cursor", "sort_direction",
  "has_next"}}`; docs.cdp.coinbase.com/prime/rest-api/pagination: repeat with `cursor=<next_cursor>` while there is
  more. prime-sdk-go ListOrdersRequest marks `start_date` required. No total is given.
- docs.cdp.coinbase.com/prime/rest-api/rate-limits: per IP 100 r/s ("If you exceed 100 rps, a 429 error is thrown
  and you have to wait 30 seconds before resuming"), per portfolio 25 r/s with bursts to 50.
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import UUID, OrderIdShape

PRODUCTION_URL = "https://api.prime.coinbase.com"
PORTFOLIOS_PATH = "/v1/portfolios"  # verify: lists the key's portfolios, which cancels need in their path


def order_path(portfolio_id: str, order_id: str) -> str:
    return f"{PORTFOLIOS_PATH}/{portfolio_id}/orders/{order_id}"


def orders_path(portfolio_id: str) -> str:
    return f"{PORTFOLIOS_PATH}/{portfolio_id}/orders"


def open_orders_path(portfolio_id: str) -> str:
    return f"{PORTFOLIOS_PATH}/{portfolio_id}/open_orders"


# `start_date` sent when the client gives no `from`: prime-sdk-go marks it required on ListOrdersRequest, and no
# Prime order is older (Prime launched in 2018).
LIST_START_FLOOR = "2018-01-01T00:00:00Z"
LIST_MAX_LIMIT = 1000


def cancel_path(portfolio_id: str, order_id: str) -> str:
    return order_path(portfolio_id, order_id) + "/cancel"


class Ambiguous(StrEnum):
    orderAnswer = "orderAnswer"  # cancel: the lookup decides (filled, cancelled, unknown); lookup: no such order


# HTTP status → meaning (Prime publishes no message catalogue). 400 on a cancel is its documented refusal of a
# final order; on a lookup it is a malformed id, which names no order.
ERROR_BY_STATUS: dict[int, ErrorType | Ambiguous] = {
    400: Ambiguous.orderAnswer,
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    404: Ambiguous.orderAnswer,
    429: ErrorType.rateLimited,
}

# The documented penalty for the per-IP limit; a gateway shares one IP among its users, so this is the likely one.
RATE_LIMIT_RETRY_AFTER_S = 30

STATUS_MAP: dict[str, OrderStatus] = {
    "PENDING": OrderStatus.inProgress,
    "OPEN": OrderStatus.inProgress,
    "FILLED": OrderStatus.success,
    "CANCELLED": OrderStatus.cancelled,
    "EXPIRED": OrderStatus.expired,
    "FAILED": OrderStatus.failed,
}
LIVE_STATUSES = frozenset({"PENDING", "OPEN"})

ORDER_TYPE_MAP = {"MARKET": "market", "LIMIT": "limit", "STOP_LIMIT": "stopLimit"}
TIME_IN_FORCE_MAP = {
    "GOOD_UNTIL_CANCELLED": "goodTillCanceled",
    "IMMEDIATE_OR_CANCEL": "immediateOrCancel",
    "FILL_OR_KILL": "fillOrKill",
}

# Prime order ids are UUIDs.
ORDER_ID_SHAPE = OrderIdShape(UUID, "8c8d5d20-fc6c-4ec0-a5c3-8e3b8a0b1c2d")
