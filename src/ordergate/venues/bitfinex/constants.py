"""Bitfinex REST v2 facts as data: where to call, what each error means, how long to back off.

Sources, checked for this adapter (the reference notes tagged some of this unverified):
- bitfinex-api-py 4.0.0 (official SDK), bfxapi/rest/_interface/middleware.py: headers bfx-nonce, bfx-signature,
  bfx-apikey; signature = hex HMAC-SHA384(secret, "/api/v2/" + endpoint + nonce + body), the body part left out
  when there is none; nonce = microseconds (`round(datetime.now().timestamp() * 1_000_000)`); errors are the list
  `["error", code, text]` with ERR_UNK 10000, ERR_GENERIC 10001, ERR_PARAMS 10020, ERR_AUTH_FAIL 10100.
- bitfinex-api-py rest_auth_endpoints.py: cancel_order POSTs auth/w/order/cancel {"id"} (or cid + cid_date);
  get_orders POSTs auth/r/orders {"id": [..]}; get_orders_history POSTs auth/r/orders/hist {"id": [..]}.
  types/serializers.py: the 32-field order array (ID 0, CID 2, SYMBOL 3, MTS_CREATE 4, MTS_UPDATE 5, AMOUNT 6 =
  remaining and signed, AMOUNT_ORIG 7, ORDER_TYPE 8, MTS_TIF 10, FLAGS 12, ORDER_STATUS 13, PRICE 16,
  PRICE_AVG 17); types/notification.py: notifications are [MTS, TYPE, MESSAGE_ID, _, DATA, CODE, STATUS, TEXT].
- ccxt 4.5.90 python/ccxt/bitfinex.py: sign() (same recipe, millisecond nonces through incrementing_nonce),
  handle_errors() (HTTP 500 carries `["error", code, text]`; "Order not found" → OrderNotFound; 10001 also
  "api_key: permission invalid" → PermissionDenied; 10100 auth; 10114 nonce; 11010 rate limit; 20060
  maintenance; HTTP 429 → rate limit), parse_order_status() (first word: ACTIVE, PARTIALLY, EXECUTED, CANCELED,
  INSUFFICIENT, RSN_DUST, RSN_PAUSE, ...), cancel_order() (`{"id": int(id)}`, answer index 4 is the order).
- docs.bitfinex.com (copies in rosssaunders/coincise docs/bitfinex/): rest-auth-cancel-order (notification
  "oc-req", 90 requests/min), rest-auth-orders-history ("closed/cancelled orders up to 2 weeks in the past"),
  key-permissions (POST /v2/auth/r/permissions → [[scope, read, write], ...]), abbreviations-glossary (error codes
  10000-20061 and order statuses "EXECUTED @ PRICE(AMOUNT)", "PARTIALLY FILLED @ ...", "CANCELED was: PARTIALLY
  FILLED @ ...", "INSUFFICIENT MARGIN was: ...", RSN_DUST, RSN_PAUSE), requirements-and-limitations ("10 to 90
  requests per minute" per endpoint; an IP over the limit "will be blocked for 10-60 seconds").
- Issue threads: ohenrik/bitfinex#18 shows `(500, 'Internal Server Error', ['error', 10114, 'nonce: small'])`;
  Bitfinex tools in public code match "apikey: invalid" and "apikey: digest invalid" (bad signature) as auth errors.
Not found anywhere: a sandbox host (Bitfinex offers paper-trading sub-accounts on production), a Retry-After
header, a documented ban or regional-block answer.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://api.bitfinex.com"

CANCEL_PATH = "/v2/auth/w/order/cancel"
ORDERS_PATH = "/v2/auth/r/orders"  # active orders
HISTORY_PATH = "/v2/auth/r/orders/hist"  # closed and cancelled orders, two weeks back
# /hist body: `start`, `end` (ms), `limit` (default 25, max 2500: ccxt 4.5 fetchClosedOrders, "default 25, max 2500";
# bitfinex-api-py 3 get_orders_history sends {"id", "start", "end", "limit"}), newest first. Which MTS `start`/`end`
# bound is not stated on the pages reached; the simulator bounds MTS_UPDATE, the order the list is sorted in.
HISTORY_MAX_LIMIT = 2500
# Any key can read its own permissions, and the answer says whether it may write orders.
VERIFY_PATH = "/v2/auth/r/permissions"
# The signature covers the path as Bitfinex routes it internally: "/api" + the request path.
SIGNED_PREFIX = "/api"

HEADER_KEY = "bfx-apikey"
HEADER_NONCE = "bfx-nonce"
HEADER_SIGNATURE = "bfx-signature"

# Bitfinex order ids are positive integers (12 digits today, e.g. 139658969116) sent as a JSON number; 18 digits
# keeps every accepted id inside int64.
ORDER_ID_SHAPE = (r"[1-9][0-9]{0,17}", "139658969116")
ORDER_ID = re.compile(ORDER_ID_SHAPE[0])


class Ambiguous(StrEnum):
    unknownOrder = "unknownOrder"  # "Order not found.": never placed, or already executed/cancelled


# ERR_* codes from the glossary. 10001 is generic: its text decides (see `classify`).
ERROR_MAP: dict[int, ErrorType] = {
    10000: ErrorType.institutionUnavailable,  # ERR_UNK "Unknown error"
    10001: ErrorType.institutionRejected,  # ERR_GENERIC, e.g. "Invalid order: not enough exchange balance"
    10008: ErrorType.institutionUnavailable,  # ERR_CONCURRENCY
    10020: ErrorType.institutionRejected,  # ERR_PARAMS, e.g. "id: invalid"
    10050: ErrorType.institutionUnavailable,  # ERR_CONF_FAIL
    10100: ErrorType.institutionAuthFailed,  # ERR_AUTH_FAIL: "apikey: invalid", "apikey: digest invalid"
    10111: ErrorType.institutionAuthFailed,  # ERR_AUTH_PAYLOAD
    10112: ErrorType.institutionAuthFailed,  # ERR_AUTH_SIG
    10113: ErrorType.institutionAuthFailed,  # ERR_AUTH_HMAC
    10114: ErrorType.institutionAuthFailed,  # ERR_AUTH_NONCE "nonce: small": the key saw a larger nonce elsewhere
    11000: ErrorType.institutionUnavailable,  # ERR_READY "Not ready, try again later"
    11010: ErrorType.rateLimited,  # "ratelimit: error" (HTTP 429)
    20051: ErrorType.institutionUnavailable,  # EVT_STOP
    20060: ErrorType.institutionUnavailable,  # "maintenance"
}
NOT_FOUND_TEXT = "order not found"  # lower-cased; Bitfinex writes "Order not found."
PERMISSION_TEXT = "permission"  # "api_key: permission invalid"
# Documented: an IP over the limit is blocked for 10-60 s; Bitfinex sends no Retry-After, so the longest.
RATE_LIMIT_S = 60
# Older JSON-object answers from Bitfinex's edge (v1 style, and ccxt's "temporarily_unavailable" sample).
OBJECT_ERRORS: dict[str, ErrorType] = {
    "ERR_RATE_LIMIT": ErrorType.rateLimited,
    "temporarily_unavailable": ErrorType.institutionUnavailable,
}

# ORDER_STATUS is free text; its first words decide. A cancelled or executed order keeps its history after
# "was:" ("CANCELED was: PARTIALLY FILLED @ 100.0(0.5)"), which only the fill amounts need.
STATUS_PREFIXES: tuple[tuple[str, OrderStatus], ...] = (
    ("ACTIVE", OrderStatus.inProgress),
    ("PARTIALLY FILLED", OrderStatus.partiallyFilled),
    ("EXECUTED", OrderStatus.success),
    ("CANCELED", OrderStatus.cancelled),
    ("POSTONLY CANCELED", OrderStatus.cancelled),
    ("IOC CANCELED", OrderStatus.cancelled),
    ("FILLORKILL CANCELED", OrderStatus.cancelled),
    ("INSUFFICIENT", OrderStatus.cancelled),  # "INSUFFICIENT MARGIN/BALANCE": Bitfinex cancelled it
    ("RSN_DUST", OrderStatus.rejected),
    ("RSN_PAUSE", OrderStatus.rejected),
)

# ORDER_TYPE without its "EXCHANGE " (spot wallet) prefix → Mesh order type and time in force.
ORDER_TYPE_MAP: dict[str, tuple[str, str | None]] = {
    "LIMIT": ("limit", "goodTillCanceled"),
    "MARKET": ("market", None),
    "STOP": ("stopLoss", None),
    "STOP LIMIT": ("stopLimit", "goodTillCanceled"),
    "TRAILING STOP": ("stopLoss", None),
    "FOK": ("limit", "fillOrKill"),
    "IOC": ("limit", "immediateOrCancel"),
}


def status_of(text: str) -> OrderStatus:
    head = text.split(" was:")[0].split(" @")[0].strip().upper()
    return next((status for prefix, status in STATUS_PREFIXES if head == prefix), OrderStatus.unknown)


def split_symbol(symbol: str) -> tuple[str | None, str | None]:
    """`tBTCUSD` → (BTC, USD); `tTESTBTC:TESTUSD` → (TESTBTC, TESTUSD); anything else → (None, None)."""
    if not symbol.startswith("t"):
        return None, None
    pair = symbol[1:]
    if ":" in pair:
        base, _, quote = pair.partition(":")
        return (base, quote) if base and quote else (None, None)
    return (pair[:3], pair[3:]) if len(pair) == 6 else (None, None)
