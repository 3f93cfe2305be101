"""KuCoin Spot REST facts as data: where to call, what each answer code means, how long to back off.

Sources (checked for this module):
- KuCoin "Authentication" (docs-new, mirrored in rosssaunders/coincise docs/kucoin/authentication.md): prehash
  `timestamp + METHOD + endpoint + body`, HMAC-SHA256 with the secret as text, base64; KC-API-PASSPHRASE is the
  passphrase HMAC'd the same way; GET/DELETE sign the query un-URL-encoded; the docs' examples send
  KC-API-KEY-VERSION "2". Timestamps more than 5 s off are refused (400002, spot error code table).
- Endpoints and payloads: kucoin-universal-sdk 1.3.2 (official), `spot/order/api_order.py` and its test fixtures:
  HF `DELETE|GET /api/v1/hf/orders/{orderId}?symbol=`, classic ("Old") `DELETE|GET /api/v1/orders/{orderId}`,
  `GET /api/v1/hf/accounts/opened` ("whether the current user is a spot high-frequency user"). Both cancel
  endpoints are documented as "only sends cancellation requests; the results must be obtained by checking the
  order status", so an accepted cancel is `inProgress`, never `cancelled`.
- Error codes: kucoin.com/docs/basic-info/errors-code/spot-errors-code and docs-new/error-code (gateway codes
  400001-400012, 400301 regional restriction). `400100` is KuCoin's generic "Parameter Error"; for a cancel it
  carries `order_not_exist_or_not_allow_to_cancel` for unknown, filled *and* cancelled orders alike (HTTP 200;
  Kucoin/kucoin-python-sdk#22, sjanel/coincenter#117, ccxt#24154). Lookups of unknown orders answer
  "order not exist." (freqtrade#5624) or "The order does not exist." (ccxt's exact-message table).
- Rate limits: docs-new/rate-limit: HTTP 429 + code 429000 when a resource pool (30 s windows) is used up;
  every private answer carries `gw-ratelimit-limit`, `gw-ratelimit-remaining`, `gw-ratelimit-reset` (the reset
  countdown in milliseconds, also so documented on the SDK's RestRateLimit). Overload 429000s carry no headers.
"""

from __future__ import annotations

import re
from enum import StrEnum

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import OrderStatus
from ordergate.venues.base import OrderIdShape

PRODUCTION_URL = "https://api.kucoin.com"

CLASSIC_ORDER_PATH = "/api/v1/orders/{order_id}"  # DELETE cancels, GET looks up; no symbol
HF_ORDER_PATH = "/api/v1/hf/orders/{order_id}"  # same for HF ("Pro") accounts; `?symbol=` is required
# GENERAL permission, one call, and it answers the one thing later calls need: whether the account is HF.
VERIFY_PATH = "/api/v1/hf/accounts/opened"

SUCCESS_CODE = "200000"
KEY_VERSION = "2"  # what KuCoin's own signing examples send; v2 and v3 keys sign identically

HEADER_KEY = "KC-API-KEY"
HEADER_SIGN = "KC-API-SIGN"
HEADER_TIMESTAMP = "KC-API-TIMESTAMP"
HEADER_PASSPHRASE = "KC-API-PASSPHRASE"
HEADER_KEY_VERSION = "KC-API-KEY-VERSION"
RATE_LIMIT_RESET_HEADER = "gw-ratelimit-reset"  # milliseconds until the pool refills
RATE_LIMIT_LIMIT_HEADER = "gw-ratelimit-limit"
RATE_LIMIT_REMAINING_HEADER = "gw-ratelimit-remaining"

TIMESTAMP_WINDOW_MS = 5_000
# A 429000 without the countdown header (server overload) or an edge 429: every pool resets within its 30 s
# window, and KuCoin's Cloudflare IP block (error 1015) is documented as 30 s.
DEFAULT_RETRY_AFTER_S = 30


class Ambiguous(StrEnum):
    """Answers whose meaning depends on the call that got them, resolved by the adapter."""

    unknownOrder = "unknownOrder"  # cancel: let the service look it up; lookup: no such order


ERROR_MAP: dict[str, ErrorType | Ambiguous] = {
    "400001": ErrorType.institutionAuthFailed,  # a KC-API-* header is missing
    "400002": ErrorType.institutionAuthFailed,  # KC-API-TIMESTAMP more than 5 s off
    "400003": ErrorType.institutionAuthFailed,  # KC-API-KEY does not exist
    "400004": ErrorType.institutionAuthFailed,  # KC-API-PASSPHRASE wrong
    "400005": ErrorType.institutionAuthFailed,  # KC-API-SIGN wrong
    "400006": ErrorType.institutionAuthFailed,  # request IP not in the key's whitelist
    "400007": ErrorType.institutionPermissionDenied,  # "Access denied, requires more permission"
    "400008": ErrorType.institutionAuthFailed,  # "V1 & V2 API keys are no longer supported by this API"
    "400009": ErrorType.institutionAuthFailed,  # invalid KC-API-KEY-VERSION
    "400010": ErrorType.institutionPermissionDenied,  # UID access denied
    "400100": Ambiguous.unknownOrder,  # generic parameter error; on our calls only the order id can be wrong
    "126043": Ambiguous.unknownOrder,  # "Order does not exist" (HF)
    "400301": ErrorType.institutionRestricted,  # "Operation restricted due to local laws, regulations, or policies"
    "400500": ErrorType.institutionRestricted,  # "Your located country/region is currently not supported"
    "126021": ErrorType.institutionRestricted,  # asset not available to users in your region
    "126045": ErrorType.institutionRestricted,
    "126046": ErrorType.institutionRestricted,  # asset not available for your IP region
    "411100": ErrorType.institutionLocked,  # "User are frozen"
    "400700": ErrorType.institutionLocked,  # "Transaction restricted, there's a risk problem in your account"
    "126002": ErrorType.institutionLocked,  # risk problem, transactions temporarily not allowed
    "429000": ErrorType.rateLimited,
    "500000": ErrorType.institutionUnavailable,
    # Documented as "Order cancel for this pair suspended" (the rate-limit 1.0 page also used it for per-endpoint
    # limits, now retired): either way the venue did not act, and the service looks the order up after it.
    "200002": ErrorType.institutionUnavailable,
    "126010": ErrorType.institutionUnavailable,  # trading pair suspended order cancellation
}

# HF: `active`; classic: `isActive`. Done orders are told apart by `cancelExist` and the filled size.
STATUS_ACTIVE, STATUS_DONE = "active", "done"

ORDER_TYPE_MAP: dict[str, str] = {"limit": "limit", "market": "market"}
STOP_ORDER_TYPE_MAP: dict[str, str] = {"limit": "stopLimit", "market": "stopLoss"}
TIME_IN_FORCE_MAP: dict[str, str] = {"GTC": "goodTillCanceled", "IOC": "immediateOrCancel", "FOK": "fillOrKill"}

# Order ids are 24 hex characters; anything outside this alphabet could change the signed path.
ORDER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PAIR_RE = re.compile(r"^([A-Z0-9]{1,20})[-/_]([A-Z0-9]{1,20})$")
# Quote assets KuCoin lists markets in, longest first, to split a glued pair such as BTCUSDT.
_QUOTES = ("USDT", "USDC", "TUSD", "USDE", "PYUSD", "BTC", "ETH", "KCS", "TRX", "DAI", "EUR", "BRL", "USD")


def kucoin_symbol(pair: str) -> str | None:
    """`BTC-USDT`, `btc/usdt`, `BTC_USDT` or `BTCUSDT` → `BTC-USDT`; None when it cannot be read."""
    text = pair.strip().upper()
    match = _PAIR_RE.match(text)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    if re.fullmatch(r"[A-Z0-9]{2,40}", text):
        quote = next((q for q in _QUOTES if text.endswith(q) and len(text) > len(q)), None)
        if quote:
            return f"{text[: -len(quote)]}-{quote}"
    return None


def order_status(active: bool, cancel_exist: bool, filled: float) -> OrderStatus:
    """KuCoin has no status string: an order is active or done, and a done one was cancelled or filled."""
    if active:
        return OrderStatus.partiallyFilled if filled > 0 else OrderStatus.inProgress
    if cancel_exist:
        return OrderStatus.cancelled  # also for a partly filled order cancelled afterwards
    # Done without a cancel record means the engine finished it by filling it (market orders by funds have size
    # 0, so the filled size decides); done with nothing filled and nothing cancelled is an order it refused.
    return OrderStatus.success if filled > 0 else OrderStatus.rejected


# KuCoin order ids (classic and HF) are 24 lower-case hex characters.
ORDER_ID_SHAPE = OrderIdShape(r"[0-9a-f]{24}", "5bd6e9286d99522a52e458de")

# Listing (Mesh /transactions/list), from kucoin-universal-sdk 1.3.2 spot/order (api_order.py and its models):
# - classic: GET /api/v1/orders?status=active|done ("done as default"), symbol, startAt/endAt (ms), tradeType
#   TRADE, currentPage, pageSize ("Minimum is 10, maximum is 500"); answers {currentPage, pageSize, totalNum,
#   totalPage, items} newest first.
# - HF: GET /api/v1/hf/orders/active?symbol= (every open order of one symbol, no paging; symbol required in
#   KuCoin's docs and in ccxt's fetchOrdersByStatus for HF) and GET /api/v1/hf/orders/done?symbol=&lastId=&limit=
#   (limit default 20, max 100; "lastId is used to filter data and paginate"), answering {lastId, items}.
# So an HF account lists per symbol (symbolPair required); a classic one across symbols. Open orders come first,
# then done ones; `from` is startAt.
CLASSIC_LIST_PATH = "/api/v1/orders"
HF_ACTIVE_PATH = "/api/v1/hf/orders/active"
HF_DONE_PATH = "/api/v1/hf/orders/done"
CLASSIC_PAGE_SIZE = (10, 500)
HF_DONE_LIMIT_MAX = 100

# Kill switch, from kucoin-universal-sdk 1.3.2 spot/order (api_order.py and its models):
# - classic: DELETE /api/v1/orders?symbol=&tradeType=TRADE (`batch_cancel_order_old`; symbol optional, tradeType
#   default TRADE) answers {"cancelledOrderIds": [...]}: every order it cancelled, named.
# - HF: DELETE /api/v1/hf/orders?symbol= (`cancel_all_orders_by_symbol`) answers data "success";
#   DELETE /api/v1/hf/orders/cancelAll (`cancel_all_orders`, every symbol) answers {succeedSymbols,
#   failedSymbols: [{symbol, error}]}. Neither names an order, so HF orders are named from the open-order listing
#   before (GET /api/v1/hf/orders/active/symbols, `get_symbols_with_open_order`, answers {"symbols": [...]}; then
#   the active listing per symbol) and their outcome read from the done listing after.
# All of them "only send cancellation requests" like the single cancels: an order named is `inProgress`.
CLASSIC_CANCEL_ALL_PATH = "/api/v1/orders"
HF_CANCEL_SYMBOL_PATH = "/api/v1/hf/orders"
HF_CANCEL_ALL_PATH = "/api/v1/hf/orders/cancelAll"
HF_OPEN_SYMBOLS_PATH = "/api/v1/hf/orders/active/symbols"
