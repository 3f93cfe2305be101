"""Interactive Brokers Client Portal Web API facts as data: paths, answers, statuses, limits.

Sources (checked while writing this module):
- ibind 0.2.2 (Voyz/ibind, read from the installed package): `cancel_order` is
  `DELETE iserver/account/{account_id}/order/{order_id}` ("Submitting '-1' will cancel all open orders"),
  `order_status` is `GET iserver/account/order/status/{order_id}`, `receive_brokerage_accounts` is
  `GET /iserver/accounts`, `tickle` is `POST tickle`, `authentication_status` is `POST iserver/auth/status`, placing is
  `POST iserver/account/{account_id}/orders` with `{"orders": [...]}`; IbkrClient rewrites
  "400 Bad Request: no bridge" as "call initialize_brokerage_session() first". The default URL is
  `https://127.0.0.1:5000/v1/api/` with `cacert=False` (the gateway's self-signed certificate).
- Cancel answer `{"msg": "Request was submitted", "order_id": …, "conid": …, "account": …}` and the order status
  body (`order_status`, `cum_fill`, `total_size`, `side` "B"/"S", `limit_price`, `avg_price`, `order_time`
  "YYMMDD-HH:MM:SS", `cannot_cancel_order`…): a route map mirroring IBKR's docs, found with the code search
  [reported]; the cancel answer "confirms REQUEST was submitted, not that order is cancelled".
- Rate limits: 10 requests/s global per session through the CP Gateway; violators' IPs go to a "penalty box" for
  10 (some sources: 10-15) minutes and get 429 [reported, consistent across sources; no Retry-After documented].
  Idle sessions time out after about 5-6 minutes without requests; `/tickle` keeps them alive [reported].
- Unverified (no source found): the exact `{"error": …}` wording and status for cancelling an unknown or a final
  order, and for the status of an unknown order. The adapter does not depend on the wording for a cancel (every
  such refusal is resolved by a status lookup); the lookup reads "does not exist"/"not found" as "no such order".
"""

from __future__ import annotations

import re

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

# The CP Gateway and IBKR's hosts serve the API under this prefix; the operator configures the gateway's root.
API_PREFIX = "/v1/api"
AUTH_STATUS_PATH = "/iserver/auth/status"
ACCOUNTS_PATH = "/iserver/accounts"
TICKLE_PATH = "/tickle"
CANCEL_PATH = "/iserver/account/{account}/order/{order_id}"
# Live orders (ibind IbkrClient.live_orders: `filters` joined with commas, `accountId`, `force`). `force=true`
# "clears saved information … Submission will appear as a blank array": never sent. Client Portal has no order
# history endpoint: this lists the orders the gateway's session knows (the current and recent days).
ORDERS_PATH = "/iserver/account/orders"
STATUS_PATH = "/iserver/account/order/status/{order_id}"

# The operator's switch for a local gateway's self-signed certificate (verification stays on otherwise).
VERIFY_TLS_ENV = "ORDERGATE_IBKR_VERIFY_TLS"

# IBKR order ids are positive integers (`order_id` in every answer). `-1` means "every open order of the account",
# so the shape admits digits only; 19 digits bounds a signed 64-bit id.
ORDER_ID_SHAPE = OrderIdShape(r"[0-9]{1,19}", "1234567890")
# Account ids: U… (live), DU… (paper), F…/DF… (advisors), I… (IBKR Lite). It goes into the URL path.
ACCOUNT_ID = re.compile(r"[A-Z]{1,3}[0-9]{1,12}")

# The session needs keeping alive: before a cancel, a gateway idle longer than this gets a `/tickle` first.
TICKLE_AFTER_S = 60.0

# No Retry-After is documented on the 429; the penalty box lasts 10 minutes.
PENALTY_BOX_S = 600

# Answers that mean the gateway's brokerage session is not usable: nothing was done with the request.
SESSION_GONE = re.compile(r"not authenticated|no bridge", re.I)
# The order status endpoint's refusal for an id it does not know [unverified wording].
NOT_FOUND = re.compile(r"does ?n[o']t exist|not found|no such order|invalid order", re.I)

# TWS order states, as `order_status` carries them (TWS API "Order Status" page; ibapi's OrderStatusKind).
STATUS_MAP: dict[str, OrderStatus] = {
    "ApiPending": OrderStatus.inProgress,
    "PendingSubmit": OrderStatus.inProgress,
    "PreSubmitted": OrderStatus.inProgress,
    "Submitted": OrderStatus.inProgress,
    "PendingCancel": OrderStatus.inProgress,  # "Cancellation is not guaranteed at this point"
    "ApiCancelled": OrderStatus.cancelled,
    "Cancelled": OrderStatus.cancelled,
    "Filled": OrderStatus.success,
    # Accepted but not working "due to system, exchange or other issues" (rejections land here too).
    "Inactive": OrderStatus.rejected,
}
LIVE_STATUSES = frozenset(k for k, v in STATUS_MAP.items() if v is OrderStatus.inProgress)

# Mesh status → the live-orders `filters` values that select it server-side (ibind's live_orders docstring).
LIST_FILTERS: dict[OrderStatus, tuple[str, ...]] = {
    OrderStatus.inProgress: ("pending_submit", "pre_submitted", "submitted", "pending_cancel"),
    OrderStatus.partiallyFilled: ("pre_submitted", "submitted", "pending_cancel"),
    OrderStatus.success: ("filled",),
    OrderStatus.cancelled: ("cancelled",),
    OrderStatus.rejected: ("inactive",),
}

ORDER_TYPE_MAP: dict[str, str] = {
    "Limit": "limit",
    "LMT": "limit",
    "Market": "market",
    "MKT": "market",
    "Stop": "stopLoss",
    "STP": "stopLoss",
    "Stop Limit": "stopLimit",
    "STP LMT": "stopLimit",
}
TIME_IN_FORCE_MAP: dict[str, str] = {
    "DAY": "goodForDay",
    "GTC": "goodTillCanceled",
    "IOC": "immediateOrCancel",
    "FOK": "fillOrKill",
}
