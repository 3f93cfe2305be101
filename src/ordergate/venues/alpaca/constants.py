"""Alpaca Trading API v2 facts as data: where to call, what each answer means, how long to back off.

Sources (checked for this module, see the report that introduced it):
- docs.alpaca.markets/reference/cancel-an-order-by-id: "Attempts to cancel an open order. If the order is no
  longer cancelable (example: status = filled), the server will respond with status 422 … Upon acceptance of the
  cancel request, it returns status 204." A 204 is an *acceptance*, not a confirmation (alpaca-trade-api-python#135:
  "The order cancelation is asynchronous"), and it carries no body.
- Order statuses: Alpaca's "Orders at Alpaca" page (mirrored in alpaca-ts OrderStatus.ts): `done_for_day` "will not
  receive further updates until the next trading day"; `pending_replace` "will reject cancel request".
- Errors are `{"code": <8 digits>, "message": …}` whose first three digits are the HTTP status: 40110000 "request
  is not authorized" (alpaca-py#391), 40410000 "order not found", 42210000 `order is already in "filled" state`.
- Rate limit: 200 requests/minute per account; every response carries X-Ratelimit-Limit/-Remaining/-Reset, Reset
  being the unix second the window ends (forum.alpaca.markets/t/executing-orders/12029).
- docs.alpaca.markets/reference/getallorders (and alpaca-py's GetOrdersRequest): `GET /v2/orders` takes `status`
  open|closed|all (default open), `limit` (default 50, max 500), `after` / `until` ("submitted after / until this
  timestamp", both exclusive), `direction` asc|desc (by submission time, default desc), `symbols`, `side`,
  `nested`. The answer is a bare JSON array: no page token and no total, so paging walks `until` backwards.
- Paper and live are separate domains with separate credentials (Trading API "Authentication" page); an OAuth
  token is issued for one of them (docs.alpaca.markets/docs/using-oauth2-and-trading-api).
"""

from __future__ import annotations

import re

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import UUID, OrderIdShape

LIVE_URL = "https://api.alpaca.markets"
PAPER_URL = "https://paper-api.alpaca.markets"

ORDER_PATH = "/v2/orders/{order_id}"
LIST_PATH = "/v2/orders"
# Kill switch: `DELETE /v2/orders` (docs.alpaca.markets/reference/deleteallorders, checked with the search tool and
# alpaca_api_client's delete_all_orders): no filter; answers 207 Multi-Status, a list of `{"id", "status", "body"}`,
# one per open order, where `status` is that order's own HTTP status (200 accepted, 500 "failed to cancel").
CANCEL_ALL_PATH = "/v2/orders"
LIST_MAX_LIMIT = 500
# GET /v2/account: the cheapest authenticated call, and it names the account (account_number) for the token.
VERIFY_PATH = "/v2/account"

# Alpaca's 204 means only "accepted" (docs.alpaca.markets/reference/cancel-an-order-by-id), so the cancel is
# followed by one GET of the order to report `cancelled` or, while Alpaca still shows `pending_cancel`,
# `inProgress`: two requests per cancel, as the catalog says. A failed GET still answers `inProgress` (the venue
# did accept the cancel).
CANCEL_ANSWER = OrderStatus.inProgress

# Alpaca order ids are UUIDs. The id goes into the URL path, so anything outside this alphabet ("/", "..", "?")
# could address another resource; such ids are refused before sending. UUID syntax itself is left to Alpaca.
ORDER_ID = re.compile(r"[A-Za-z0-9-]{1,64}")  # used with fullmatch: "$" would let a trailing newline in
# Credentials travel as header values: a control character would be a header-injection attempt.
HEADER_SAFE = re.compile(r"[\x21-\x7e]{1,512}")

# `username` at /authenticate that marks `password` as an OAuth access token (no Alpaca key id looks like it).
OAUTH_USERNAME = "oauth"
# `authToken` at /authenticate: pins the environment; without it live is tried first, then paper on a 401.
ENVIRONMENT_HINTS = {"paper": True, "live": False}

# By HTTP status, for answers that carry Alpaca's JSON error body (404 and 422 depend on the call).
ERROR_BY_STATUS: dict[int, ErrorType] = {
    400: ErrorType.institutionRejected,
    401: ErrorType.institutionAuthFailed,
    403: ErrorType.institutionPermissionDenied,
    429: ErrorType.rateLimited,
}
# 422 on DELETE of an order whose cancel is already under way: the cancel the client asked for is happening.
# Matched on the message because 42210000 covers every "already in <state> state" case. (The exact wording for
# pending_cancel is not documented; when it differs, the service's lookup path still gives a definite answer.)
ALREADY_CANCELLING = re.compile(r'already in "?pending_cancel"? state')

RATE_WINDOW_S = 60  # when a 429 carries no usable reset time, a whole window is the longest wait

# An order's `asset_class` (Alpaca Orders API: us_equity, us_option, crypto) as Mesh's assetType; an option order
# keeps the caller's isCryptocurrency reading (False: not crypto).
ASSET_TYPES = {"us_equity": "equity", "crypto": "cryptocurrency"}

STATUS_MAP: dict[str, OrderStatus] = {
    "new": OrderStatus.inProgress,
    "accepted": OrderStatus.inProgress,
    "pending_new": OrderStatus.inProgress,
    "accepted_for_bidding": OrderStatus.inProgress,
    "pending_review": OrderStatus.inProgress,
    "held": OrderStatus.inProgress,  # a bracket/OCO leg waiting for its parent
    "partially_filled": OrderStatus.partiallyFilled,
    "pending_cancel": OrderStatus.inProgress,
    "pending_replace": OrderStatus.inProgress,
    "stopped": OrderStatus.inProgress,  # "a trade is guaranteed … but has not yet occurred"
    "suspended": OrderStatus.inProgress,  # not eligible for trading for now; still open
    "calculated": OrderStatus.inProgress,  # done for the day, settlement calculations pending
    # Not final: a GTC order resumes the next trading day (a day order then turns `expired` or `canceled`).
    "done_for_day": OrderStatus.inProgress,
    "filled": OrderStatus.success,
    "canceled": OrderStatus.cancelled,
    "expired": OrderStatus.expired,
    "rejected": OrderStatus.rejected,
    # The order was replaced by another one (its `replaced_by`); this id no longer trades. Mesh has no
    # "replaced", and "cancelled" is what happened to this id.
    "replaced": OrderStatus.cancelled,
}
# Statuses still working on the order: reported as partiallyFilled once filled_qty > 0.
LIVE_STATUSES = frozenset(
    name for name, mesh in STATUS_MAP.items() if mesh in (OrderStatus.inProgress, OrderStatus.partiallyFilled)
)

# What Alpaca's `status=closed` covers, in Mesh's words: a listing asked for all of these needs no filtering here.
CLOSED_MESH_STATUSES = frozenset(mesh for name, mesh in STATUS_MAP.items() if name not in LIVE_STATUSES)

# Alpaca `type` → Mesh BrokerOrderPlaceType (trailing_stop has no Mesh equivalent and stays unset).
ORDER_TYPE_MAP: dict[str, str] = {
    "market": "market",
    "limit": "limit",
    "stop": "stopLoss",
    "stop_limit": "stopLimit",
}

# Alpaca `time_in_force` → Mesh BrokerOrderTimeInForceType (opg/cls, auction-only, have none).
TIME_IN_FORCE_MAP: dict[str, str] = {
    "day": "goodForDay",
    "gtc": "goodTillCanceled",
    "ioc": "immediateOrCancel",
    "fok": "fillOrKill",
}

# Alpaca order ids are UUIDs (Orders API, `id`).
ORDER_ID_SHAPE = OrderIdShape(UUID, "61e69015-8549-4bfd-b9c3-01e75843f47d")
