"""Kraken Spot REST facts as data: where to call, what each answer means, how long to back off.

Sources (checked for this module, see the report that introduced it):
- docs.kraken.com/api-reference/trading/cancel-order: CancelOrder takes `txid` (a txid *or a userref*) or
  `cl_ord_id`; result `{"count": n, "pending": bool}`.
- support.kraken.com/hc/en-us/articles/360001491786: error strings are
  `<E|W><Category>:<Type>[:<extra info>]`, errors come back as `{"error": [...]}` and `result` "may not be
  present if errors occur"; temporary lockouts last about 15 minutes.
- docs.kraken.com/exchange/guides/rest/ratelimits: REST counter decays 0.33-1 per second, "restricted for a
  few seconds"; `EService:Throttled:<unix ts>` says when to come back.
"""

from __future__ import annotations

from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

PRODUCTION_URL = "https://api.kraken.com"

CANCEL_PATH = "/0/private/CancelOrder"
# docs.kraken.com/api-reference/trading/cancel-order-batch (and ccxt kraken.cancel_orders/sign, checked with the
# search tool): a JSON body `{"nonce": "…", "orders": [txid, …]}` signed like a form body (SHA256(nonce + the JSON
# bytes)), "maximum 50"; the answer is only `{"count": n}`, the number cancelled, with no per-order detail. What
# Kraken does with an unknown txid inside a batch is not documented: the adapter handles both a whole-batch error
# and a short count, and the simulator models the short count.
CANCEL_BATCH_PATH = "/0/private/CancelOrderBatch"
CANCEL_BATCH_MAX = 50
JSON_CONTENT_TYPE = "application/json"
QUERY_ORDERS_PATH = "/0/private/QueryOrders"
# Listing (docs.kraken.com/api-reference/account-data/get-open-orders and get-closed-orders, checked with the search
# tool): OpenOrders answers every open order at once; ClosedOrders "50 results are returned at a time, the most recent
# by default", paged with `ofs`, bounded by `start` (exclusive) and `end` (inclusive), each a Unix time or a txid
# ("the order's opening time (opentm) is used"), read as open or close time by `closetime`; `count` is the number of
# matching orders. krakenex's get_closed_orders docstring lists the same parameters.
OPEN_ORDERS_PATH = "/0/private/OpenOrders"
# Kill switch and dead-man's switch (docs.kraken.com/api-reference/trading/cancel-all-orders and
# .../cancel-all-orders-after-x, checked with the search tool): CancelAll takes no filter and answers only
# `{"count": n}`, so the adapter names the orders by listing them before and looking them up after.
# CancelAllOrdersAfter takes `timeout` in seconds (0 disables; "make a call every 15 to 30 seconds, providing a timeout
# of 60 seconds"), answers `{"currentTime", "triggerTime"}` (RFC 3339), and when it fires cancels *all* orders of the
# account, after which the timer stays disabled until a new non-zero timeout. QueryOrders takes up to 50 txids.
CANCEL_ALL_PATH = "/0/private/CancelAll"
CANCEL_ALL_AFTER_PATH = "/0/private/CancelAllOrdersAfter"
QUERY_ORDERS_MAX_TXIDS = 50
CLOSED_ORDERS_PATH = "/0/private/ClosedOrders"
CLOSED_ORDERS_PAGE = 50
# Balance needs the "Funds - Query" permission, which cancelling never uses; OpenOrders would check a
# permission the order lookup does need. Kept as one constant so the choice is easy to revisit.
VERIFY_PATH = "/0/private/Balance"

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class Ambiguous(StrEnum):
    """Kraken errors whose meaning depends on the call that got them, resolved by the adapter."""

    unknownOrder = "unknownOrder"  # cancel: let the service look the order up; lookup: no such order
    invalidArguments = "invalidArguments"  # a malformed txid cannot name an order
    outcomeUnknown = "outcomeUnknown"  # the engine may have acted before the deadline passed
    permissionDenied = "permissionDenied"  # missing 2FA code, or a key without the permission
    invalidSignature = "invalidSignature"  # a wrong otp looks exactly like a bad signature


ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "EAPI:Invalid key": ErrorType.institutionAuthFailed,
    "EAPI:Invalid signature": Ambiguous.invalidSignature,
    "EAPI:Invalid nonce": ErrorType.institutionAuthFailed,
    "EGeneral:Permission denied": Ambiguous.permissionDenied,
    "EAPI:Rate limit exceeded": ErrorType.rateLimited,
    "EOrder:Rate limit exceeded": ErrorType.rateLimited,
    "EService:Throttled": ErrorType.rateLimited,
    "EGeneral:Temporary lockout": ErrorType.institutionLocked,
    "ETrade:User Locked": ErrorType.institutionLocked,
    "EService:Unavailable": ErrorType.institutionUnavailable,
    "EService:Busy": ErrorType.institutionUnavailable,
    "EGeneral:Internal error": ErrorType.institutionUnavailable,
    "EDatabase:Internal error": ErrorType.institutionUnavailable,
    "EService:Deadline elapsed": Ambiguous.outcomeUnknown,
    "EOrder:Unknown order": Ambiguous.unknownOrder,
    # Observed for txids Kraken never minted and for malformed ones (freqtrade#8006, krakenex#110), while
    # orders that did exist and are now final answer "Unknown order".
    "EOrder:Invalid order": Ambiguous.unknownOrder,
    "EGeneral:Invalid arguments": Ambiguous.invalidArguments,
}

# Kraken sends no Retry-After header; these are what its docs say to wait.
RETRY_AFTER_S: dict[str, int] = {
    "EAPI:Rate limit exceeded": 5,  # one counter point decays in 1-3 s depending on tier
    "EOrder:Rate limit exceeded": 10,  # the trading counter penalises cancels of young orders (+8)
    "EService:Throttled": 5,  # used only when the error carries no readable timestamp
    "EGeneral:Temporary lockout": 900,  # "typically last approximately 15 minutes"
    "ETrade:User Locked": 900,  # no documented duration: a reasonable time to look again
}

STATUS_MAP: dict[str, OrderStatus] = {
    "pending": OrderStatus.inProgress,
    "open": OrderStatus.inProgress,
    "closed": OrderStatus.success,
    "canceled": OrderStatus.cancelled,
    "expired": OrderStatus.expired,
}
# Statuses that become partiallyFilled once vol_exec > 0.
LIVE_STATUSES = frozenset({"pending", "open"})

# Kraken `descr.ordertype` → Mesh BrokerOrderPlaceType.
ORDER_TYPE_MAP: dict[str, str] = {
    "market": "market",
    "limit": "limit",
    "stop-loss": "stopLoss",
    "stop-loss-limit": "stopLimit",
    "take-profit": "takeProfit",
    "take-profit-limit": "takeProfit",
}

# Kraken's legacy asset codes (XXBT, ZUSD, XDG) → the symbols everyone else uses.
_ASSET_ALIASES = {
    "XBT": "BTC",
    "XXBT": "BTC",
    "XDG": "DOGE",
    "XXDG": "DOGE",
    "ZUSD": "USD",
    "ZEUR": "EUR",
    "ZGBP": "GBP",
    "ZCAD": "CAD",
    "ZJPY": "JPY",
    "ZCHF": "CHF",
    "ZAUD": "AUD",
    "XETH": "ETH",
}
_QUOTES = (
    "ZUSD",
    "ZEUR",
    "ZGBP",
    "ZCAD",
    "ZJPY",
    "USDT",
    "USDC",
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "JPY",
    "CHF",
    "AUD",
    "XBT",
    "ETH",
    "DAI",
)


def split_pair(pair: str) -> tuple[str | None, str | None]:
    """`XBTUSD` → (BTC, USD); `XXBTZEUR` → (BTC, EUR); `ETH/USDT` → (ETH, USDT); unknown shapes → (None, None)."""
    if "/" in pair:
        base, _, quote = pair.partition("/")
    else:
        quote = next((q for q in _QUOTES if pair.endswith(q) and len(pair) > len(q)), "")
        base = pair[: -len(quote)] if quote else ""
    if not base or not quote:
        return None, None
    return _ASSET_ALIASES.get(base, base), _ASSET_ALIASES.get(quote, quote)


# Kraken order txids: O + three dash-separated groups; an integer would be read as a userref, a list as several orders.
ORDER_ID_SHAPE = OrderIdShape(r"O[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}", "OQCLML-BW3P3-BUCMWZ")
