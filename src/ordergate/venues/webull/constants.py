"""Webull OpenAPI facts as data: hosts, paths, headers, what each answer means.

Sources, checked for this module:
- webull-openapi-python-sdk 3.0.4 (PyPI; github.com/webull-inc/openapi-python-sdk), read in full for these parts:
  `trade/request/v3/cancel_order_request.py` (POST /trading/orders/cancel, body {account_id, client_order_id},
  x-version v3), `trade/request/v3/get_order_detail_request.py` (GET /trading/orders/get?account_id&client_order_id:
  the v3 detail path is `/trading/orders/get`, not `/trading/orders/detail`; v1 was /trade/order/detail, v2
  /openapi/trade/order/detail), `get_order_open_request_v2.py` (GET /trading/orders/open-orders/list, paged by
  pagination_key), `get_order_history_request_v2.py` (GET /trading/orders/historical-orders/list),
  `trade/request/v2/get_account_list_request.py` (GET /trading/accounts/list),
  `core/http/initializer/client_initializer.py` (GET /openapi/config → `token_check_enabled`), `token_manager.py`
  (POST /auth/tokens/create and /auth/tokens/check; token status PENDING / NORMAL / INVALID / EXPIRED; the token then
  travels in `x-access-token`, `core/client.py`), `core/auth/composer/default_signature_composer.py` (the signature,
  see auth.py: HMAC-SHA256 signer `sha_hmac256_new`, so the body digest is upper-case hex **SHA-256**, not MD5),
  `core/endpoint` data: region "us" → api.webull.com.
- developer.webull.com/api-doc/trade/order/cancel-order: "The calling frequency of each App ID is limited to 1 time
  per second" (v1); developer.webull.hk/apis/docs/reference/trading: order cancel "US stock order interface:
  15 requests/second"; developer.webull.com/apis/docs/reference/trading: order place/replace 600 per minute.
- developer.webull.com/api-doc/develop/error and developer.webull.hk/apis/docs/error-codes: errors are
  `{"error_code", "message"}` with the HTTP status; 401 UNAUTHORIZED ("Header x-signature is invalid.", "Invalid
  credentials…"), INCORRECT_SIGN, CLOCK_SKEW_EXCEEDED, MISSING_*, INVALID_TOKEN; TOO_MANY_REQUESTS (429);
  REQUEST_TOTAL_COUNT_EXCEEDED; SYSTEM_ERROR; the cancel page's TRADE_WEBULL_REQUEST_PROCESSING "The order is
  processing, please try later". The codes for "no such order" and "order not cancelable" are not published
  (unverified): any order-level refusal of a cancel is resolved by a lookup, never read as final.
- Test host: us-openapi-alb.uat.webullbroker.com (reported in Webull's sample comments; unverified).
"""

from __future__ import annotations

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

PRODUCTION_URL = "https://api.webull.com"
UAT_URL = "https://us-openapi-alb.uat.webullbroker.com"

API_VERSION = "v3"  # x-version of the SDK's v3 trading requests
CONFIG_PATH = "/openapi/config"
TOKEN_CREATE_PATH = "/auth/tokens/create"
TOKEN_CHECK_PATH = "/auth/tokens/check"
ACCOUNTS_PATH = "/trading/accounts/list"
CANCEL_PATH = "/trading/orders/cancel"
DETAIL_PATH = "/trading/orders/get"
OPEN_ORDERS_PATH = "/trading/orders/open-orders/list"
HISTORY_PATH = "/trading/orders/historical-orders/list"
PLACE_PATH = "/trading/orders/place"

# Signature headers (core/headers.py) and their fixed values (sha_hmac256_new).
H_APP_KEY = "x-app-key"
H_TIMESTAMP = "x-timestamp"
H_SIGN_VERSION = "x-signature-version"
H_SIGN_ALGORITHM = "x-signature-algorithm"
H_NONCE = "x-signature-nonce"
H_SIGNATURE = "x-signature"
H_VERSION = "x-version"
H_ACCESS_TOKEN = "x-access-token"
SIGN_ALGORITHM = "HMAC-SHA256"
SIGN_VERSION = "1.0"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # common.FORMAT_ISO_8601, UTC

# Token statuses (token_manager.py: "PENDING -> 0, NORMAL -> 1, INVALID -> 2, EXPIRED -> 3").
TOKEN_NORMAL = "NORMAL"
TOKEN_PENDING = "PENDING"
TOKEN_DEAD = frozenset({"INVALID", "EXPIRED"})

# Webull error_code → what it means for the client. Status-level fallbacks live in the adapter.
ERROR_MAP: dict[str, ErrorType] = {
    "UNAUTHORIZED": ErrorType.institutionAuthFailed,
    "INCORRECT_SIGN": ErrorType.institutionAuthFailed,
    "CLOCK_SKEW_EXCEEDED": ErrorType.institutionAuthFailed,
    "ILLEAGAL_TIMESTAMP": ErrorType.institutionAuthFailed,  # sic, Webull's spelling
    "INVALID_TOKEN": ErrorType.institutionAuthFailed,
    "MISSING_APP_KEY": ErrorType.institutionAuthFailed,
    "MISSING_SIGNATURE": ErrorType.institutionAuthFailed,
    "MISSING_ALGORITHM": ErrorType.institutionAuthFailed,
    "MISSING_NONCE": ErrorType.institutionAuthFailed,
    "MISSING_TIMESTAMP": ErrorType.institutionAuthFailed,
    "IP_NOT_ALLOWED": ErrorType.institutionPermissionDenied,
    "TOO_MANY_REQUESTS": ErrorType.rateLimited,
    "REQUEST_TOTAL_COUNT_EXCEEDED": ErrorType.rateLimited,
    "SYSTEM_ERROR": ErrorType.institutionUnavailable,
    "INTERNAL_ERROR": ErrorType.institutionUnavailable,
    # The order is busy (being placed or replaced): nothing was cancelled, and a moment later the cancel may pass.
    "TRADE_WEBULL_REQUEST_PROCESSING": ErrorType.institutionUnavailable,
}

# The simulator's words for "no such client order" and "order is final" (unverified, see above). The adapter treats
# these, and any other order-level 4xx of a cancel, as "look it up".
ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
ORDER_NOT_CANCELABLE = "ORDER_CANNOT_BE_CANCELLED"

# Without a Retry-After header: cancel limits are per second (1/s v1, 15/s for US stocks on the HK reference).
RATE_WINDOW_S = 1
QUOTA_WINDOW_S = 60  # REQUEST_TOTAL_COUNT_EXCEEDED: the app's call quota, not a per-second limit

# OrderStatus dictionary (trade/common/order_status.py).
STATUS_MAP: dict[str, OrderStatus] = {
    "SUBMITTED": OrderStatus.inProgress,
    "PARTIAL_FILLED": OrderStatus.partiallyFilled,
    "FILLED": OrderStatus.success,
    "CANCELLED": OrderStatus.cancelled,
    "FAILED": OrderStatus.failed,
}
LIVE_STATUSES = frozenset({"SUBMITTED", "PARTIAL_FILLED"})

ORDER_TYPE_MAP: dict[str, str] = {
    "MARKET": "market",
    "LIMIT": "limit",
    "STOP_LOSS": "stopLoss",
    "STOP_LOSS_LIMIT": "stopLimit",
}
TIME_IN_FORCE_MAP: dict[str, str] = {"DAY": "goodForDay", "GTC": "goodTillCanceled", "IOC": "immediateOrCancel"}

# list_order_open takes pagination_key only and list_order_history start_time / end_time ("yyyy-MM-dd'T'HH:mm:ss.SSSZ")
# / pagination_key (SDK 3.0.4 order_operation_v3.py); neither takes a page size. Order history "records are available
# for up to 2 years; by default, returns orders from the last 7 days if no time range is specified"
# (developer.webull.com order-history reference): a listing of every order asks for the two years.
HISTORY_SPAN_S = 730 * 86_400

OPEN_ORDER_PAGES = 10  # pages of open orders read to find an order by Webull's order_id

# A cancel names the order by client_order_id ("User-defined order ID. The maximum length is 40", place-order doc;
# the SDK samples use uuid4().hex) or, looked up, by Webull's order_id; both are letters, digits, `-` and `_`.
ORDER_ID_SHAPE = OrderIdShape(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", "27290e2404e84572b2ffa0f89906525d")
