"""Bitstamp HTTP API v2 facts as data: where to call, how requests and answers are signed, what each error means.

Sources (checked for this module, with the search tools over public text):
- Bitstamp's OpenAPI description (www.bitstamp.net/api, as generated into the `bitstamp_public_api` JS client:
  its index.js header and docs/OrdersApi.md):
  - "Authentication": headers X-Auth (`BITSTAMP <key>`), X-Auth-Signature, X-Auth-Nonce, X-Auth-Timestamp (ms),
    X-Auth-Version (`v2`), Content-Type; the signed string is `BITSTAMP <key>` + HTTP verb + host + path + query +
    content type + nonce + timestamp + `v2` + body, HMAC-SHA256 with the secret, hex (the Python example is lower
    case, the Java one upper case: both are accepted). "If the request body is empty, the Content-Type header has
    to be removed both from the headers and from the signature."
  - The answer is signed too: X-Server-Auth-Signature = hex HMAC-SHA256(secret, nonce + timestamp + the answer's
    Content-Type + the answer's body); the documented examples check it on HTTP 200.
  - Authentication errors API0001..API0021 (table below): API0004 "Invalid nonce" = "must be different than last
    nonce used in the last 150 seconds"; API0017 = timestamp "not within 150 second timeframe"; API0020
    "Content-Type header should not be present".
  - Response codes `response_code` 400.001..500.023 (400.002 rate limit, 403.004 trading blocked, 404.002 order not
    found, 500.016 matching-engine timeout, 500.019 error at cancelling).
  - "Request limits": 400 requests per second; a default threshold of 10,000 requests per 10 minutes. No
    Retry-After header is documented.
  - POST /api/v2/cancel_order/ (form `id`): errors "Invalid id POST param." ("must be a positive integer"),
    "Order not found" ("Order might already be filled or canceled. Please check order status."), "Order
    cancellation failed due to internal error. Please try again.", "Order cancelattion failed due to trade halt."
    (sic). The answer is the cancelled order: {id, amount, price, type, market}.
  - POST /api/v2/order_status/ (form `id`): "For closed orders, this call only returns information for the last 30
    days. 'Order not found' error will be returned for orders outside this time range." Errors "Invalid order id",
    "Order not found.". Statuses Open, Finished, Expired, Canceled (ccxt also knows "In Queue", "Cancel pending").
- ccxt 4.5.90 python/ccxt/bitstamp.py: `sign()` signs `url.replace('https://', '')` (host + path + query) and, for
  an empty private POST, sends the dummy body `foo=bar` (ccxt#6846: an empty body with a Content-Type gave
  API0020); `exceptions['exact']` gives the strings below ('Order not found.' → OrderNotFound, 'Invalid nonce' →
  InvalidNonce, 'Your account is frozen' → PermissionDenied, …); `handle_errors` reads `status: "error"` or `error`
  whatever the HTTP status, so errors inside HTTP 200 are possible.
- JKorf/Bitstamp.Net (BitstampRestMessageHandler.cs): errors are `{"status":"error","reason":…,"code"|
  "response_code":…}` or `{"error":…}`, checked on successful HTTP answers too.
- bitstampclient 2.2.10 (PyPI) signs with the legacy v1 scheme (nonce + customer id + key in the body), not the v2
  headers, so it cannot drive the simulator: ccxt is the only oracle.
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://www.bitstamp.net"

CANCEL_PATH = "/api/v2/cancel_order/"
ORDER_STATUS_PATH = "/api/v2/order_status/"
# Every open order of the account, all markets, no paging (ccxt 4.5 bitstamp: `open_orders/all/`, fetchOpenOrders).
# Bitstamp documents no list of closed orders: `user_transactions/` lists trades (fills, deposits, withdrawals), not
# orders, and misses orders cancelled unfilled; `order_status/` answers one id at a time (closed orders: 30 days).
# ccxt's endpoint table also names `order_data/` and `account_order_data/`, whose parameters and bodies were not
# found on any page reached, so ordergate lists open orders only and says so.
OPEN_ORDERS_PATH = "/api/v2/open_orders/all/"
# The cheapest authenticated read (an empty POST). A key without the balance permission still proves key and
# signature: Bitstamp answers API0003 only after authenticating the request.
VERIFY_PATH = "/api/v2/account_balances/"

FORM = "application/x-www-form-urlencoded"
AUTH_VERSION = "v2"
WINDOW_MS = 150_000  # timestamp window, and how long a nonce may not repeat (per key)

HEADER_AUTH = "X-Auth"
HEADER_SIGNATURE = "X-Auth-Signature"
HEADER_NONCE = "X-Auth-Nonce"
HEADER_TIMESTAMP = "X-Auth-Timestamp"
HEADER_VERSION = "X-Auth-Version"
HEADER_SERVER_SIGNATURE = "X-Server-Auth-Signature"

# Bitstamp order ids are positive integers ("Id parameter must be a positive integer"), e.g. 1453282316578816;
# at most 19 digits (a signed 64-bit integer).
ORDER_ID_SHAPE = (r"[1-9][0-9]{0,18}", "1453282316578816")


class Ambiguous(StrEnum):
    """Answers whose meaning depends on the call that got them."""

    unknownOrder = "unknownOrder"  # cancel: look the order up (filled and cancelled orders say the same)
    outcomeUnknown = "outcomeUnknown"  # the engine timed out: the cancel may or may not have happened


# `code` of the authentication errors (API00xx) → meaning.
AUTH_CODES: dict[str, ErrorType] = {
    "API0001": ErrorType.institutionAuthFailed,  # API key not found
    "API0002": ErrorType.institutionPermissionDenied,  # IP address not allowed
    "API0003": ErrorType.institutionPermissionDenied,  # No permission found (for this endpoint)
    "API0004": ErrorType.institutionAuthFailed,  # Invalid nonce (reused within 150 s)
    "API0005": ErrorType.institutionAuthFailed,  # Invalid signature
    "API0006": ErrorType.institutionLocked,  # Your account is frozen
    "API0008": ErrorType.institutionAuthFailed,  # Authentication failed
    "API0009": ErrorType.institutionRestricted,  # FATCA information missing: a legal requirement, not the key
    "API0010": ErrorType.institutionAuthFailed,  # Invalid version
    "API0011": ErrorType.institutionAuthFailed,  # Wrong API key format
    "API0012": ErrorType.institutionAuthFailed,  # X-Auth header is required
    "API0013": ErrorType.institutionAuthFailed,  # X-Auth-Signature header is required
    "API0014": ErrorType.institutionAuthFailed,  # X-Auth-Nonce header is required
    "API0015": ErrorType.institutionAuthFailed,  # X-Auth-Timestamp header is required
    "API0016": ErrorType.institutionAuthFailed,  # X-Auth-Version header is required
    "API0017": ErrorType.institutionAuthFailed,  # X-Auth-Timestamp header is out of boundaries (150 s)
    "API0018": ErrorType.institutionAuthFailed,  # X-Auth-Timestamp header is invalid
    "API0019": ErrorType.institutionRejected,  # Content-Type header is not accepted
    "API0020": ErrorType.institutionRejected,  # Content-Type header should not be present
    "API0021": ErrorType.institutionRejected,  # url query string too long
}

# `response_code` → meaning; unknown codes fall back on their class (the part before the dot).
RESPONSE_CODES: dict[str, ErrorType | Ambiguous] = {
    "400.002": ErrorType.rateLimited,  # Request rejected due to exceeded rate limit.
    "400.003": ErrorType.institutionUnavailable,  # Trading for provided market is disabled.
    "400.035": ErrorType.institutionRejected,  # POST parameter(s) is missing from request: id.
    "400.036": ErrorType.institutionRejected,  # POST parameter(s) is malformed: id.
    "403.001": ErrorType.institutionPermissionDenied,  # User verification failed.
    "403.004": ErrorType.institutionLocked,  # Trading is blocked for user.
    "404.002": Ambiguous.unknownOrder,  # Order not found for corresponding request.
    "404.004": ErrorType.institutionAuthFailed,  # Trade account not found for provided API key.
    "500.016": Ambiguous.outcomeUnknown,  # Timeout on matching engine.
}
RESPONSE_CLASSES: dict[str, ErrorType] = {
    "400": ErrorType.institutionRejected,
    "403": ErrorType.institutionPermissionDenied,
    "404": ErrorType.institutionRejected,
    "405": ErrorType.institutionRejected,
    "410": ErrorType.institutionRejected,
    "500": ErrorType.institutionUnavailable,
}

# `reason` / `error` texts (exact, as ccxt and the docs quote them) for answers without a code.
REASONS: dict[str, ErrorType | Ambiguous] = {
    "Order not found": Ambiguous.unknownOrder,  # cancel_order
    "Order not found.": Ambiguous.unknownOrder,  # order_status (ccxt's exact string)
    "Invalid order id": ErrorType.institutionRejected,
    "Invalid id POST param.": ErrorType.institutionRejected,
    "Missing id POST param.": ErrorType.institutionRejected,
    "API key not found": ErrorType.institutionAuthFailed,
    "Invalid signature": ErrorType.institutionAuthFailed,
    "Invalid nonce": ErrorType.institutionAuthFailed,
    "Authentication failed": ErrorType.institutionAuthFailed,
    "Missing key, signature and nonce parameters": ErrorType.institutionAuthFailed,
    "Wrong API key format": ErrorType.institutionAuthFailed,
    "No permission found": ErrorType.institutionPermissionDenied,
    "IP address not allowed": ErrorType.institutionPermissionDenied,
    "Your account is frozen": ErrorType.institutionLocked,
    "Trading is currently unavailable for your account.": ErrorType.institutionLocked,
    "Please update your profile with your FATCA information, before using API.": ErrorType.institutionRestricted,
    "Order cancellation failed due to internal error. Please try again.": ErrorType.institutionUnavailable,
    "Order cancelattion failed due to trade halt.": ErrorType.institutionUnavailable,
    "Bitstamp.net is under scheduled maintenance. We'll be back soon.": ErrorType.institutionUnavailable,
}

# No Retry-After is documented. ordergate's key budget keeps its own traffic inside the 10-minute threshold, so a
# rate-limit answer is the per-second limit (or another program on the key): one second.
RATE_LIMIT_RETRY_AFTER_S = 1

# order_status `status` → Mesh; an open order with fills is partiallyFilled.
STATUS_MAP: dict[str, OrderStatus] = {
    "Open": OrderStatus.inProgress,
    "In Queue": OrderStatus.inProgress,
    "Cancel pending": OrderStatus.inProgress,  # not final: a fill can still win
    "Finished": OrderStatus.success,
    "Canceled": OrderStatus.cancelled,
    "Expired": OrderStatus.expired,
}
LIVE_STATUSES = frozenset({"Open", "In Queue", "Cancel pending"})

# `type` on orders: 0 = buy, 1 = sell.
SIDES = {"0": "buy", "1": "sell"}
