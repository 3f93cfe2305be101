"""Bitso REST v3 facts as data: where to call, what each error code means, how long to back off.

Sources, checked for this adapter (the reference notes tag Bitso [V], to verify):
- ccxt 4.5.90 python/ccxt/bitso.py: sign() — `Authorization: Bitso <key>:<nonce>:<hex HMAC-SHA256(secret,
  nonce + METHOD + "/api/v3/..." (+ query) (+ JSON body for POST/PUT))>`; GET and DELETE carry no body, their query
  is part of the signed path. handle_errors(): `{"success": false, "error": {"code", "message"}}`, code "0201"
  auth, 104 "nonce must be higher than …" (a number, older answers), "0304" bad request. cancel_order():
  DELETE orders/{oid} → `{"success": true, "payload": ["<oid>"]}`. fetch_order(): GET orders/{oid}, a payload list
  of one order, else OrderNotFound. parse_order_status(): queued, open, partially filled, completed (and cancelled).
- docs.bitso.com/bitso-api/docs/cancel-an-order: the payload lists the cancelled ids; "the service might not
  successfully cancel orders if it has filled them, has already canceled them, or the order IDs are incorrect" —
  those are simply absent, with `success: true`.
- docs.bitso.com/bitso-api/docs/look-up-orders: GET /orders/{oid} returns only open or partially filled orders;
  "a one-hour window exists" in which completed or cancelled ones are still returned. Status values: queued, open,
  partially filled, cancelled, completed.
- docs.bitso.com error categories: 01 unknown (HTTP 500); 02 authentication (HTTP 401): 0201 check your
  credentials, 0202 key not authorized for the method, 0206/0207 invalid nonce type/value, 0213 IP not allowed,
  0215 incorrect signature, 0216 account restricted; 03 validation (HTTP 400): 0303/0304 field missing/invalid,
  0312 incorrect OID (non-existent or not the user's), 0326 API key not active, 0327/0328 service unavailable for
  the requesting location/country.
- docs.bitso.com/bitso-api/docs/general-concepts: private calls 300 requests per minute per user; over the limit
  "the system locks you out for one minute"; "Order cancellations are not subject to API rate limiting" (so no
  per-key cancel budget). Continuous lockouts "might result in a 24-hour block" (no documented answer for it).
- Listing (docs.bitso.com/bitso-api/docs/list-open-orders): `GET /api/v3/open_orders` with `book` (default all),
  `currency`, `limit` (default 500), `source`; the answer is the open orders only (statuses queued, open, partially
  filled). The v3 paging parameters `marker` (an order's id: the orders older, or newer, than it), `sort` (desc by
  default) and a `limit` of at most 100 (default 25) are what ccxt 4.5.90 fetch_open_orders and the bitsor gem send;
  ordergate pages with them and asks for at most 100. Bitso publishes no list of closed orders: a completed or
  cancelled order is only found by its oid (`GET /orders/{oid}`, within an hour of closing), and its fills by oid
  (`/order_trades/{oid}`). So ordergate lists open orders, and says so when asked for closed ones only.
Not found anywhere: the body or status of the rate-limit answer (HTTP 429 is assumed, as ccxt's default mapping
does), a Retry-After header. Staging host: https://stage.bitso.com (ccxt urls.test; docs also show
api-stage.bitso.com and sandbox.bitso.com), not reachable with production keys.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://bitso.com"
TESTNET_URL = "https://stage.bitso.com"

ORDERS_PATH = "/api/v3/orders"  # + "/{oid}": DELETE cancels, GET looks up
TRADES_PATH = "/api/v3/order_trades"  # + "/{oid}": the fills of one order, also after it left the lookup window
VERIFY_PATH = "/api/v3/account_status"  # cheapest signed read
OPEN_ORDERS_PATH = "/api/v3/open_orders"  # ?book=&marker=&sort=&limit=
OPEN_ORDERS_MAX = 100  # the v3 page size bound ccxt documents (limit max 100)

# Bitso order ids are 16 letters and digits in every published example ("yWTQGxDMZ0VimZgZ", "cME2F7uZKJcMKXqU");
# a little slack either side, never anything that changes a URL path.
ORDER_ID_SHAPE = (r"[A-Za-z0-9]{12,24}", "yWTQGxDMZ0VimZgZ")
ORDER_ID = re.compile(ORDER_ID_SHAPE[0])


class Ambiguous(StrEnum):
    unknownOrder = "unknownOrder"  # 0312: never placed, another account's, or closed beyond the lookup window


ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "0101": ErrorType.institutionUnavailable,  # unknown error
    "0201": ErrorType.institutionAuthFailed,  # "Invalid Nonce or Invalid Credentials"
    "0202": ErrorType.institutionPermissionDenied,  # key not authorized to execute the requested method
    "0206": ErrorType.institutionAuthFailed,  # invalid nonce type
    "0207": ErrorType.institutionAuthFailed,  # invalid nonce value
    "0208": ErrorType.institutionAuthFailed,  # authentication required
    "0213": ErrorType.institutionPermissionDenied,  # IP address not allowed for this key
    "0215": ErrorType.institutionAuthFailed,  # incorrect request signature
    "0216": ErrorType.institutionLocked,  # account restricted
    "0303": ErrorType.institutionRejected,  # required field missing
    "0304": ErrorType.institutionRejected,  # required field not valid
    "0312": Ambiguous.unknownOrder,  # incorrect OID
    "0326": ErrorType.institutionAuthFailed,  # API key is not active
    "0327": ErrorType.institutionRestricted,  # service unavailable for requesting location
    "0328": ErrorType.institutionRestricted,  # service unavailable for requesting country
    "104": ErrorType.institutionAuthFailed,  # "nonce must be higher than …" (ccxt's sample)
}
NONCE_CODES = frozenset({"0206", "0207", "104"})
# "Locks you out for one minute"; Bitso sends no Retry-After that we know of.
RATE_LIMIT_S = 60
# How long Bitso's lookup still returns completed and cancelled orders.
CLOSED_LOOKUP_WINDOW_S = 3600

STATUS_MAP: dict[str, OrderStatus] = {
    "queued": OrderStatus.inProgress,
    "open": OrderStatus.inProgress,
    "partially filled": OrderStatus.partiallyFilled,
    "partial-fill": OrderStatus.partiallyFilled,  # older spelling ccxt still maps
    "completed": OrderStatus.success,
    "cancelled": OrderStatus.cancelled,
}

ORDER_TYPE_MAP = {"limit": "limit", "market": "market", "stop": "stopLoss"}
TIME_IN_FORCE_MAP = {
    "goodtillcancelled": "goodTillCanceled",
    "fillorkill": "fillOrKill",
    "immediateorcancel": "immediateOrCancel",
    "postonly": "goodTillCanceled",
}
