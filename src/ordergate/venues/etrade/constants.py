"""E*TRADE (Morgan Stanley) REST API v1 facts as data: hosts, paths, OAuth 1.0a, statuses, errors.

Sources, checked for this module (tags as in shared/reference/broker-venues.md):
- Order API page (apisb.etrade.com/docs/api/order/api-order-v1.html) [doc]: List Orders is
  `GET /v1/accounts/{accountIdKey}/orders` on api.etrade.com (live) and apisb.etrade.com (sandbox); its status
  filter values are OPEN, EXECUTED, CANCELLED, INDIVIDUAL_FILLS, CANCEL_REQUESTED, EXPIRED, REJECTED; its errors
  are HTTP 400 with code 100 "Account key does not belong to user." and 102 "Please enter valid account key.".
- pyetrade 2.1.1 (read from its sdist) [verified]: cancel is `PUT {base}/v1/accounts/{key}/orders/cancel` with
  `{"CancelOrderRequest": {"orderId": N}}`; one order is `GET {base}/v1/accounts/{key}/orders/{orderId}(.json)`
  (`list_order_details`; E*TRADE's own order lists link each order there in their `details` field); accounts are
  `GET /v1/accounts/list(.json)`; the OAuth endpoints are always on api.etrade.com, sandbox included
  (authorization.py, docs/OAUTH_QUIRKS.md: "Always use api.etrade.com, never apisb"), the authorize page is
  `https://us.etrade.com/e/t/etws/authorize?key=<consumer key>&token=<request token>` and the callback is `oob`.
  Any body with an `Error` key is an error, whatever the HTTP status (order.py get_request_result).
- Token lifetime [doc, quoted in pyetrade#80 from the Get Access Token page]: "The production access token expires
  by default at midnight US Eastern time"; after two idle hours it is inactive and Renew Access Token
  (`GET /oauth/renew_access_token`, 200 on success: pyetrade raise_for_status) reactivates it.
- Rejections [reported]: HTTP 401 with `oauth_problem=token_rejected` (pyetrade#5, as an HTML status page),
  `consumer_key_rejected` (pyetrade#38), `timestamp_refused` (pyetrade#55); in the JSON envelope as
  `{"Error": {"message": "oauth_problem=token_rejected"}}` (mason-krause/wetrade user_session.py).
- NOT found anywhere public [unverified]: the Error codes a cancel of an executed, cancelled or unknown order gets,
  the answer to an account that may not trade, and any v1 rate limit or 429 shape. The adapter therefore decides
  none of these from a code: every refused cancel is looked up (executed → 409 success, cancelled → 409 cancelled,
  absent → 404), a 403 is a permission refusal and a 429 a rate limit whatever the body says.
"""

from __future__ import annotations

import re

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

LIVE_URL = "https://api.etrade.com"
SANDBOX_URL = "https://apisb.etrade.com"
# OAuth lives on the production host for sandbox keys too (pyetrade authorization.py).
OAUTH_URL = "https://api.etrade.com"
AUTHORIZE_URL = "https://us.etrade.com/e/t/etws/authorize"
# Where the simulator serves the authorize page, relative to its base URL (an override or the sandbox mount).
SIM_AUTHORIZE_PATH = "/e/t/etws/authorize"

REQUEST_TOKEN_PATH = "/oauth/request_token"
ACCESS_TOKEN_PATH = "/oauth/access_token"
RENEW_TOKEN_PATH = "/oauth/renew_access_token"
ACCOUNTS_PATH = "/v1/accounts/list"
CANCEL_PATH = "/v1/accounts/{account_id_key}/orders/cancel"
ORDER_PATH = "/v1/accounts/{account_id_key}/orders/{order_id}"
# List Orders [doc]: `marker` (where the next page starts, as the previous answer's `marker` said), `count` (default
# 25, at most 100), `status` (one value), `fromDate`/`toDate` (MMDDYYYY, both or neither, two years back at most);
# newest first; the answer `OrdersResponse: {marker, next, Order: [...]}` has `marker` only when more remain, and an
# empty 204 when nothing matches.
ORDERS_PATH = "/v1/accounts/{account_id_key}/orders"
LIST_MAX_COUNT = 100
CALLBACK = "oob"  # E*TRADE shows the verifier to the user instead of redirecting

# The cancel answer carries message 5011 "Your request to cancel your order is being processed." [reported in
# several independent fixtures]: an acknowledgement, so the happy path answers `inProgress`.
CANCEL_ACK_CODE = 5011

# oauth_problem values after which the token may only be idle: renewed once, then the call is sent again.
RENEWABLE_PROBLEMS = frozenset({"token_rejected", "token_expired"})
OAUTH_PROBLEM = re.compile(r"oauth_problem=([a-z_]+)")
RATE_LIMIT_DEFAULT_S = 60  # E*TRADE publishes no v1 rate limit or Retry-After; a minute is a cautious wait

# OrderDetail.status → Mesh; an open order with filledQuantity > 0 is partiallyFilled.
STATUS_MAP: dict[str, OrderStatus] = {
    "OPEN": OrderStatus.inProgress,
    "PARTIAL": OrderStatus.partiallyFilled,
    "INDIVIDUAL_FILLS": OrderStatus.partiallyFilled,
    "CANCEL_REQUESTED": OrderStatus.inProgress,  # the cancel is under way; nothing final yet
    "EXECUTED": OrderStatus.success,
    "DONE_TRADE_EXECUTED": OrderStatus.success,
    "CANCELLED": OrderStatus.cancelled,
    "EXPIRED": OrderStatus.expired,
    "REJECTED": OrderStatus.rejected,
}
LIVE_STATUSES = frozenset({"OPEN", "PARTIAL", "INDIVIDUAL_FILLS", "CANCEL_REQUESTED"})
# Mesh statuses → the List Orders `status` filter, when the query's statuses are exactly one of these sets. Open
# orders (OPEN, partially filled included) are one request; CANCEL_REQUESTED, a cancel under way, is not among them.
LIST_STATUS_FILTERS: dict[frozenset[OrderStatus], str] = {
    frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled}): "OPEN",
    frozenset({OrderStatus.inProgress}): "OPEN",
    frozenset({OrderStatus.partiallyFilled}): "OPEN",
    frozenset({OrderStatus.success}): "EXECUTED",
    frozenset({OrderStatus.cancelled}): "CANCELLED",
    frozenset({OrderStatus.expired}): "EXPIRED",
    frozenset({OrderStatus.rejected}): "REJECTED",
}

# priceType → Mesh BrokerOrderPlaceType
ORDER_TYPE_MAP: dict[str, str] = {"MARKET": "market", "LIMIT": "limit", "STOP": "stopLoss", "STOP_LIMIT": "stopLimit"}
# orderTerm → Mesh BrokerOrderTimeInForceType
TIME_IN_FORCE_MAP: dict[str, str] = {
    "GOOD_FOR_DAY": "goodForDay",
    "GOOD_UNTIL_CANCEL": "goodTillCanceled",
    "IMMEDIATE_OR_CANCEL": "immediateOrCancel",
    "FILL_OR_KILL": "fillOrKill",
}
BUY_ACTIONS = frozenset({"BUY", "BUY_TO_COVER", "BUY_OPEN", "BUY_CLOSE"})

# orderId is an integer (List Orders: "orderId": 676); it goes into a URL path and a JSON number.
ORDER_ID_SHAPE = OrderIdShape(r"[1-9][0-9]{0,17}", "676")
# accountIdKey (opaque, e.g. "idU1aBkPvD5n46JI_7S_2A") goes into URL paths too.
ACCOUNT_ID_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Consumer keys/secrets and tokens are URL-safe text (tokens come percent-encoded and are decoded once).
CREDENTIAL_TEXT = re.compile(r"[\x21-\x7e]{1,512}")
