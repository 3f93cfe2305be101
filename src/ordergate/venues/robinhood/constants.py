"""Robinhood facts as data. Only the crypto half (the official Crypto Trading API) is implemented so far; the
equities half (the app's private OAuth API at api.robinhood.com, the catalog's URL) will add its own section.

Crypto Trading API sources, checked for this adapter (the reference notes tag some of this unverified):
- docs.robinhood.com/crypto/trading (Redoc page, "Trading API 1.0.0"), read through the search tool:
  - base `https://trading.robinhood.com`; no sandbox. Paths: GET /api/v1/crypto/trading/accounts/ (account_number,
    status active/deactivated/sell_only, buying_power…), POST /api/v1/crypto/trading/orders/{id}/cancel/ (`id`
    "string <uuid>", responses 200/400/404, the 200 is text/plain "Cancel request was submitted for order {id}":
    a request, not a confirmation), GET /api/v1/crypto/trading/orders/ (filters incl. `id`, `state` in open,
    canceled, partially_filled, filled, failed). The single-order GET /api/v1/crypto/trading/orders/{id}/ is not
    among the published OpenAPI paths but is what the docs' own "Getting Started" sample client calls (get_order).
  - auth: headers x-api-key, x-timestamp, x-signature; message f"{api_key}{timestamp}{path}{method}{body}",
    Ed25519 over its UTF-8 bytes, base64; "for requests without a body, the body can be omitted"; the private key
    is the base64 32-byte seed (the docs' Node.js example prints tweetnacl's 64-byte secretKey = seed + public
    key, so a 64-byte value is accepted and its first 32 bytes used). Keys issued after 2024-08-13 look like
    `rh-api-<uuid>`; older ones have no prefix.
  - "timestamps are only valid for 30 seconds after they're generated" [verified: docs' Timestamp section].
  - rate limits: 100 requests per minute per user account, 300 in bursts, a token bucket per endpoint.
  - errors: `{"type": "validation_error" (400) | "client_error" (other 4xx) | "server_error" (5xx), "errors":
    [{"detail": …, "attr": <field, "non_field_errors", or null>}]}`; common codes 400/401/403/404/429/500/503.
- Not published, taken from the reference notes [reported] and the error format above: a cancel of a filled or
  cancelled order answers 400 `{"type": "validation_error", "errors": [{"detail": "This order cannot be
  canceled.", "attr": "non_field_errors"}]}`; an unknown id 404. Neither tells the order's state, so both are
  resolved by the lookup. No Retry-After is documented: the DRF-style 429 detail "Expected available in N
  seconds" and a Retry-After header are read when present, else the documented one-minute window.
- PyPI `hood` 0.1.0 (an independent client for this API, PyNaCl signing): same headers and message; its
  `Errors` schema documents the same three error types.
"""

from __future__ import annotations

import re

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import UUID, OrderIdShape

# The crypto API lives on its own host. The catalog keeps api.robinhood.com (the equities half's host) as the
# robinhood URL; when that URL is overridden (ORDERGATE_BASE_URL_ROBINHOOD, the sandbox, tests), both halves are
# served under the override, so one simulator or proxy can answer /api/v1/crypto/... and the equities paths alike.
CRYPTO_URL = "https://trading.robinhood.com"

CRYPTO_ACCOUNT_PATH = "/api/v1/crypto/trading/accounts/"  # the cheap signed read that verifies a key
CRYPTO_ORDERS_PATH = "/api/v1/crypto/trading/orders/"
CRYPTO_ORDER_PATH = "/api/v1/crypto/trading/orders/{id}/"
CRYPTO_CANCEL_PATH = "/api/v1/crypto/trading/orders/{id}/cancel/"

HEADER_KEY = "x-api-key"
HEADER_TIMESTAMP = "x-timestamp"
HEADER_SIGNATURE = "x-signature"
TIMESTAMP_VALID_S = 30
CRYPTO_KEY_PREFIX = "rh-api-"
SEED_BYTES = (32, 64)  # the seed, or tweetnacl's secretKey (seed + public key)

# The credential marker sealed into the token at /authenticate: which half of Robinhood a token speaks.
KIND = "kind"
KIND_CRYPTO = "crypto"

# Robinhood order ids, crypto and equities alike, are UUIDs ("id": "string <uuid>").
ORDER_ID_SHAPE = OrderIdShape(UUID, "497f6eca-6276-4993-bfeb-53cbbbba6f08")
ORDER_ID = re.compile(UUID)

CANCEL_REFUSED = "cannot be canceled"  # in the 400's detail: filled, cancelled (or failed): only a lookup tells
RATE_LIMIT_S = 60  # "Requests per minute per user account": the documented window when no wait is given
THROTTLE_WAIT = re.compile(r"available in (\d+) second")

# HTTP status → what an answer without a more specific reading means.
STATUS_ERRORS: dict[int, ErrorType] = {
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    429: ErrorType.rateLimited,
}

STATUS_MAP: dict[str, OrderStatus] = {
    "open": OrderStatus.inProgress,
    "partially_filled": OrderStatus.partiallyFilled,
    "filled": OrderStatus.success,
    "canceled": OrderStatus.cancelled,
    "failed": OrderStatus.failed,
}
ORDER_TYPE_MAP = {"market": "market", "limit": "limit", "stop_limit": "stopLimit", "stop_loss": "stopLoss"}
# time_in_force in the order configs: gtc, gfd, gfw (good for week), gfm (good for month); Mesh has no week/month.
TIME_IN_FORCE_MAP = {"gtc": "goodTillCanceled", "gfd": "goodForDay"}
