"""Public.com Trading API facts as data: where to call, what each answer means, how long to back off.

Sources (read for this module):
- Public's OpenAPI spec (github.com/PublicDotCom/public-openapi, spec.yaml; `servers: https://api.public.com`):
  `POST /userapiauthservice/personal/access-tokens` takes `{"secret", "validityInMinutes"}` (5..1440, default 15)
  and answers `{"accessToken"}` (a JWT); its 401 is `{"errorCode": "user_api_auth.personal.invalid_secret",
  "message": "Invalid secret"}`, its 429 `{"errorCode": "user_api_auth.personal.too_many_requests", "message":
  "Too many requests. Please wait for a few minutes and try again."}`. `GET /userapigateway/trading/account`
  answers `{"accounts": [{"accountId", "accountType", …}]}`. `DELETE …/{accountId}/order/{orderId}` documents only
  200 "Cancellation request submitted successfully" and says cancellation is asynchronous ("most cancellations are
  processed immediately during market hours, this is not guaranteed. Always use the GET /{orderId} endpoint to
  confirm"). `GET …/order/{orderId}` answers a GatewayOrder, or 404 "Order not found (may not be processed yet)".
  Order ids are client-generated UUIDs ("a UUID conforming to RFC 4122 (standard 8-4-4-4-12 format)").
- publicdotcom-py 0.1.27 (the official SDK): `PROD_BASE_URL = "https://api.public.com"`; the same token exchange
  (15 minutes by default, renewed 5 minutes before expiry); errors carry `message` and `errorCode`; 400 →
  ValidationError, 401 → AuthenticationError, 404 → NotFoundError, 429 → RateLimitError with `Retry-After`.
- Not found anywhere public (unverified, so never decisive here): the answer to a DELETE of a filled, cancelled or
  unknown order, the gateway's 401/403 bodies, and any rate limit. The adapter therefore never reads a refused
  cancel as final without looking the order up.
"""

from __future__ import annotations

import re

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import UUID, OrderIdShape

PRODUCTION_URL = "https://api.public.com"

TOKEN_PATH = "/userapiauthservice/personal/access-tokens"
ACCOUNTS_PATH = "/userapigateway/trading/account"
ORDER_PATH = "/userapigateway/trading/{account_id}/order/{order_id}"
# The only place Public shows orders in bulk: the portfolio snapshot's `orders`, its open orders (publicdotcom-py
# 0.1.27 get_portfolio: "positions, equity breakdown, buying power, and open orders"; spec.yaml Portfolio.orders).
# `/userapigateway/trading/{accountId}/history` lists transactions (trades, money movements), not orders.
PORTFOLIO_PATH = "/userapigateway/trading/{account_id}/portfolio/v2"

# Access tokens asked for 60 minutes (Public's own example uses 60; the spec allows 5..1440). A longer life would
# save few exchanges and widen the window of a token that is only ever held in memory.
TOKEN_VALIDITY_MIN = 60
# A cached token is renewed in the background once less than this is left, so requests keep using the current one
# and never wait for an exchange while the secret is in regular use.
RENEW_AHEAD_S = 15 * 60
# Below this much life left a token is not sent at all (a request could outlive it): a new one is fetched first.
MIN_LIFE_S = 60
# Tokens cached per process; past this, expired ones are dropped first, then the oldest.
MAX_CACHED_TOKENS = 50_000

# "Please wait for a few minutes" (the token service's documented 429): when no Retry-After comes with a 429.
RATE_LIMIT_WAIT_S = 180

# Account ids travel in URL paths; they come from Public's account list, but are checked before use anyway.
ACCOUNT_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
# Credentials travel in a JSON body and a header: no control characters.
SECRET = re.compile(r"[\x21-\x7e]{5,4096}")
# Account types that hold no orders (Public's high-yield cash account); every other type gets an accountToken.
NO_ORDER_ACCOUNT_TYPES = frozenset({"HIGH_YIELD"})

# GatewayOrder.status (spec.yaml enum; publicdotcom-py OrderStatus).
STATUS_MAP: dict[str, OrderStatus] = {
    "NEW": OrderStatus.inProgress,
    "PARTIALLY_FILLED": OrderStatus.partiallyFilled,
    "PENDING_REPLACE": OrderStatus.inProgress,
    "PENDING_CANCEL": OrderStatus.inProgress,  # the cancel is under way: not final yet
    "CANCELLED": OrderStatus.cancelled,
    # Cancelled while still queued (before reaching the market); final. Third-party Public clients read it as
    # cancelled too.
    "QUEUED_CANCELLED": OrderStatus.cancelled,
    "FILLED": OrderStatus.success,
    "REJECTED": OrderStatus.rejected,
    "EXPIRED": OrderStatus.expired,
    # Replaced by a cancel-replace (a new order id); this id no longer trades, as with a cancel.
    "REPLACED": OrderStatus.cancelled,
}
LIVE_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED", "PENDING_REPLACE", "PENDING_CANCEL"})
# A refused DELETE of an order in this status means "already being cancelled": the cancel asked for is happening.
CANCELLING = "PENDING_CANCEL"

# GatewayOrder.type → Mesh BrokerOrderPlaceType; expiration.timeInForce → Mesh BrokerOrderTimeInForceType.
ORDER_TYPE_MAP = {"MARKET": "market", "LIMIT": "limit", "STOP": "stopLoss", "STOP_LIMIT": "stopLimit"}
TIME_IN_FORCE_MAP = {"DAY": "goodForDay", "GTD": "goodTillDate"}

# Public order ids are RFC 4122 UUIDs chosen by the client at placement (ApiOrderRequest.orderId).
ORDER_ID_SHAPE = OrderIdShape(UUID, "0d2abd8d-3625-4c83-a806-98abf35567cc")
