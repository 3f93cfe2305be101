"""Robinhood facts as data: the crypto half (the official Crypto Trading API) first, then the equities half (the
app's private OAuth API at api.robinhood.com, the catalog's URL), each with its sources.

Crypto Trading API sources, checked for this adapter (the reference notes tag some of this unverified):
- docs.robinhood.com/crypto/trading (Redoc page, "Trading API 1.0.0"), read through the search tool:
  - base `https://trading.robinhood.com`; no sandbox. Paths: GET /api/v1/crypto/trading/accounts/ (account_number,
    status active/deactivated/sell_only, buying_power…), POST /api/v1/crypto/trading/orders/{id}/cancel/ (`id`
    "string <uuid>", responses 200/400/404, the 200 is text/plain "Cancel request was submitted for order {id}":
    a request, not a confirmation), GET /api/v1/crypto/trading/orders/ (filters incl. `id`, `state` in open,
    canceled, partially_filled, filled, failed; `created_at_start`/`created_at_end` ISO times; `cursor`), answered
    as `{"next", "previous", "results"}` with `next` a URL carrying the following page's `cursor` (page size is
    Robinhood's choice). The single-order GET /api/v1/crypto/trading/orders/{id}/ is not
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


# -- the equities half: Robinhood's private app API (api.robinhood.com) -----------------------------------------------
# Robinhood publishes no equities API; this is what its apps call, as the open-source clients reverse-engineered it.
# Sources, read for this adapter:
# - robin_stocks 3.4.0 (PyPI wheel, robin_stocks/robinhood/authentication.py, urls.py, orders.py, globals.py):
#   login = POST /oauth2/token/ form-encoded {client_id, expires_in: 86400, grant_type: password, password, scope:
#   internal, username, device_token (a random 16-byte hex UUID-shaped token, kept per device), try_passkeys: false,
#   token_request_path: /login, create_read_only_secondary_token: true}, `mfa_code` when the user has an authenticator
#   app. The *current* verification flow, when the answer carries `verification_workflow: {id, workflow_status}`:
#   POST /pathfinder/user_machine/ JSON {device_id, flow: "suv", input: {workflow_id}} -> {id: machine id};
#   GET /pathfinder/inquiries/{machine}/user_view/ -> context.sheriff_challenge {id, type sms|email|prompt, status};
#   for sms/email: POST /challenge/{id}/respond/ form {response: code} -> {status: "validated"}; then
#   POST /pathfinder/inquiries/{machine}/user_view/ JSON {sequence: 0, user_input: {status: "continue"}} ->
#   type_context.result "workflow_status_approved"; then the same token request again, same device token.
#   Cancel POST /orders/{id}/cancel/ (empty body), look-up GET /orders/{id}/, accounts GET
#   /accounts/?default_to_all_accounts=true (every brokerage account, IRAs included). Header
#   X-Robinhood-API-Version: 1.431.4 on every request.
# - The older `challenge` flow (search tool: pyrh's and several clients' login code): the token answer carries
#   `challenge: {id, type: sms|email, status: issued, remaining_attempts, remaining_retries}`; POST
#   /challenge/{id}/respond/ {response: code}, then the token request again with header
#   X-ROBINHOOD-CHALLENGE-RESPONSE-ID: {id}. An authenticator app shows as `{"mfa_required": true, "mfa_type":
#   "app"|"sms"}`, answered by repeating the request with `mfa_code`. Both are still handled.
# - The `verification_workflow` answer comes with HTTP 403 [reported: a client's recorded fixtures]; the adapter
#   reads the body of any 2xx/4xx token answer.
# - Refresh (search tool: several clients): POST /oauth2/token/ {grant_type: refresh_token, refresh_token, scope:
#   internal, client_id, expires_in, device_token}; the answer is a new access and refresh token.
# - Order states (robin_stocks and the reference notes): queued, unconfirmed, confirmed, partially_filled, filled,
#   cancelled, rejected, failed. Errors are Django REST framework bodies `{"detail": ...}` [reported]; a cancel of a
#   final order is a 400 and an unknown id a 404, neither telling the state, so both are looked up.
EQUITIES_URL = "https://api.robinhood.com"
CLIENT_ID = "c82SH0WZOsabOXGP2sxqcj34FxkvfnWRZBKlBjFS"  # the apps' public OAuth client id
TOKEN_PATH = "/oauth2/token/"
CHALLENGE_RESPOND_PATH = "/challenge/{id}/respond/"
USER_MACHINE_PATH = "/pathfinder/user_machine/"
USER_VIEW_PATH = "/pathfinder/inquiries/{id}/user_view/"
ACCOUNTS_PATH = "/accounts/?default_to_all_accounts=true"
ORDER_PATH = "/orders/{id}/"
# The order list (robin_stocks urls.orders_url): `account_numbers=` one account, `updated_at[gte]=` ISO time, paged by
# a `next` URL with `cursor`; open orders are those whose `cancel` link is set (get_all_open_stock_orders).
EQUITY_ORDERS_PATH = "/orders/"
CANCEL_PATH = "/orders/{id}/cancel/"
CHALLENGE_HEADER = "X-ROBINHOOD-CHALLENGE-RESPONSE-ID"
API_VERSION_HEADER = ("X-Robinhood-API-Version", "1.431.4")
SCOPE = "internal"
TOKEN_LIFETIME_S = 86400  # what the apps ask for (`expires_in`)
WORKFLOW_APPROVED = "workflow_status_approved"
KIND_EQUITIES = "equities"

EQUITY_STATUS_MAP: dict[str, OrderStatus] = {
    "queued": OrderStatus.inProgress,
    "unconfirmed": OrderStatus.inProgress,
    "confirmed": OrderStatus.inProgress,
    "partially_filled": OrderStatus.partiallyFilled,
    "filled": OrderStatus.success,
    "cancelled": OrderStatus.cancelled,
    "rejected": OrderStatus.rejected,
    "failed": OrderStatus.failed,
}
EQUITY_ORDER_TYPES = {"market": "market", "limit": "limit"}  # `type`; a stop is `trigger: stop` on either
EQUITY_TIME_IN_FORCE = {"gtc": "goodTillCanceled", "gfd": "goodForDay", "ioc": "immediateOrCancel",
                        "fok": "fillOrKill"}  # fmt: skip
