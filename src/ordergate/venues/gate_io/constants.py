"""Gate API v4 (spot) facts as data: where to call, what each error label means, how long to back off.

Sources, checked for this adapter (the reference notes tagged several of these [R]/[C]):
- Gate's API v4 documentation (v4.96.0, "APIv4 signed request requirements" and "API Signature string
  generation"): headers KEY / Timestamp (Unix seconds; "the gap between its value and current time cannot exceed
  60 seconds") / SIGN = HexEncode(HMAC_SHA512(secret, METHOD + "\\n" + /api/v4/path + "\\n" + query string "without
  URL encode", in the order of the URL + "\\n" + HexEncode(SHA512(body)) + "\\n" + Timestamp)); the SHA-512 of an
  empty body is given as cf83e135…927da3e. Its worked example (key `key`, secret `secret`, GET
  /api/v4/futures/orders?contract=BTC_USD&status=finished&limit=50 at 1541993715) is a golden vector in the tests.
- The same doc, "HTTP convention" / "Return Format": 2xx on success, 401 for authentication failures, other 4xx
  for bad requests, 404 not found, 429 too many requests, 5xx server errors; error bodies are
  {"label": …, "message": …} (or "detail"); "Time": timestamps are Unix seconds unless noted.
- The same doc, "Frequency limit rule": every answer carries X-Gate-RateLimit-Requests-Remain,
  X-Gate-RateLimit-Limit and X-Gate-RateLimit-Reset-Timestamp ("when your request limit resets if you have
  exceeded your rate_limit"; a timestamp, so seconds by the doc's rule: the unit is not stated separately, and the
  adapter also accepts milliseconds); spot "batch/single order cancellation is total of 200r/s" per UID, "the
  others: 200r/10s per endpoint". Every answer also carries X-Out-Time (µs), Gate's own clock, which the adapter
  measures the reset against so that the gateway host's clock does not matter.
- gate-api 7.2.161 (the official SDK, gate_api/api_client.py gen_sign / update_params_for_auth): signs
  urlparse(url).path (the full /api/v4/... path), unquote_plus(urlencode(query)), SHA-512 of the JSON body or of ""
  and `str(time.time())`, a fractional-seconds Timestamp Gate accepts. SpotApi.cancel_order(order_id,
  currency_pair, account=None, action_mode=None) sends DELETE /spot/orders/{order_id}?currency_pair=…;
  currency_pair is required, as it is for get_order.
- ccxt 4.5.90 python/ccxt/gate.py: sign() (same recipe; signaturePath '/api/' + version + path) and
  `exceptions.exact`, the labels below: ORDER_NOT_FOUND / CLIENT_ID_NOT_FOUND → OrderNotFound, ORDER_CLOSED /
  ORDER_CANCELLED → InvalidOrder, INVALID_KEY / INVALID_SIGNATURE / INVALID_CREDENTIALS / IP_FORBIDDEN /
  MISSING_REQUIRED_HEADER / REQUEST_EXPIRED → AuthenticationError, READ_ONLY / FORBIDDEN → PermissionDenied,
  ACCOUNT_LOCKED → AccountSuspended, TOO_MANY_REQUESTS / TOO_FAST → RateLimitExceeded, INVALID_CURRENCY_PAIR →
  BadSymbol, INTERNAL / SERVER_ERROR / TOO_BUSY → ExchangeNotAvailable.
- github.com/gateio/gateapi-go issue #11 (maintainer, 2021): an order cancelled with nothing filled "is not stored;
  it can be queried for at most 1 minute", after which GET answers ORDER_NOT_FOUND. gateapi-csharp issue #5
  (maintainer): a cancelled order keeps `cancelled` with `filled_total` > 0 when it was partly filled; only a fully
  filled order is `closed`.
Not verified (no public source found): the HTTP status Gate pairs with ORDER_CLOSED / ORDER_CANCELLED (the adapter
decides by label, whatever the status), and any answer for a legal or regional block (none is mapped).
"""

from __future__ import annotations

import re
from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus

PRODUCTION_URL = "https://api.gateio.ws/api/v4"
TESTNET_URL = "https://api-testnet.gateapi.io/api/v4"
API_PREFIX = "/api/v4"  # part of every signed path, whatever prefix the base URL carries before it

ORDER_PATH = "/spot/orders/{order_id}"  # DELETE = cancel, GET = lookup; both need currency_pair
ACCOUNTS_PATH = "/spot/accounts"  # the cheap signed read that verifies a key (spot read permission)
# Listing (Gate API v4 spot docs; gate-api SDK SpotApi.list_all_open_orders / list_orders): `GET /spot/open_orders`
# answers every pair with open orders, `[{"currency_pair", "total", "orders": […]}]`, where `page`/`limit` page the
# orders *within each pair* (limit max 100). `GET /spot/orders` takes `status` (open|finished) and `currency_pair`
# ("Required for open orders, optional for filled orders", gate-api 7 SpotApi.list_orders docstring), pages with
# `page`/`limit` newest first (limit max 100 for open orders) and bounds the query with `from`/`to` (Unix seconds).
OPEN_ORDERS_PATH = "/spot/open_orders"
ORDERS_PATH = "/spot/orders"
OPEN_ORDERS_LIMIT = 100
ORDERS_MAX_LIMIT = 100

HEADER_KEY = "KEY"
HEADER_TIMESTAMP = "Timestamp"
HEADER_SIGN = "SIGN"
HEADER_RESET = "X-Gate-RateLimit-Reset-Timestamp"
HEADER_REMAIN = "X-Gate-RateLimit-Requests-Remain"
HEADER_LIMIT = "X-Gate-RateLimit-Limit"
HEADER_OUT_TIME = "X-Out-Time"  # microseconds, Gate's clock when it answered

TIMESTAMP_WINDOW_S = 60

# Gate's spot order ids are int64 numbers (e.g. "394120203701"). A custom `t-…` id also cancels, but only while
# the order is open, so a lookup could not tell what happened to it afterwards: such ids are refused.
ORDER_ID_SHAPE = (r"[1-9][0-9]{0,18}", "394120203701")
ORDER_ID = re.compile(ORDER_ID_SHAPE[0])


class Ambiguous(StrEnum):
    """Labels whose meaning depends on the call that got them; the adapter resolves them."""

    unknownOrder = "unknownOrder"  # cancel: the service looks the order up; lookup: no such order
    clockSkew = "clockSkew"
    badPair = "badPair"


# ORDER_CLOSED / ORDER_CANCELLED name the final state, but a cancel that answers them may be the second cancel of
# this very request (after a lost answer), where our first one is what closed it: only a lookup says which, and it
# also carries the fill for /details. ORDER_NOT_FOUND also covers cancelled orders Gate no longer stores.
LABEL_MAP: dict[str, ErrorType | Ambiguous] = {
    "ORDER_NOT_FOUND": Ambiguous.unknownOrder,
    "CLIENT_ID_NOT_FOUND": Ambiguous.unknownOrder,
    "ORDER_CLOSED": Ambiguous.unknownOrder,
    "ORDER_CANCELLED": Ambiguous.unknownOrder,
    "ORDER_FINISHED": Ambiguous.unknownOrder,
    "INVALID_KEY": ErrorType.institutionAuthFailed,
    "INVALID_SIGNATURE": ErrorType.institutionAuthFailed,
    "INVALID_CREDENTIALS": ErrorType.institutionAuthFailed,
    "MISSING_REQUIRED_HEADER": ErrorType.institutionAuthFailed,
    "AUTHENTICATION_FAILED": ErrorType.institutionAuthFailed,
    "REQUEST_EXPIRED": Ambiguous.clockSkew,
    # The key is valid; Gate refuses the calling IP (the key's whitelist) or the operation (read-only key).
    "IP_FORBIDDEN": ErrorType.institutionPermissionDenied,
    "READ_ONLY": ErrorType.institutionPermissionDenied,
    "FORBIDDEN": ErrorType.institutionPermissionDenied,
    "ACCOUNT_LOCKED": ErrorType.institutionLocked,
    "SUB_ACCOUNT_LOCKED": ErrorType.institutionLocked,
    "TOO_MANY_REQUESTS": ErrorType.rateLimited,
    "TOO_FAST": ErrorType.rateLimited,
    "INVALID_CURRENCY_PAIR": Ambiguous.badPair,
    "INVALID_CURRENCY": Ambiguous.badPair,
    "INVALID_PARAM_VALUE": ErrorType.institutionRejected,
    "INVALID_ARGUMENT": ErrorType.institutionRejected,
    "MISSING_REQUIRED_PARAM": ErrorType.institutionRejected,
    "BAD_REQUEST": ErrorType.institutionRejected,
    "INTERNAL": ErrorType.institutionUnavailable,
    "SERVER_ERROR": ErrorType.institutionUnavailable,
    "TOO_BUSY": ErrorType.institutionUnavailable,
}

# Back-off when Gate's reset header is missing or already past: the documented windows.
RETRY_AFTER_CANCEL_S = 1  # "batch/single order cancellation is total of 200r/s"
RETRY_AFTER_OTHER_S = 10  # "the others: 200r/10s per endpoint"

# Gate's `status` is open / closed (fully filled) / cancelled; `finish_as` tells how a final order ended.
STATUS_MAP: dict[str, OrderStatus] = {
    "open": OrderStatus.inProgress,  # refined to partiallyFilled by filled_amount
    "closed": OrderStatus.success,
    "cancelled": OrderStatus.cancelled,
}
# finish_as values of a `cancelled` order that are not a user cancel: IOC/FOK/POC leftovers expire.
EXPIRED_FINISH = frozenset({"ioc", "fok", "poc", "stp", "small", "depth_not_enough", "trader_not_enough"})

ORDER_TYPE_MAP: dict[str, str] = {"limit": "limit", "market": "market"}
TIME_IN_FORCE_MAP: dict[str, str] = {
    "gtc": "goodTillCanceled",
    "ioc": "immediateOrCancel",
    "fok": "fillOrKill",
    "poc": "postOnly",
}

_PAIR = re.compile(r"([A-Z0-9]{1,20})[_/-]([A-Z0-9]{1,20})")


def normalize_pair(pair: str) -> str | None:
    """`BTC_USDT`, `BTC/USDT`, `btc-usdt` → `BTC_USDT`; None without a separator (where BTC|USDT would be a guess)."""
    match = _PAIR.fullmatch(pair.strip().upper())
    return f"{match.group(1)}_{match.group(2)}" if match else None
