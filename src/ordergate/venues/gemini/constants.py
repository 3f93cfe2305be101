"""Gemini exchange REST facts as data: where to call, what each answer means, how long to back off.

Sources (checked for this module):
- developer.gemini.com/trading/rest-api/orders/cancel-order: `POST /v1/order/cancel`, payload
  `{"request": "/v1/order/cancel", "nonce": …, "order_id": 106817811}` (an integer id), Trader role. "If the order
  is already canceled, the message will succeed but have no effect"; the response is the Order Status fields, and
  for an already-cancelled order `is_cancelled` is true. The same page lists the exchange's own cancel reasons
  (MakerOrCancelWouldTake, ExceedsPriceLimits, SelfCrossPrevented, ImmediateOrCancelWouldPost, …): a cancel by the
  user carries reason `Requested` (ccxt's sample response).
- docs.gemini.com/websocket/overview/requests/private-api (the shared "Private API Invocation" page): payload is
  base64 JSON in `X-GEMINI-PAYLOAD`, `X-GEMINI-SIGNATURE` = hex(HMAC_SHA384(base64(payload), key=api_secret)), the
  hash is taken "on the base64 string directly"; `Content-Length: 0`, `Content-Type: text/plain`; the nonce "need
  only be increasing with respect to the session", "We recommend using a timestamp at millisecond or higher
  precision".
- developer.gemini.com/rest-api/common/admin/roles-endpoint: `POST /v1/roles` answers `isAuditor`, `isFundManager`,
  `isTrader` for the key; the nonce may be seconds or milliseconds ("Gemini strongly recommends milliseconds").
- docs.gemini.com/roles: a key without the needed role gets 403 with reason `MissingRole`; Trader may place, cancel
  and check orders, Auditor may check orders only.
- docs.gemini.com/rate-limit: private entry points 600 requests per minute (10/s), a burst of five more requests is
  queued, then 429 "until your request rate drops back under the required limit". No Retry-After is documented.
- ccxt 4.5.90 python/ccxt/gemini.py (read for this module): `sign()` builds `{"request": path, "nonce": str, …}`,
  `json()` → base64 → hex HMAC-SHA384 with the raw secret; headers `Content-Type: text/plain`, `X-GEMINI-APIKEY`,
  `-PAYLOAD`, `-SIGNATURE`; it repeats the params as a JSON body (Gemini reads the header). It refuses keys without
  "account" in them (master keys need an `account` field). `handle_errors` reads `{"result": "error", "reason",
  "message"}` and maps reasons exactly (the ERROR_MAP keys below come from its `exceptions.exact`) and HTTP statuses
  400/403/404/406/429/500/502/503 (its `httpExceptions`, from Gemini's error-code table).
- crypto-venues.md §Gemini and §2 [D]: keys created with "time-based nonce" take a nonce within ±30 s of the
  exchange's clock instead of a strictly increasing one. Not re-verified (the docs pages reached do not show the key
  setting); the roles page confirms seconds and milliseconds are both read as timestamps, so the adapter sends
  milliseconds for those keys and the simulator accepts either unit.
- developer.gemini.com/trading/rest-api/orders/list-active-orders: `POST /v1/orders` answers every live order of the
  account (all symbols, no paging), Trader or Auditor role.
- developer.gemini.com/trading/rest-api/orders/list-past-orders: `POST /v1/orders/history` answers *closed* orders
  (filled and cancelled), `limit_orders` up to 500, `timestamp` = "on or after". Its documented walk: start at
  `timestamp` 0 with `limit_orders` 500, "the list is sorted by timestamp descending", take the highest timestamp X of
  the first element and ask again with X+1, until an empty list. So Gemini pages *forward* in time: there is no
  upper bound, and the 500 orders an answer holds are the earliest at or after `timestamp` (shown newest first).
Not documented anywhere reached: the answer for cancelling a *filled* order. The adapter handles both plausible
shapes (an `OrderNotFound` error: the order is looked up; a status object with `is_live` and `is_cancelled` false:
answered from it); the simulator answers `OrderNotFound`, as Gemini's FIX session rejects cancels of filled orders.
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType

PRODUCTION_URL = "https://api.gemini.com"
SANDBOX_URL = "https://api.sandbox.gemini.com"

CANCEL_PATH = "/v1/order/cancel"
STATUS_PATH = "/v1/order/status"
# The cheapest signed call: no order or balance data, and it says which roles the key has.
VERIFY_PATH = "/v1/roles"
ACTIVE_ORDERS_PATH = "/v1/orders"
ORDER_HISTORY_PATH = "/v1/orders/history"
HISTORY_MAX_LIMIT = 500  # `limit_orders` maximum (list-past-orders)
HISTORY_DEFAULT_LIMIT = 50

CONTENT_TYPE = "text/plain"

# Gemini order ids are integers (the docs' 106817811, ccxt's 106028543717); 18 digits keeps them inside int64.
ORDER_ID_SHAPE = (r"[1-9][0-9]{0,17}", "106817811")

# How a key's nonces are made, sealed into the authToken at /authenticate (Credentials.extras["nonce"]).
NONCE_SESSION = "session"  # strictly increasing per key: sequenced per key across workers
NONCE_TIME = "time"  # "time-based nonce" keys: a timestamp within ±30 s, no ordering needed
TIME_NONCE_WINDOW_S = 30

USER_CANCEL_REASON = "Requested"  # the `reason` of an order the account itself cancelled


class Ambiguous(StrEnum):
    """Answers whose meaning depends on the call that got them."""

    unknownOrder = "unknownOrder"  # cancel: look the order up (filled orders may answer this); lookup: no such order


ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "OrderNotFound": Ambiguous.unknownOrder,
    "InvalidSignature": ErrorType.institutionAuthFailed,
    "InvalidApiKey": ErrorType.institutionAuthFailed,
    "MissingApikeyHeader": ErrorType.institutionAuthFailed,
    "MissingPayloadHeader": ErrorType.institutionAuthFailed,
    "MissingSignatureHeader": ErrorType.institutionAuthFailed,
    "InvalidNonce": ErrorType.institutionAuthFailed,  # another program uses this key with higher nonces, or skew
    "NoSSL": ErrorType.institutionAuthFailed,
    "MissingRole": ErrorType.institutionPermissionDenied,
    "RateLimit": ErrorType.rateLimited,
    "InsufficientFunds": ErrorType.institutionRejected,
    "MissingOrderField": ErrorType.institutionRejected,
    "InvalidJson": ErrorType.institutionRejected,
    "EndpointMismatch": ErrorType.institutionRejected,
    "EndpointNotFound": ErrorType.institutionRejected,
    "Maintenance": ErrorType.institutionUnavailable,
    "System": ErrorType.institutionUnavailable,
}
# When the reason is unknown, the HTTP status decides (ccxt's httpExceptions, Gemini's error-code table).
STATUS_FALLBACK: dict[int, ErrorType | Ambiguous] = {
    400: ErrorType.institutionRejected,
    403: ErrorType.institutionPermissionDenied,
    404: Ambiguous.unknownOrder,
    406: ErrorType.institutionRejected,
    429: ErrorType.rateLimited,
}

# No Retry-After is documented; at 10 requests/s one slot frees within 0.1 s, so a second is enough.
RATE_LIMIT_RETRY_AFTER_S = 1

# Gemini `type` → Mesh BrokerOrderPlaceType.
ORDER_TYPE_MAP = {
    "exchange limit": "limit",
    "exchange market": "market",
    "market buy": "market",
    "market sell": "market",
    "exchange stop limit": "stopLimit",
}
# Gemini execution `options` → Mesh BrokerOrderTimeInForceType.
TIME_IN_FORCE_MAP = {
    "immediate-or-cancel": "immediateOrCancel",
    "fill-or-kill": "fillOrKill",
    "maker-or-cancel": "postOnly",
}
