"""BtcTurk (Kripto) REST facts as data: where to call, what each answer means, how long to back off.

Sources, checked for this adapter (the reference notes tag BtcTurk [V], to verify):
- ccxt 4.5.90 python/ccxt/btcturk.py: sign() — headers X-PCK (key), X-Stamp (milliseconds), X-Signature =
  base64(HMAC-SHA256(base64-decoded secret, key + stamp)); the request itself is not signed. Private API at
  /api/v1 (`DELETE order` with `id` in the query, `GET order/{orderId}`, `openOrders`, `allOrders`,
  `users/balances`), public at /api/v2 (`server/exchangeinfo`). handle_errors(): the answer's `message` and `code`
  (anything but 0 / "SUCCESS" is an error). parse_order_status(): Untouched, Partial (open), Canceled, Closed.
  ccxt has no fetchOrder and its sign() does not fill in `{orderId}`, so the single-order path rests on BtcTurk's
  docs alone.
- docs.btcturk.com/private-endpoints/cancel-order: success `{"success": true, "message": "SUCCESS", "code": 0}`
  means "receipt of the cancellation request" (finalised over WebSocket channel 452), so an ack is `inProgress`.
  Errors: NO_ORDER_MATCHES_YOUR_REQUEST (orderId not found), ORDER_COULD_NOT_BE_CANCELED (closed, a market order,
  "or order status is not partial or untouched"), ORDER_CANCEL_BLOCKED (maintenance on the pair).
- docs.btcturk.com/private-endpoints/get-single-order: `GET /api/v1/order/{orderId}` → `{"data": {id, price,
  amount, quantity, pairSymbol, pairSymbolNormalized, type, method, time, updateTime, status, leftAmount}, …}`;
  unknown → `{"success": false, "message": "Order not found", "code": 1152}`.
- docs.btcturk.com/rate-limits: DELETE /api/v1/order 10 per 1 s and 300 per 60 s per account, blocked 60 s; 429
  `{"message": "TOO_MANY_REQUESTS", "success": false, "code": 429, …}` with a `Retry-After` header (e.g. '55').
- docs.btcturk.com/faq: 401 "Unauthorized - Invalid Signature", "- Headers are missing", "- Invalid Request",
  "- Invalid Nonce" (stamp outside ±5 s); a key without the needed permission is also "unauthorized".
- docs.btcturk.com/private-endpoints/open-orders: `GET /api/v1/openOrders?pairSymbol=` → `data: {asks, bids}`, every
  open order at once (no paging; ccxt 4.5.90 fetch_open_orders sends pairSymbol only when given a symbol).
  docs.btcturk.com/private-endpoints/all-orders: `GET /api/v1/allOrders` with orderId, pairSymbol, startTime, endTime,
  page, limit ("default 100, max 1000"): orders of any status, its sample newest first. ccxt fetch_orders demands a
  symbol (pairSymbol) and sends startTime in seconds, which ordergate follows; the docs name neither the unit nor
  whether pairSymbol may be absent, so ordergate lists history per pair only (symbolPair required).
Not found anywhere: the exact 401 body for a missing permission, a regional-block or ban answer, a sandbox host.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://api.btcturk.com"

CANCEL_PATH = "/api/v1/order"  # DELETE ?id=
ORDER_PATH = "/api/v1/order"  # GET /{orderId}
VERIFY_PATH = "/api/v1/users/balances"  # cheapest signed read
OPEN_ORDERS_PATH = "/api/v1/openOrders"  # ?pairSymbol=
ALL_ORDERS_PATH = "/api/v1/allOrders"  # ?pairSymbol=&startTime=&endTime=&page=&limit=
ALL_ORDERS_MAX = 1000

HEADER_KEY = "X-PCK"
HEADER_STAMP = "X-Stamp"
HEADER_SIGNATURE = "X-Signature"
STAMP_TOLERANCE_S = 5

# BtcTurk order ids are positive integers ("long": 61912740, 2605984008 in its docs and ccxt's samples).
ORDER_ID_SHAPE = (r"[1-9][0-9]{0,18}", "2605984008")
ORDER_ID = re.compile(ORDER_ID_SHAPE[0])


class Ambiguous(StrEnum):
    unknownOrder = "unknownOrder"  # not found, or closed: only the lookup tells


ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "NO_ORDER_MATCHES_YOUR_REQUEST": Ambiguous.unknownOrder,
    "ORDER_COULD_NOT_BE_CANCELED": Ambiguous.unknownOrder,
    "ORDER_CANCEL_BLOCKED": ErrorType.institutionUnavailable,  # maintenance on the pair
    "TOO_MANY_REQUESTS": ErrorType.rateLimited,
    "Order not found": Ambiguous.unknownOrder,  # the single-order lookup, code 1152
}
NOT_FOUND_CODE = 1152
# 401 texts that name an authentication fault; a bare "Unauthorized" may also be a missing permission.
AUTH_FAULTS = ("invalid signature", "headers are missing", "invalid request", "invalid nonce")
RATE_LIMIT_S = 60  # "Blocks 60s" when no Retry-After is sent

STATUS_MAP: dict[str, OrderStatus] = {
    "Untouched": OrderStatus.inProgress,
    "Partial": OrderStatus.partiallyFilled,
    "Canceled": OrderStatus.cancelled,
    "Closed": OrderStatus.success,
}
ORDER_TYPE_MAP = {"limit": "limit", "market": "market", "stoplimit": "stopLimit", "stopmarket": "stopLoss"}
