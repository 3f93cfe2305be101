"""Blockchain.com Exchange REST facts as data: where to call, what each answer means, how long to back off.

Sources, checked for this adapter (the reference notes tag Blockchain.com [C], ccxt only):
- ccxt 4.5.x python/ccxt/blockchaincom.py: urls api https://api.blockchain.com/v3/exchange; sign() — private calls
  carry one header, `X-API-Token: <secret>`, and nothing is signed (no key, no timestamp, no HMAC); non-GET
  private calls send a JSON body (`{}` for a DELETE) with Content-Type application/json. Paths: `DELETE
  orders/{orderId}` (cancelOrder; ccxt reads nothing from the answer), `GET orders/{orderId}` (fetchOrder, by the
  exchange id `exOrdId` only), `GET orders?status=`, `POST orders`, `GET accounts` (fetchBalance), `GET fees`.
  handle_errors(): the Spring-style body `{"timestamp", "status", "error", "message", "path"}`, `status` 401 →
  AuthenticationError, 404 → OrderNotFound (its sample: a 404 for `/orders/505050`); an order refused for funds is
  200 with `ordStatus` REJECTED and `text` "Insufficient Balance". parse_order_state(): OPEN, PART_FILLED (open),
  FILLED (closed), CANCELED, REJECTED, EXPIRED; parse_order(): exOrdId, clOrdId, ordType, side, symbol
  ("BTC-USD"), price, leavesQty, cumQty, avgPx, timestamp (ms). rateLimit 500 ms.
- api.blockchain.com/v3 (the OpenAPI page ccxt cites, #deleteorder; not reachable here, so unverified): the DELETE
  is understood to answer 200 with no order in the body. ccxt reads nothing from it either. An answer that names no
  order state says the request was taken, not that the order is gone: a 200 is reported `inProgress`.
- Listing: the OpenAPI's getOrders, as the generated clients of api.blockchain.com/v3 carry it (openapi-generator
  Python/Go/JS/Rust docs, found with the search tool): `GET /orders?symbol=&from=&to=&status=&limit=`, from/to
  "Epoch timestamp in ms", status one OrderStatus, limit "If omitted, 100 results are returned by default";
  "Returns live and historic orders, defaulting to live orders. Returns at most 100 results, use timestamp to
  paginate for further results". ccxt 4.5.90 fetch_open_orders / fetch_closed_orders / fetch_canceled_orders send
  status=OPEN / FILLED / CANCELED with limit=100. Not said: the order of the results and whether `to` is
  inclusive; ordergate asks newest first by paging `to` down to the oldest timestamp it has seen, treats `to` as
  inclusive and skips the ids it has already listed at that millisecond.
Not found anywhere (choices, each marked in the simulator too): the answer to a cancel of a filled or cancelled
order (the simulator answers 404 as for an unknown one; the adapter looks the order up on any 404 or 400), the
answer for a token without the trading scope (Spring Security's 403 Forbidden is assumed), a rate-limit body or
Retry-After (a 429 without one backs off RATE_LIMIT_S), a sandbox host, a ban or regional-block answer.
"""

from __future__ import annotations

import re

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

PRODUCTION_URL = "https://api.blockchain.com/v3/exchange"

ORDER_PATH = "/orders"  # DELETE and GET /orders/{orderId}
ORDERS_LIST_MAX = 100  # "Returns at most 100 results"
VERIFY_PATH = "/fees"  # the cheapest token-authenticated read (ccxt fetchTradingFees)

HEADER_TOKEN = "X-API-Token"

# exOrdId is a positive integer (ccxt's samples: 281775861306290, 11111111; handle_errors' /orders/505050).
ORDER_ID_SHAPE = OrderIdShape(r"[1-9][0-9]{0,18}", "281775861306290")
ORDER_ID = re.compile(ORDER_ID_SHAPE.pattern)

# A 429 carries no documented window; ccxt paces private calls at 500 ms, so one second is a safe back-off.
RATE_LIMIT_S = 1

STATUS_MAP: dict[str, OrderStatus] = {
    "PENDING": OrderStatus.inProgress,
    "OPEN": OrderStatus.inProgress,
    "PART_FILLED": OrderStatus.partiallyFilled,
    "FILLED": OrderStatus.success,
    "CANCELED": OrderStatus.cancelled,
    "REJECTED": OrderStatus.rejected,
    "EXPIRED": OrderStatus.expired,
}
# What one listing request asks for: no status is "live" (OPEN and PART_FILLED, the venue's default); history is one
# request per closed status, since `status` takes one value.
LIVE = ""
LIST_PHASES: dict[str, frozenset[OrderStatus]] = {
    LIVE: frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled}),
    "FILLED": frozenset({OrderStatus.success}),
    "CANCELED": frozenset({OrderStatus.cancelled}),
    "REJECTED": frozenset({OrderStatus.rejected}),
    "EXPIRED": frozenset({OrderStatus.expired}),
}
ORDER_TYPE_MAP = {"LIMIT": "limit", "MARKET": "market", "STOP": "stopLoss", "STOPLIMIT": "stopLimit"}
TIME_IN_FORCE_MAP = {"GTC": "goodTillCanceled", "IOC": "immediateOrCancel", "FOK": "fillOrKill", "GTD": "goodTillDate"}
