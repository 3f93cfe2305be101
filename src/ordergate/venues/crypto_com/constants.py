"""Crypto.com Exchange API v1 facts as data: where to call, what each response code means, how long to back off.

Sources, checked with the search tools (the reference notes tagged several of these [R] / unverified):
- Crypto.com Exchange v1 REST docs (exchange-docs.crypto.com/exchange/v1/rest-ws, mirrored as markdown in public
  repositories; the per-operation pages of exchange-developer.crypto.com/exchange/v1/docs/api/rest):
  * "REST API Root Endpoint": UAT sandbox https://uat-api.3ona.co/exchange/v1/{method}, production
    https://api.crypto.com/exchange/v1/{method}; requests are POST with Content-Type application/json.
  * "Digital Signature": sig = hex(HMAC-SHA256(secret, method + id + api_key + parameter string + nonce)); the
    parameter string is the params' keys sorted ascending, each followed by its value, no separators; lists are
    walked element by element, objects recursively, and at depth 3 (MAX_LEVEL) a value is taken as its string; a
    null value is written `null` (the Python and Java samples; the Java SigningUtil also strips trailing zeros of
    doubles). The nonce is the current time in ms; 40102 INVALID_NONCE when it "differs by more than 60 seconds".
  * "private/cancel-order": params `order_id` ("string format is highly recommended") or `client_oid`; "This call
    is asynchronous, so the response is simply a confirmation of the request": result {client_oid, order_id}.
    So an accepted cancel is `inProgress`, and `private/get-order-detail` is the proof.
  * "private/get-order-detail": by `order_id` or `client_oid`; statuses NEW, PENDING, ACTIVE (open; "to detect a
    'partial filled' status, look for status ACTIVE and cumulative_quantity > 0") and REJECTED, CANCELED, FILLED,
    EXPIRED (final).
  * Order ids are "string of number", int64 (OpenAPI: `type: string, format: int64`): 1 to 19 digits, at most
    9223372036854775807. Real ids seen in ccxt's cryptocom.py comments: "6142909895025252686" (19 digits).
  * "Rate Limits": per API method and key, private/create-order, cancel-order, cancel-all-orders 15 requests per
    100 ms each; private/get-order-detail 30 per 100 ms; all other private methods 3 per 100 ms. No rate-limit
    headers are documented.
  * "Response and Reason Codes": the v1 table (code, HTTP status, message) used for ERROR_MAP below. The HTTP status
    varies by code (40401 NOT_FOUND is sent with HTTP 200, 316 NO_ACTIVE_ORDER with 500), so the body's `code` decides.
- ccxt 4.5.90 python/ccxt/cryptocom.py: sign() builds the same payload (path + id + apiKey + params string + nonce)
  and sends id and nonce as JSON strings (so does the v1 OpenAPI example); handle_errors() treats every `code` other
  than "0" as an error; its `exact` map lists both the v1 codes (40101 AuthenticationError, 40102 InvalidNonce,
  40401 OrderNotFound, 42901 RateLimitExceeded, ...) and the legacy 100xx family (10002 UNAUTHORIZED, 10003
  IP_ILLEGAL, 10006 TOO_MANY_REQUESTS, 10007 INVALID_NONCE).
- The 100xx codes named in the issue (10002 UNAUTHORIZED, 10003 IP_ILLEGAL, 10006 TOO_MANY_REQUESTS) are the legacy
  Exchange v2 (spot) table: 10001 SYS_ERROR, 10002 UNAUTHORIZED, 10003 IP_ILLEGAL, 10004 BAD_REQUEST, 10005
  USER_TIER_INVALID, 10006 TOO_MANY_REQUESTS, 10007 INVALID_NONCE (a public Go client transcribes it). The v1 docs
  do not list them; they are mapped anyway because ccxt still sees them from api.crypto.com.

Not verifiable without a live account (recorded, not guessed silently):
- Which code a cancel of an unknown vs an already final order gets (212 INVALID_ORDERID, 307 INVALID_ORDSTATUS,
  316 NO_ACTIVE_ORDER or 40401 NOT_FOUND): all four are resolved by a lookup, so the answer is right whichever it is.
  The simulator answers 40401 for ids it does not know for the key and 316 for final orders.
- The code for a key without the "Can Trade" permission: none is documented. 40104 USER_TIER_INVALID ("Disallowed
  based on user tier") is the only documented authorisation refusal; the simulator uses it. Should Crypto.com answer
  40101 instead, the gateway says institutionAuthFailed: still a definite refusal, never `ok`.
- No regional/legal block answer and no timed lockout are documented (202 ACCOUNT_IS_SUSPENDED is the lockout).
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://api.crypto.com/exchange/v1"
TESTNET_URL = "https://uat-api.3ona.co/exchange/v1"

CANCEL_METHOD = "private/cancel-order"
ORDER_METHOD = "private/get-order-detail"
# The cheapest authenticated read that names the account (master_account.uuid); any key may call it.
VERIFY_METHOD = "private/get-accounts"
# Listing. private/get-open-orders {instrument_name?} answers every open order (NEW, PENDING, ACTIVE) at once, with
# no paging parameter in v1. private/get-order-history {instrument_name?, start_time (inclusive, default end_time - 1
# day), end_time (exclusive, default now), limit (default 100, max 100)} answers final orders only (REJECTED, CANCELED,
# FILLED, EXPIRED), "the maximum number ... before the end_time"; "Nanosecond is recommended for accurate pagination"
# (docs, mirrored in rosssaunders/coincise docs/cryptocom/endpoints/private/post_private_get_order_history.md). ccxt
# 4.5.90 fetch_orders sends start_time in ms. Not documented, chosen: the history is ordered by create_time, newest
# first, and paged here by end_time = the oldest create_time_ns read; start_time 0 when Mesh sends no `from`, since
# the 1-day default would hide older orders.
OPEN_ORDERS_METHOD = "private/get-open-orders"
HISTORY_METHOD = "private/get-order-history"
HISTORY_MAX_LIMIT = 100

NONCE_WINDOW_MS = 60_000
MAX_PARAM_LEVEL = 3  # "MAX_LEVEL = 3" in the docs' samples

# The exact shape of an order id (int64 as a string of digits, no sign, no leading zero); the adapter also checks
# the int64 bound, which a regex states badly.
ORDER_ID_SHAPE = (r"[1-9][0-9]{0,18}", "6142909895025252686")
ORDER_ID_MAX = 2**63 - 1


class Ambiguous(StrEnum):
    """Codes whose meaning depends on the call that got them; the adapter resolves them."""

    unknownOrder = "unknownOrder"  # cancel: the service looks the order up; lookup: no such order
    outcomeUnknown = "outcomeUnknown"  # the request may or may not have been carried out


ERROR_MAP: dict[int, ErrorType | Ambiguous] = {
    # Exchange v1 "Response and Reason Codes" (code: HTTP status, message code).
    202: ErrorType.institutionLocked,  # 400 ACCOUNT_IS_SUSPENDED
    212: Ambiguous.unknownOrder,  # 500 INVALID_ORDERID
    307: Ambiguous.unknownOrder,  # 500 INVALID_ORDSTATUS: the order is no longer in a cancellable state
    316: Ambiguous.unknownOrder,  # 500 NO_ACTIVE_ORDER
    401: ErrorType.institutionAuthFailed,  # 400 ACCOUNT_DOES_NOT_EXIST
    406: ErrorType.institutionLocked,  # 500 ACCOUNT_IS_NOT_ACTIVE
    409: ErrorType.institutionAuthFailed,  # 500 INVALID_USER
    410: ErrorType.institutionLocked,  # 500 USER_IS_NOT_ACTIVE
    40001: ErrorType.institutionRejected,  # 400 BAD_REQUEST
    40002: ErrorType.institutionRejected,  # 400 METHOD_NOT_FOUND
    40003: ErrorType.institutionRejected,  # 400 INVALID_REQUEST
    40004: ErrorType.institutionRejected,  # 400 MISSING_OR_INVALID_ARGUMENT
    40006: Ambiguous.outcomeUnknown,  # 400 DUPLICATE_REQUEST: an identical request was already received
    40101: ErrorType.institutionAuthFailed,  # 401 UNAUTHORIZED: "Not authenticated, or key/signature incorrect"
    40102: ErrorType.institutionAuthFailed,  # 400 INVALID_NONCE: nonce more than 60 s from server time
    40103: ErrorType.institutionPermissionDenied,  # 401 IP_ILLEGAL: the key is bound to other addresses
    40104: ErrorType.institutionPermissionDenied,  # 401 USER_TIER_INVALID: "Disallowed based on user tier"
    40401: Ambiguous.unknownOrder,  # 200 NOT_FOUND (ccxt: OrderNotFound)
    40801: Ambiguous.outcomeUnknown,  # 408 REQUEST_TIMEOUT
    42901: ErrorType.rateLimited,  # 429 TOO_MANY_REQUESTS
    50001: ErrorType.institutionUnavailable,  # 500 ERR_INTERNAL / INTERNAL_SERVER_ERROR
    9010001: ErrorType.institutionUnavailable,  # SYSTEM_MAINTENANCE (ccxt's map)
    # Legacy v2 family, still mapped by ccxt.
    10001: ErrorType.institutionUnavailable,  # SYS_ERROR
    10002: ErrorType.institutionAuthFailed,  # UNAUTHORIZED
    10003: ErrorType.institutionPermissionDenied,  # IP_ILLEGAL
    10004: ErrorType.institutionRejected,  # BAD_REQUEST
    10005: ErrorType.institutionPermissionDenied,  # USER_TIER_INVALID
    10006: ErrorType.rateLimited,  # TOO_MANY_REQUESTS
    10007: ErrorType.institutionAuthFailed,  # INVALID_NONCE
}

# Back-off when rate limited: the documented windows are 100 ms (cancel, order detail), and Retry-After counts
# whole seconds.
RETRY_AFTER_S: dict[int, int] = {42901: 1, 10006: 1}

STATUS_MAP: dict[str, OrderStatus] = {
    "NEW": OrderStatus.inProgress,
    "PENDING": OrderStatus.inProgress,
    "ACTIVE": OrderStatus.inProgress,  # partiallyFilled when cumulative_quantity > 0
    "CANCELED": OrderStatus.cancelled,  # cumulative_quantity keeps any fill
    "FILLED": OrderStatus.success,
    "REJECTED": OrderStatus.rejected,
    "EXPIRED": OrderStatus.expired,
}

ORDER_TYPE_MAP: dict[str, str] = {
    "MARKET": "market",
    "LIMIT": "limit",
    "STOP_LOSS": "stopLoss",
    "STOP_LIMIT": "stopLimit",
    "TAKE_PROFIT": "takeProfit",
    "TAKE_PROFIT_LIMIT": "takeProfit",
}
TIME_IN_FORCE_MAP: dict[str, str] = {
    "GOOD_TILL_CANCEL": "goodTillCanceled",
    "IMMEDIATE_OR_CANCEL": "immediateOrCancel",
    "FILL_OR_KILL": "fillOrKill",
}
