"""Binance Spot REST facts as data (binance.com, its testnet, and Binance.US, which runs the same API).

Sources (checked for this module, see the report that introduced it):
- github.com/binance/binance-spot-api-docs rest-api.md: `totalParams` = query string concatenated with the
  body, HMAC-SHA256 hex, "signature is not case sensitive"; timing rule `timestamp < serverTime + 1000 and
  serverTime - timestamp <= recvWindow` (default 5000, max 60000); 4XX = sender's fault, 403 = WAF, 418 = IP
  auto-ban, 429 = rate limit, both with `Retry-After` in seconds; 5XX = "execution status UNKNOWN".
- same repository, errors.md: the codes below and the matching-engine messages shared by -1010/-2010/-2011.
- developers.binance.com spot REST general info: -1007 after the 10 s backend timeout "does not always mean
  that the request failed in the matching engine".
- Issue threads: 451 `{"code":0,"msg":"Service unavailable from a restricted location …"}` (ccxt#19167,
  crypto-power/cryptopower#510); -2015 with HTTP 401 for a key without "Spot & Margin Trading"
  (ccxt#10198, ccxt/binance-trade-bot#425); 418 "Way too much request weight used; IP banned until <ms>"
  (ccxt#14639); "Rest API trading is not enabled." under -2010 (sonvister/Binance#66).
"""

from __future__ import annotations

import re
from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.venues.base import OrderIdShape

ORDER_PATH = "/api/v3/order"  # DELETE cancels (weight 1), GET looks up (weight 4)
# The cheapest signed call that needs no symbol: weight 20. (openOrders without a symbol weighs 80.)
ACCOUNT_PATH = "/api/v3/account"
TIME_PATH = "/api/v3/time"  # unsigned, weight 1: used only to re-synchronise after -1021
API_KEY_HEADER = "X-MBX-APIKEY"

RECV_WINDOW_MS = 5000  # Binance's default and its recommended upper bound

ACCOUNT_NAMES: dict[IntegrationType, str] = {
    IntegrationType.binanceUs: "Binance.US",
    IntegrationType.binanceInternational: "Binance",
    IntegrationType.binanceInternationalDirect: "Binance",
}
# `omitZeroBalances` is documented for binance.com only; Binance answers -1104 to parameters an endpoint does
# not read, so it is not sent to Binance.US.
OMIT_ZERO_BALANCES: frozenset[IntegrationType] = frozenset(
    {IntegrationType.binanceInternational, IntegrationType.binanceInternationalDirect}
)


class Ambiguous(StrEnum):
    """Binance answers whose meaning depends on the call that got them, resolved by the adapter."""

    unknownOrder = "unknownOrder"  # -2011 "Unknown order sent." also covers filled and cancelled orders
    noSuchOrder = "noSuchOrder"  # -2013 on a lookup: definitely no such order
    archived = "archived"  # -2026: cancelled or expired, nothing executed, older than 90 days
    outcomeUnknown = "outcomeUnknown"  # the engine may have acted (-1006, -1007, -1000)
    clockSkew = "clockSkew"  # -1021: our timestamp is outside Binance's window; re-sync and retry once
    keyOrPermission = "keyOrPermission"  # -2015 means a bad key, a bad IP *or* a missing permission
    requestWeight = "requestWeight"  # -1003: a 429 rate limit, or an IP ban when it says "banned until"
    badSymbol = "badSymbol"  # -1121: the symbolPair the client sent is not a Binance symbol


CODE_MAP: dict[int, ErrorType | Ambiguous] = {
    -1000: Ambiguous.outcomeUnknown,  # "An unknown error occurred while processing the request."
    -1001: ErrorType.institutionUnavailable,  # "Internal error; unable to process your request."
    -1002: ErrorType.institutionPermissionDenied,  # "You are not authorized to execute this request."
    -1003: Ambiguous.requestWeight,
    -1006: Ambiguous.outcomeUnknown,  # "… Execution status unknown."
    -1007: Ambiguous.outcomeUnknown,  # "Timeout waiting for response from backend server. …"
    -1008: ErrorType.institutionUnavailable,  # "Server is currently overloaded …"
    -1015: ErrorType.rateLimited,  # too many new orders (never for a cancel, kept for completeness)
    -1016: ErrorType.institutionUnavailable,  # "This service is no longer available."
    -1021: Ambiguous.clockSkew,
    -1022: ErrorType.institutionAuthFailed,  # "Signature for this request is not valid."
    -1121: Ambiguous.badSymbol,
    -2011: ErrorType.institutionRejected,  # CANCEL_REJECTED; "Unknown order sent." is told apart by its message
    -2013: Ambiguous.noSuchOrder,
    -2014: ErrorType.institutionAuthFailed,  # "API-key format invalid."
    -2015: Ambiguous.keyOrPermission,
    -2026: Ambiguous.archived,
}

# Matching-engine messages (errors.md: shared by -1010, -2010 and -2011); checked before the code, compared
# without a trailing full stop.
MESSAGE_MAP: dict[str, ErrorType | Ambiguous] = {
    "Unknown order sent.": Ambiguous.unknownOrder,
    "This action is disabled on this account.": ErrorType.institutionPermissionDenied,
    "This account may not place or cancel orders.": ErrorType.institutionPermissionDenied,
    "This symbol is not permitted for this account.": ErrorType.institutionPermissionDenied,
    "This symbol is restricted for this account.": ErrorType.institutionPermissionDenied,
    "Rest API trading is not enabled.": ErrorType.institutionPermissionDenied,
    "Market is closed.": ErrorType.institutionRejected,
}

# What HTTP status alone says when the body carries no Binance error code.
HTTP_STATUS_MAP: dict[int, ErrorType] = {
    403: ErrorType.institutionUnavailable,  # Binance's WAF refused the request; nothing was processed
    418: ErrorType.institutionLocked,  # IP auto-banned for ignoring 429s
    429: ErrorType.rateLimited,
    451: ErrorType.institutionRestricted,  # "Service unavailable from a restricted location …"
}

# Used only when Binance sends no Retry-After: the request-weight window is one minute; bans last 2 min to 3 days.
DEFAULT_RETRY_AFTER_S = {ErrorType.rateLimited: 60, ErrorType.institutionLocked: 120}
BANNED_UNTIL = re.compile(r"banned until (\d{10,16})")

STATUS_MAP: dict[str, OrderStatus] = {
    "NEW": OrderStatus.inProgress,
    "PENDING_NEW": OrderStatus.inProgress,  # waiting for the working order of its order list
    "PARTIALLY_FILLED": OrderStatus.partiallyFilled,
    "FILLED": OrderStatus.success,
    "CANCELED": OrderStatus.cancelled,  # also for a partly filled order that was cancelled: see executedQty
    "PENDING_CANCEL": OrderStatus.inProgress,  # "currently unused"
    "REJECTED": OrderStatus.rejected,
    "EXPIRED": OrderStatus.expired,
    "EXPIRED_IN_MATCH": OrderStatus.expired,  # expired by self-trade prevention
}

# Binance order `type` → Mesh BrokerOrderPlaceType.
ORDER_TYPE_MAP: dict[str, str] = {
    "LIMIT": "limit",
    "LIMIT_MAKER": "limit",
    "MARKET": "market",
    "STOP_LOSS": "stopLoss",
    "STOP_LOSS_LIMIT": "stopLimit",
    "TAKE_PROFIT": "takeProfit",
    "TAKE_PROFIT_LIMIT": "takeProfit",
}
# Binance `timeInForce` → Mesh BrokerOrderTimeInForceType. LIMIT_MAKER orders report GTC but are post-only.
TIME_IN_FORCE_MAP: dict[str, str] = {"GTC": "goodTillCanceled", "IOC": "immediateOrCancel", "FOK": "fillOrKill"}

# Quote assets, to split a concatenated symbol such as BTCUSDT into (BTC, USDT); the longest match wins.
_QUOTES = (
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USD1", "BIDR", "BVND", "IDRT",
    "USD", "EUR", "GBP", "TRY", "BRL", "JPY", "AUD", "ARS", "MXN", "COP", "PLN", "RON", "UAH", "ZAR", "DAI",
    "BTC", "ETH", "BNB", "XRP", "TRX", "DOGE",
)  # fmt: skip
QUOTE_ASSETS = tuple(sorted(_QUOTES, key=len, reverse=True))

_SEPARATORS = re.compile(r"[/\-_ ]")


def normalize_symbol(pair: str) -> tuple[str, tuple[str, str] | None] | None:
    """`BTCUSDT`, `BTC/USDT`, `BTC-USDT`, `btc_usdt` → ("BTCUSDT", split or None); None when it cannot be one.

    Binance symbols are the base and quote asset names concatenated, upper case, letters and digits; since 2025
    some asset names are non-ASCII (e.g. Chinese), so Unicode letters are accepted and sent percent-encoded.
    """
    parts = _SEPARATORS.split(pair.strip().upper())
    if len(parts) > 2 or not all(parts) or not all(p.isalnum() for p in parts):
        return None
    symbol = "".join(parts)
    if not 2 <= len(symbol) <= 20:
        return None
    return symbol, ((parts[0], parts[1]) if len(parts) == 2 else None)


def split_symbol(symbol: str) -> tuple[str | None, str | None]:
    quote = next((q for q in QUOTE_ASSETS if symbol.endswith(q) and len(symbol) > len(q)), None)
    return (symbol[: -len(quote)], quote) if quote else (None, None)


# Binance orderId is a signed 64-bit integer; ordergate takes the non-negative ones.
ORDER_ID_SHAPE = OrderIdShape(r"[0-9]{1,19}", "28457")

# Listing (Mesh /transactions/list), from binance-spot-api-docs rest-api.md "Current open orders" and "All orders":
# - GET /api/v3/openOrders: `symbol` optional; weight 6 with a symbol, 80 without ("Careful when accessing this with
#   no symbol"). Every open order at once, no paging.
# - GET /api/v3/allOrders: `symbol` mandatory, `orderId` (orders >= it), `startTime`, `endTime`, `limit` (default
#   500, max 1000), weight 20; "If orderId is set, it will get orders >= that orderId. Otherwise most recent orders
#   are returned"; "The time between startTime and endTime can't be longer than 24 hours" (-1127). Answers in
#   ascending orderId; holds open, filled, cancelled and expired orders alike. Binance has no all-symbol history,
#   so a listing beyond open orders needs symbolPair.
# ordergate pages history newest first by `endTime` (inclusive) plus the last orderId seen, since `orderId` only
# pages forward. `startTime` is not sent for Mesh's `from`: without `endTime` its paging direction is undocumented
# and with it the 24-hour cap applies; `from` is filtered here and ends the paging instead.
OPEN_ORDERS_PATH = "/api/v3/openOrders"
# Kill switch: DELETE /api/v3/openOrders (rest-api.md "Cancel All Open Orders on a Symbol (TRADE)"): `symbol`
# mandatory, weight 1, "Cancels all active orders on a symbol. This includes orders that are part of an order list";
# answers an array of the single cancel's bodies (an order list as an object with `orderReports`). With nothing open
# on the symbol it answers -2011 "Unknown order sent." (binance-connector-python#185, JKorf/Binance.Net#359;
# python-binance's `cancel_all_open_orders` sends it as a DELETE with a form body).
CANCEL_OPEN_ORDERS_PATH = OPEN_ORDERS_PATH
ALL_ORDERS_PATH = "/api/v3/allOrders"
ALL_ORDERS_MAX_LIMIT = 1000
