"""bitFlyer Lightning HTTP API facts as data: where to call, what each answer means, how long to back off.

Sources, and what was checked against them for this module (the reference notes tagged some of it unverified):
- lightning.bitflyer.com/docs?lang=en ("HTTP API", "API Limits", "Authentication", "Cancel Order", "List Orders"):
  one host, https://api.bitflyer.com/v1/, for the JP, US and EU regions; ACCESS-SIGN = hex HMAC-SHA256(secret,
  ACCESS-TIMESTAMP + HTTP method + request path (with its query) + request body); cancel = POST
  /v1/me/cancelchildorder {product_code, child_order_id | child_order_acceptance_id}, "If the parameters are correct,
  the status code will show 200 OK" (no body); child_order_state ACTIVE, COMPLETED, CANCELED, EXPIRED, REJECTED.
  Limits: "Private APIs 500 queries per 5 minutes", "Same IP Address 500 queries per 5 minutes"; "When exceeding an
  API limit, future API requests will be blocked temporarily. After being blocked, the maximum request limit will be
  temporarily decreased." No sandbox.
- ccxt 4.5.90 python/ccxt/bitflyer.py: `sign()` signs nonce (Unix seconds) + method + '/v1/me/' + path (+ '?' +
  urlencode(params) for GET) + compact JSON body; `cancel_order` raises ArgumentsRequired without a symbol and sends
  child_order_acceptance_id; ids look like "JOR20150707-060559-021935" (child_order_id) and
  "JRF20150707-060559-396699" (child_order_acceptance_id); `handle_errors` reads {"status": n, "error_message": …,
  "data": null} and maps only -2 ("Under maintenance") to OnMaintenance.
- pybitflyer 0.1.9 (yagays/pybitflyer): timestamp is str(time.time()) (a float), GET signs "?" + urlencode(params),
  an empty cancel answer is returned as "". BitFlyerDotNet (fiatsasia) signs an ISO date string as ACCESS-TIMESTAMP
  and queries getchildorders by child_order_id, child_order_acceptance_id or parent_order_id. So bitFlyer treats
  the timestamp as opaque signed text (no documented freshness window) and both ids work as lookup filters.
- Error bodies seen in public code: HTTP 401 {"status":-500,"error_message":"Invalid signature"} (ccxt#1911), HTTP
  401 -500 "ACCESS-KEY header is required" (a Go client's tests), HTTP 400 -100 "Invalid product" (a probe of
  api.bitflyer.com, which also saw x-ratelimit-period / -remaining / -reset headers and no Retry-After, and product
  codes matched case-insensitively), -1 "Over API limit per minute", -208 "Order is not accepted. Please try again
  later.", -508 "Your ordering has been limited due to submitting an irregular number of orders." (bot code).
- Not found anywhere public, so chosen and marked here: what a key without cancel permission gets (we read any
  HTTP 403 as a permission refusal), the HTTP status of the -1 and -2 answers (the code decides, whatever the
  status), and whether an unknown id also gets 200 on cancel (the issue says so; the adapter never relies on the
  cancel's answer to learn the order's state, see adapter.py).
"""

from __future__ import annotations

import re

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://api.bitflyer.com"

CANCEL_PATH = "/v1/me/cancelchildorder"
ORDERS_PATH = "/v1/me/getchildorders"
# The cheapest authenticated read, and it lists the endpoints the key may call, cancel included.
VERIFY_PATH = "/v1/me/getpermissions"

HEADER_KEY = "ACCESS-KEY"
HEADER_TIMESTAMP = "ACCESS-TIMESTAMP"
HEADER_SIGN = "ACCESS-SIGN"
HEADER_RATE_PERIOD = "x-ratelimit-period"  # seconds until the current window resets

# Child order ids ("JOR" + date-time + 6 digits) and acceptance ids ("JRF" + …), the two ids a cancel may name. The
# prefix decides which field carries the id. Used with fullmatch; an example of each is in the sources above.
ORDER_ID_SHAPE = (r"J(?:OR|RF)\d{8}-\d{6}-\d{6}", "JRF20150707-060559-396699")
CHILD_ORDER_PREFIX = "JOR"
ACCEPTANCE_PREFIX = "JRF"

# product_code: BTC_JPY, ETH_BTC, FX_BTC_JPY, futures like BTCJPY27MAR2026 or aliases like BTCJPY_MAT1WK.
PRODUCT_CODE = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+){0,3}")

# Seconds to wait after a limit answer that carries neither Retry-After nor x-ratelimit-period: the documented window.
RATE_WINDOW_S = 300
# -508 ("ordering has been limited"): the docs' only stated penalty duration is one hour of a decreased limit.
ORDERING_LIMITED_S = 3600


class Ambiguous:
    """Codes whose meaning depends on the HTTP status they came with; the adapter resolves them."""

    auth = "auth"  # -500: the key, timestamp or signature was refused (401) or the key may not call this (403)


ERROR_MAP: dict[int, ErrorType | str] = {
    -1: ErrorType.rateLimited,  # "Over API limit per minute"
    -2: ErrorType.institutionUnavailable,  # "Under maintenance" (ccxt: OnMaintenance)
    -100: ErrorType.institutionRejected,  # "Invalid product"
    -208: ErrorType.institutionUnavailable,  # "Order is not accepted. Please try again later."
    -500: Ambiguous.auth,
    -508: ErrorType.institutionLocked,  # "Your ordering has been limited due to submitting an irregular number …"
}
# Codes not listed above, by the HTTP status they came with.
ERROR_BY_STATUS: dict[int, ErrorType] = {
    400: ErrorType.institutionRejected,
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    404: ErrorType.institutionRejected,
    429: ErrorType.rateLimited,
}

ACTIVE = "ACTIVE"
# COMPLETED means nothing is left to execute; the adapter reads one with executed_size 0 as cancelled (nothing was
# bought or sold, so "success" would describe a fill that never happened). ACTIVE with a fill is partiallyFilled.
STATUS_MAP: dict[str, OrderStatus] = {
    "ACTIVE": OrderStatus.inProgress,
    "COMPLETED": OrderStatus.success,
    "CANCELED": OrderStatus.cancelled,  # executed_size keeps any partial fill
    "EXPIRED": OrderStatus.expired,
    "REJECTED": OrderStatus.rejected,
}

# Listing (docs "List Orders": GET /v1/me/getchildorders with product_code, child_order_state, count, before, after;
# newest first; `before`/`after` compare the numeric `id` field; no start-time parameter, so `from` is a filter).
# Which child_order_state answers each Mesh status, for the server-side filter; a set of statuses that needs more than
# one state is filtered here instead. No maximum `count` is documented: LIST_MAX_COUNT is Mesh's page bound plus the
# one extra row that tells whether another page exists.
LISTING_STATES: dict[str, frozenset[OrderStatus]] = {
    "ACTIVE": frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled}),
    "COMPLETED": frozenset({OrderStatus.success}),
    "CANCELED": frozenset({OrderStatus.cancelled}),
    "EXPIRED": frozenset({OrderStatus.expired}),
    "REJECTED": frozenset({OrderStatus.rejected}),
}
LIST_MAX_COUNT = 251

ORDER_TYPE_MAP: dict[str, str] = {"LIMIT": "limit", "MARKET": "market"}
TIME_IN_FORCE_MAP: dict[str, str] = {"GTC": "goodTillCanceled", "IOC": "immediateOrCancel", "FOK": "fillOrKill"}


def normalize_product(pair: str) -> str | None:
    """`BTC_JPY`, `BTC/JPY`, `btc-jpy` → `BTC_JPY`; None for anything that cannot be a product code."""
    code = pair.strip().upper().replace("/", "_").replace("-", "_")
    return code if len(code) <= 32 and PRODUCT_CODE.fullmatch(code) else None


def split_product(code: str) -> tuple[str | None, str | None]:
    """`BTC_JPY` → (BTC, JPY); `FX_BTC_JPY` → (BTC, JPY); futures codes → (None, None)."""
    parts = code.removeprefix("FX_").split("_")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, None)
