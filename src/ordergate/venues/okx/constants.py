"""OKX v5 REST facts as data: where to call, what each answer code means, how long to back off.

Sources (checked for this module; see the report that introduced it):
- okx.com/docs-v5/en/#overview-rest-authentication: `OK-ACCESS-KEY/-SIGN/-TIMESTAMP/-PASSPHRASE`, SIGN =
  Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)), GET parameters count as requestPath,
  timestamp ISO-8601 UTC with milliseconds; demo trading = the same REST host plus `x-simulated-trading: 1`.
- #order-book-trading-trade-post-cancel-order: `POST /api/v5/trade/cancel-order {"instId", "ordId"|"clOrdId"}`;
  "Cancel order returns with sCode equal to 0. It is not strictly considered that the order has been canceled.
  It only means that your cancellation request has been accepted by the system server."
- #order-book-trading-trade-get-order-details: `GET /api/v5/trade/order?instId=&ordId=`, `state` live /
  partially_filled / filled / canceled / mmp_canceled.
- #error-code-rest-api-public: every code below with its HTTP status (most are HTTP 200 with the code in the
  body; 50011 comes both as 200 and as 429 "Too Many Requests").
- Rate limits are windows of 2 seconds ("60 requests per 2 seconds" for cancel-order); OKX sends no
  Retry-After or rate-limit headers, so the window length is what a client is told to wait.
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

PRODUCTION_URL = "https://www.okx.com"
# Okcoin USA moved its accounts to OKX US (May 2025) and okcoin.com no longer serves the API; OKX US speaks the
# same v5 protocol at this host (ccxt's `okxus`).
OKX_US_URL = "https://us.okx.com"

CANCEL_PATH = "/api/v5/trade/cancel-order"
# okx.com/docs-v5/en/#order-book-trading-trade-post-cancel-multiple-orders ("Cancel multiple orders"; ccxt okx
# cancel_orders → privatePostTradeCancelBatchOrders, python-okx Trade.cancel_multiple_orders, checked): a JSON array
# of `{"instId", "ordId"}`, "A maximum of 20 orders can be canceled per request"; the answer's `data` has one item
# per order, in request order, each with its own sCode/sMsg; `code` is "0" (all), "2" (some, "Bulk operation
# partially succeeded") or "1" (none, "All operations failed"). Its rate limit counts orders (300 per 2 s per key),
# which ordergate's per-request budget of 60/2 s stays well inside.
CANCEL_BATCH_PATH = "/api/v5/trade/cancel-batch-orders"
CANCEL_BATCH_MAX = 20
ORDER_PATH = "/api/v5/trade/order"  # GET: order details; POST: place (the simulator serves both)
# Read permission, 5 requests / 2 s, returns the account's uid and the key's permissions: the cheapest call that
# proves key, secret and passphrase together.
VERIFY_PATH = "/api/v5/account/config"
TIME_PATH = "/api/v5/public/time"
# Listing (Mesh /transactions/list), okx.com/docs-v5/en/#order-book-trading-trade-get-order-list and
# #order-book-trading-trade-get-order-history-last-7-days: both take instType (required for history; SPOT here),
# instId, state, `after` ("return records earlier than the requested ordId"), `limit` (max 100, default 100) and
# answer newest first. orders-pending holds live and partially_filled orders; orders-history holds the last 7 days'
# filled and canceled ones (state: filled | canceled | mmp_canceled), with `begin` filtering on cTime (ms). Older
# history (orders-history-archive, 3 months) is not read: a listing reaches back 7 days.
PENDING_PATH = "/api/v5/trade/orders-pending"
HISTORY_PATH = "/api/v5/trade/orders-history"
LIST_INST_TYPE = "SPOT"
LIST_LIMIT_MAX = 100

JSON_CONTENT_TYPE = "application/json"
DEMO_HEADER = "x-simulated-trading"

# OKX's answer to a cancel of an order that is filled, cancelled or unknown (one code for all three).
CANCEL_FAILED_MSG = "Order cancellation failed as the order has been filled, canceled or does not exist."
ORDER_NOT_FOUND_MSG = "Order does not exist."


class Ambiguous(StrEnum):
    """Codes whose meaning depends on the call that got them, resolved by the adapter."""

    unknownOrder = "unknownOrder"  # cancel: look the order up; lookup: no such order
    outcomeUnknown = "outcomeUnknown"  # "does not mean that the request was successful or failed"
    blocked = "blocked"  # 51024 covers both frozen accounts and regional bans; the message tells which


ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    # General class
    "50000": ErrorType.institutionRejected,  # body for POST cannot be empty
    "50001": ErrorType.institutionUnavailable,  # HTTP 503 service temporarily unavailable
    "50002": ErrorType.institutionRejected,  # JSON syntax error
    "50004": Ambiguous.outcomeUnknown,  # endpoint request timeout, outcome unknown
    "50005": ErrorType.institutionUnavailable,  # HTTP 410 endpoint inactive
    "50006": ErrorType.institutionRejected,  # invalid Content-Type
    "50007": ErrorType.institutionLocked,  # user blocked
    "50008": ErrorType.institutionAuthFailed,  # user doesn't exist
    "50009": ErrorType.institutionLocked,  # account frozen due to stop-out
    "50011": ErrorType.rateLimited,  # rate limit reached (HTTP 200 or 429)
    "50013": ErrorType.institutionUnavailable,  # HTTP 429 "systems are busy": the venue's load, not ours
    "50014": ErrorType.institutionRejected,  # parameter can not be empty
    "50015": ErrorType.institutionRejected,
    "50026": ErrorType.institutionUnavailable,  # HTTP 500 system error
    "50027": ErrorType.institutionLocked,  # account restricted from trading, contact support
    "50029": ErrorType.institutionLocked,  # risk control, temporarily restricted
    "50030": ErrorType.institutionPermissionDenied,  # no permission to use this endpoint
    "50035": ErrorType.institutionPermissionDenied,  # HTTP 403 endpoint requires an IP-bound key
    "50038": ErrorType.institutionRejected,  # unavailable in demo trading
    "50040": ErrorType.rateLimited,  # too frequent operations
    "50051": ErrorType.institutionRestricted,  # compliance restrictions in your country or region
    "50052": ErrorType.institutionRestricted,  # local laws and regulations
    "50059": ErrorType.institutionRestricted,  # steps required by local regulators
    "50060": ErrorType.institutionRestricted,  # identity verification required by local law
    "50061": ErrorType.rateLimited,  # account order rate limit
    # API class
    "50100": ErrorType.institutionLocked,  # API frozen, contact customer service
    "50101": ErrorType.institutionAuthFailed,  # key does not match the environment (demo vs live)
    "50102": ErrorType.institutionAuthFailed,  # timestamp request expired
    "50103": ErrorType.institutionAuthFailed,
    "50104": ErrorType.institutionAuthFailed,
    "50105": ErrorType.institutionAuthFailed,  # passphrase incorrect
    "50106": ErrorType.institutionAuthFailed,
    "50107": ErrorType.institutionAuthFailed,
    "50110": ErrorType.institutionAuthFailed,  # IP not in the key's whitelist
    "50111": ErrorType.institutionAuthFailed,  # invalid OK-ACCESS-KEY
    "50112": ErrorType.institutionAuthFailed,  # invalid OK-ACCESS-TIMESTAMP
    "50113": ErrorType.institutionAuthFailed,  # invalid signature
    "50114": ErrorType.institutionAuthFailed,  # invalid authorization
    "50119": ErrorType.institutionAuthFailed,  # API key doesn't exist (also: key used on another region's host)
    "50120": ErrorType.institutionPermissionDenied,  # key lacks the permission for this function
    "50121": ErrorType.institutionRestricted,  # no access from this IP address (regional block)
    # Trade class
    "51000": ErrorType.institutionRejected,  # parameter error
    "51001": ErrorType.institutionRejected,  # instrument ID doesn't exist
    "51024": Ambiguous.blocked,
    "51054": Ambiguous.outcomeUnknown,  # HTTP 500 request timed out
    "51113": ErrorType.rateLimited,
    "51149": Ambiguous.outcomeUnknown,  # order timed out, does not mean success or failure
    "51155": ErrorType.institutionRestricted,  # pair restricted by local compliance requirements
    "51400": Ambiguous.unknownOrder,  # filled, canceled or does not exist
    "51401": Ambiguous.unknownOrder,  # already canceled
    "51402": Ambiguous.unknownOrder,  # already completed
    "51403": ErrorType.institutionRejected,  # order type doesn't support cancellation
    "51404": ErrorType.institutionUnavailable,  # not during the second phase of a call auction
    "51410": Ambiguous.unknownOrder,  # already canceling or pending settlement
    "51412": Ambiguous.outcomeUnknown,  # cancellation timed out
    "51413": ErrorType.institutionRejected,  # order type not supported by this endpoint
    "51416": ErrorType.institutionRejected,  # triggered, can't be canceled
    "51603": Ambiguous.unknownOrder,  # order does not exist
    "54048": ErrorType.institutionUnavailable,  # order in speed bump, try again
}

# OKX sends no Retry-After: these are the documented windows (rate limits count per 2 seconds).
RETRY_AFTER_S: dict[str, int] = {"50011": 2, "50040": 2, "50061": 2, "51113": 2}
RATE_LIMIT_WINDOW_S = 2

# What OKX says for each code, and with which HTTP status (docs' error table); the simulator answers with these.
CODE_INFO: dict[str, tuple[int, str]] = {
    "50000": (400, "Body for POST request cannot be empty."),
    "50001": (503, "Service temporarily unavailable. Please try again later."),
    "50002": (400, "JSON syntax error"),
    "50004": (400, "API endpoint request timeout. (does not mean that the request was successful or failed)"),
    "50011": (429, "Too Many Requests"),
    "50013": (429, "Systems are busy. Please try again later."),
    "50014": (400, "Parameter {0} can not be empty."),
    "50026": (500, "System error. Try again later"),
    "50100": (400, "API frozen, please contact customer service."),
    "50101": (401, "APIKey does not match current environment."),
    "50102": (401, "Timestamp request expired."),
    "50103": (401, 'Request header "OK-ACCESS-KEY" cannot be empty.'),
    "50104": (401, 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.'),
    "50105": (401, 'Request header "OK-ACCESS-PASSPHRASE" incorrect.'),
    "50106": (401, 'Request header "OK-ACCESS-SIGN" cannot be empty.'),
    "50107": (401, 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.'),
    "50110": (401, "Your IP is not included in your API key's IP whitelist."),
    "50111": (401, "Invalid OK-ACCESS-KEY."),
    "50112": (401, "Invalid OK-ACCESS-TIMESTAMP."),
    "50113": (401, "Invalid signature."),
    "50114": (401, "Invalid authorization."),
    "50119": (200, "API key doesn't exist"),
    "50120": (200, "This API key doesn't have permission to use this function"),
    "50121": (200, "You can't access our services through the IP address"),
    "51000": (400, "Parameter {0} error"),
    "51001": (200, "Instrument ID, Instrument ID code or Spread ID doesn't exist."),
    "51003": (200, "Either client order ID or order ID is required."),
    "51155": (200, "Trading of this pair or contract is restricted due to local compliance requirements."),
    "51400": (200, CANCEL_FAILED_MSG),
    "51603": (200, ORDER_NOT_FOUND_MSG),
}

STATUS_MAP: dict[str, OrderStatus] = {
    "live": OrderStatus.inProgress,
    "partially_filled": OrderStatus.partiallyFilled,
    "filled": OrderStatus.success,
    "canceled": OrderStatus.cancelled,
    "mmp_canceled": OrderStatus.cancelled,
}
LIVE_STATES = frozenset({"live", "partially_filled"})

# OKX `ordType` → Mesh BrokerOrderPlaceType; time in force is folded into OKX's order type.
ORDER_TYPE_MAP: dict[str, str] = {
    "market": "market",
    "limit": "limit",
    "post_only": "limit",
    "fok": "limit",
    "ioc": "limit",
    "optimal_limit_ioc": "market",
}
TIME_IN_FORCE_MAP: dict[str, str] = {
    "limit": "goodTillCanceled",
    "post_only": "postOnly",
    "fok": "fillOrKill",
    "ioc": "immediateOrCancel",
    "optimal_limit_ioc": "immediateOrCancel",
}

# Quote currencies of OKX spot books, for reading `BTCUSDT`-style pairs. No entry is a suffix of another, so a
# pair matches at most one; anything else must be sent as `BASE-QUOTE` or `BASE/QUOTE`.
KNOWN_QUOTES: tuple[str, ...] = (
    "USDT", "USDC", "USD", "EUR", "GBP", "TRY", "BRL", "AED", "AUD", "SGD", "BTC", "ETH", "OKB", "DAI",
)  # fmt: skip

# OKX ordId is a decimal string (18-19 digits today).
ORDER_ID_SHAPE = OrderIdShape(r"[0-9]{1,24}", "590908157585625111")
