"""HTX (Huobi) spot REST facts as data: paths, the signing parameters, what each err-code means.

Sources (checked for this module with the search tools; [R] = from the reference notes, not confirmed here):
- HTX spot API docs (huobiapi.github.io/docs/spot/v1/en, copy in HuobiRDCenter-derived docs repos), "Authentication":
  the query carries AccessKeyId, SignatureMethod=HmacSHA256, SignatureVersion=2, Timestamp (UTC YYYY-MM-DDThh:mm:ss,
  "valid within 5 minutes"; the FAQ says "less than 1 minute" of difference); the pre-signed text is
  METHOD\\nhost (lower case)\\npath\\nparams sorted by ASCII, URL-encoded with upper-case hex; Signature =
  base64(HMAC-SHA256(secret, text)), URL-encoded into the query. POST parameters go in a JSON body and are not
  signed. FAQ Q6: "The host in signature text should be the same as the host in your API request ... Some http
  library may include port in the host, you can try to append port in signature host".
- Same docs, "Submit Cancel for an Order": POST /v1/order/orders/{order-id}/submitcancel, permission Trade,
  100 requests / 2 s per UID; answers `"data": "59378"` (the order id); "The actual result of the cancellation
  request needs to be checked by order status" (so an accepted cancel is `inProgress`). Error:
  `{"status":"error","err-code":"order-orderstate-error","err-msg":"Incorrect order state","order-state":-1}` with
  order-state -1 = "order was already closed in the long past (cancelled, partially-cancelled, filled,
  partially-filled)", 1 created, 3 submitted, 4 partial-filled, 5 partial-canceled, 6 filled, 7 canceled,
  10 cancelling.
- Same docs, "Get the Order Detail of an Order": GET /v1/order/orders/{order-id}, permission Read; states
  created, submitted, partial-filled, filled, partial-canceled, canceling, canceled; "The order created via API will
  no longer be queryable after being cancelled for more than 2 hours"; not found = `base-record-invalid`
  ("record invalid").
- Same docs, FAQ Q1/Q7/Q9: GET /v1/account/accounts lists the user's accounts (Read permission); `login-required`
  when AccessKeyId or Signature is missing; "Incorrect Access key" (api-signature-not-valid) for unknown keys.
  Rate limits: X-HB-RateLimit-Requests-Remain and X-HB-RateLimit-Requests-Expire headers ("the expire time for
  current rate limit time window"; whether it is an epoch-ms stamp or a duration is not stated: both are read).
- ccxt 4.5.90 python/ccxt/htx.py `exceptions['exact']` and `sign()`: err-codes below (with their example bodies,
  e.g. api-signature-not-valid "Signature not valid: Incorrect Access key [Access key错误]",
  base-request-exceed-frequency-limit, rate-too-many-requests, err-msg "request limit", `timeout` "Request
  Timeout", base-record-invalid for unknown orders, ccxt issue #5750); errors come inside HTTP 200.
  ccxt signs with its configured hostname option (urls.hostnames.spot), huobi-sdk 2.3.3
  (huobi/utils/api_signature.py) with urlparse(url).hostname (no port) and the URL's full path.
- Not found anywhere (issue 13 guessed them): `api-limit-exceeded` and an HTTP 429 from HTX. 429 is still handled
  like any rate limit. `api-key-invalid`, `api-key-expired`, `api-key-permission-invalid` appear only in third-party
  translators [R]; the "no permission" message of api-signature-not-valid is from the reference notes [R].
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://api.huobi.pro"

# Decimal ids (a Java long): the only shape HTX issues, and nothing in it can change the URL it is put into.
ORDER_ID_SHAPE = (r"[1-9][0-9]{0,18}", "59378")

CANCEL_PATH = "/v1/order/orders/{order_id}/submitcancel"
ORDER_PATH = "/v1/order/orders/{order_id}"
# The cheapest read that proves key and secret (Read permission suffices) and names the user's spot account.
VERIFY_PATH = "/v1/account/accounts"
# Listing (HTX spot docs "Get All Open Orders" and "Search Historical Orders within 48 Hours"; ccxt 4.5 htx.py lists
# both under spot private GET): `openOrders` takes `account-id`, `symbol` (optional), `from` (an order id) with
# `direct` (next = older) and `size` (1..500, default 100), newest first; `history` takes `start-time`/`end-time`
# (ms, a window of at most 48 h, the default the last 48 h), `direct`, `size` (10..1000, default 100), answers closed
# orders (filled, partial-canceled, canceled) newest first and `next-time` when more are left. Older orders are only
# in `/v1/order/orders`, which needs `symbol` and `states`: not used here, so history reaches back 48 hours.
OPEN_ORDERS_PATH = "/v1/order/openOrders"
HISTORY_PATH = "/v1/order/history"
OPEN_ORDERS_MAX_SIZE = 500
HISTORY_SIZE = (10, 1000)
HISTORY_WINDOW_MS = 48 * 3600 * 1000

SIGNATURE_METHOD = "HmacSHA256"
SIGNATURE_VERSION = "2"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
TIMESTAMP_WINDOW_S = 300  # "The value is valid within 5 minutes"

HEADER_REMAIN = "X-HB-RateLimit-Requests-Remain"
HEADER_EXPIRE = "X-HB-RateLimit-Requests-Expire"
# submitcancel: 100 requests per 2 s per UID; without a header the window's length is the wait.
RATE_LIMIT_WINDOW_S = 2


class Ambiguous(StrEnum):
    """Answers whose meaning depends on the call that got them."""

    unknownOrder = "unknownOrder"  # cancel: look the order up; lookup: no such order
    orderState = "orderState"  # order-orderstate-error: `order-state` says which
    outcomeUnknown = "outcomeUnknown"  # HTX timed out inside: the cancel may or may not have happened


ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "order-orderstate-error": Ambiguous.orderState,
    "base-record-invalid": Ambiguous.unknownOrder,
    "order-queryorder-invalid": Ambiguous.unknownOrder,
    "base-not-found": Ambiguous.unknownOrder,  # batchcancel's "The record is not found."
    "api-signature-not-valid": ErrorType.institutionAuthFailed,  # unless the message says "no permission"
    "api-signature-check-failed": ErrorType.institutionAuthFailed,
    "login-required": ErrorType.institutionAuthFailed,
    "api-key-invalid": ErrorType.institutionAuthFailed,  # [R]
    "api-key-expired": ErrorType.institutionAuthFailed,  # [R]
    "api-key-permission-invalid": ErrorType.institutionPermissionDenied,  # [R]
    "base-request-exceed-frequency-limit": ErrorType.rateLimited,
    "rate-too-many-requests": ErrorType.rateLimited,
    "too-many-requests": ErrorType.rateLimited,
    "system-maintenance": ErrorType.institutionUnavailable,
    "gateway-internal-error": ErrorType.institutionUnavailable,
    "order-update-error": ErrorType.institutionUnavailable,
    "timeout": Ambiguous.outcomeUnknown,
    "validation-format-error": ErrorType.institutionRejected,  # "Format Error: order-id."
    "bad-request": ErrorType.institutionRejected,
    "invalid-parameter": ErrorType.institutionRejected,  # unless err-msg is "request limit"
}
RATE_LIMIT_MESSAGES = frozenset({"request limit"})
PERMISSION_MARKERS = ("no permission", "permission denied", "insufficient permission")

# `order-state` of order-orderstate-error (numeric, as in the cancel docs).
ORDER_STATE_CLOSED_LONG_AGO = -1
ORDER_STATE_CANCELLING = 10
ORDER_STATES: dict[int, str] = {
    1: "created", 3: "submitted", 4: "partial-filled", 5: "partial-canceled", 6: "filled", 7: "canceled",
    10: "canceling",
}  # fmt: skip

# Lookup `state` → Mesh (partiallyFilled is decided by filled-amount for live states).
STATUS_MAP: dict[str, OrderStatus] = {
    "created": OrderStatus.inProgress,
    "submitted": OrderStatus.inProgress,
    "partial-filled": OrderStatus.partiallyFilled,
    "canceling": OrderStatus.inProgress,  # a cancel is pending; a fill can still win
    "filled": OrderStatus.success,
    "partial-canceled": OrderStatus.cancelled,
    "canceled": OrderStatus.cancelled,
}
LIVE_STATES = frozenset({"created", "submitted", "partial-filled", "canceling"})

# type is "<side>-<kind>", e.g. buy-limit, sell-limit-maker, buy-stop-limit-fok.
ORDER_TYPE_MAP = {
    "limit": "limit", "market": "market", "ioc": "limit", "limit-maker": "limit", "stop-limit": "stopLimit",
    "limit-fok": "limit", "stop-limit-fok": "stopLimit",
}  # fmt: skip
TIME_IN_FORCE_MAP = {
    "limit": "goodTillCanceled", "ioc": "immediateOrCancel", "limit-fok": "fillOrKill", "limit-maker": "postOnly",
    "stop-limit": "goodTillCanceled", "stop-limit-fok": "fillOrKill", "market": "immediateOrCancel",
}  # fmt: skip
