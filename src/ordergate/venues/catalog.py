"""Every Mesh integration type as data: what its cancel needs, where its API lives, whether we can cancel.

`cancel_supported` is true only where ordergate has a real adapter (see registry.ADAPTERS); `mesh_cancel`
records whether Mesh lists the integration as supporting cancel. README's venue table is generated from this.
"""

from __future__ import annotations

import importlib

from ordergate.domain.integrations import IntegrationType as T
from ordergate.venues.base import OrderIdShape, VenueSpec
from ordergate.venues.base import RequestField as F

# Mesh's "Supported integrations" list on the transactions request models (client 2.0.28).
# Mesh's documentation of `POST /api/v1/transactions/cancel` lists 31 integrations ("Binance" there is binanceUs).
MESH_CANCEL = frozenset(
    {
        T.robinhood, T.eTrade, T.alpaca, T.weBull, T.stash, T.interactiveBrokers, T.public, T.coinbase, T.kraken,
        T.coinbasePro, T.cryptoCom, T.binanceUs, T.gemini, T.okCoin, T.kuCoin, T.etoro, T.cexIo,
        T.binanceInternational, T.bitstamp, T.gateIo, T.okx, T.bitFlyer, T.coinlist, T.huobi, T.bitfinex,
        T.krakenDirect, T.vanguard, T.binanceInternationalDirect, T.bybit, T.coinbasePrime, T.robinhoodConnect,
    }
)  # fmt: skip

# Integrations whose institution offers no public API to cancel an order: a definite answer, decided from the type
# alone, in words a user understands.
NO_CANCEL_API: dict[T, str] = {
    T.stash: "Stash offers no API for cancelling orders; cancel the order in the Stash app.",
    T.vanguard: "Vanguard offers no API for cancelling orders; cancel the order on vanguard.com or in its app.",
    T.acorns: "Acorns invests on a schedule and offers no API for cancelling orders; use the Acorns app.",
    T.robinhoodConnect: (
        "Robinhood Connect moves crypto into an app and places no orders, so there is nothing to cancel; "
        "connect the Robinhood integration to cancel Robinhood orders."
    ),
    T.tdAmeritrade: (
        "TD Ameritrade accounts have moved to Charles Schwab and its API is shut down; "
        "connect the account through the Schwab integration."
    ),
}

_API_KEY = ("username=API key", "password=API secret")
_API_KEY_PASSPHRASE = (*_API_KEY, "authToken=passphrase")
# Blockchain.com: one API token, sent as it is; the username only names the connection.
_API_TOKEN = ("password=API secret token", "username=a label for the connection (optional)")
_COINBASE = ("username=API key name or `oauth`", "password=private key (EC PEM or base64 Ed25519) or OAuth token")
# Alpaca: a key pair, or username `oauth` with an OAuth access token; authToken optionally pins the environment.
_ALPACA = (
    "username=API key ID or `oauth`",
    "password=API secret or OAuth token",
    "authToken=`paper`/`live` (optional)",
)

# eToro: the application key and the user's key; authToken names the environment the user key was created for.
_ETORO = (
    "username=x-api-key (application key)",
    "password=x-user-key (user key)",
    "authToken=`demo`/`real` (default real)",
)
# Robinhood: a Crypto Trading API key and the Ed25519 private key registered with it (crypto orders), or the user's
# Robinhood login (equities orders; a verification code through mfaCode + challengeId when Robinhood asks for one).
_ROBINHOOD = (
    "crypto: username=Crypto Trading API key (rh-api-…), password=base64 Ed25519 private key (seed)",
    "equities: username/password=the Robinhood login, then mfaCode + challengeId",
)
# Webull OpenAPI: the app key pair; the account id comes from Webull's account list at /authenticate.
_WEBULL = ("username=App Key", "password=App Secret")
# Interactive Brokers: the operator's gateway holds the login; the token names one account.
_IBKR = ("username=account id (`U…`/`DU…`), or empty for one token per account", "no password")
# Public: the API secret from Public's settings page; username optionally picks one account (else one token each).
_PUBLIC = ("username=account number (optional)", "password=API secret")

# E*TRADE: OAuth 1.0a. The consumer key pair is the user's own or the deployment's (ORDERGATE_ETRADE_CONSUMER_*);
# authToken carries an access token already obtained, else /authenticate walks the three-legged flow in two steps.
_ETRADE = (
    "username=consumer key (optional)",
    "password=consumer secret (optional)",
    "authToken=`<access token>:<secret>` (optional)",
)

# type: (display name, family with an adapter or None, required cancel fields, credential fields, prod URL)
_ROWS: dict[T, tuple[str, str | None, frozenset[F], tuple[str, ...], str | None]] = {
    # Robinhood: the equities half (the app's private API) at this URL; the crypto half (Crypto Trading API) on its
    # own host (venues/robinhood/constants.py).
    T.robinhood: ("Robinhood", "robinhood", frozenset(), _ROBINHOOD, "https://api.robinhood.com"),
    T.eTrade: ("E*TRADE", "etrade", frozenset(), _ETRADE, "https://api.etrade.com"),
    T.alpaca: ("Alpaca", "alpaca", frozenset(), _ALPACA, "https://api.alpaca.markets"),
    T.tdAmeritrade: ("TD Ameritrade", None, frozenset(), (), None),
    T.weBull: ("Webull", "webull", frozenset(), _WEBULL, "https://api.webull.com"),
    T.stash: ("Stash", None, frozenset(), (), None),
    # No production URL: the user's own Client Portal Gateway, which the operator configures.
    T.interactiveBrokers: ("Interactive Brokers", "ibkr", frozenset(), _IBKR, None),
    T.public: ("Public", "public", frozenset(), _PUBLIC, "https://api.public.com"),
    # Mesh says `side` "should be provided for Coinbase"; Advanced Trade's cancel does not need it, so it is optional.
    T.coinbase: ("Coinbase", "coinbase", frozenset(), _COINBASE, "https://api.coinbase.com"),
    T.kraken: ("Kraken", "kraken", frozenset(), _API_KEY, "https://api.kraken.com"),
    T.coinbasePro: (
        "Coinbase Exchange",
        "coinbase_exchange",
        frozenset(),
        _API_KEY_PASSPHRASE,
        "https://api.exchange.coinbase.com",
    ),
    T.cryptoCom: ("Crypto.com Exchange", "crypto_com", frozenset(), _API_KEY, "https://api.crypto.com/exchange/v1"),
    T.openSea: ("OpenSea", None, frozenset(), (), None),
    T.binanceUs: ("Binance.US", "binance", frozenset({F.symbolPair}), _API_KEY, "https://api.binance.us"),
    T.gemini: ("Gemini", "gemini", frozenset(), _API_KEY, "https://api.gemini.com"),
    T.cryptocurrencyAddress: ("Crypto address", None, frozenset(), (), None),
    T.cryptocurrencyWallet: ("Crypto wallet", None, frozenset(), (), None),
    T.okCoin: ("OKCoin", "okx", frozenset({F.symbolPair}), _API_KEY_PASSPHRASE, "https://us.okx.com"),
    T.bittrex: ("Bittrex", None, frozenset(), (), None),
    T.kuCoin: ("KuCoin", "kucoin", frozenset(), _API_KEY_PASSPHRASE, "https://api.kucoin.com"),
    T.etoro: ("eToro", "etoro", frozenset(), _ETORO, "https://public-api.etoro.com"),
    T.cexIo: ("CEX.IO", "cex_io", frozenset(), _API_KEY, "https://trade.cex.io/api/spot/rest"),
    T.binanceInternational: ("Binance", "binance", frozenset({F.symbolPair}), _API_KEY, "https://api.binance.com"),
    T.bitstamp: ("Bitstamp", "bitstamp", frozenset(), _API_KEY, "https://www.bitstamp.net"),
    T.gateIo: ("Gate.io", "gate_io", frozenset({F.symbolPair}), _API_KEY, "https://api.gateio.ws/api/v4"),
    T.acorns: ("Acorns", None, frozenset(), (), None),
    T.okx: ("OKX", "okx", frozenset({F.symbolPair}), _API_KEY_PASSPHRASE, "https://www.okx.com"),
    T.bitFlyer: ("bitFlyer", "bitflyer", frozenset({F.symbolPair}), _API_KEY, "https://api.bitflyer.com"),
    T.bitfinex: ("Bitfinex", "bitfinex", frozenset(), _API_KEY, "https://api.bitfinex.com"),
    T.huobi: ("HTX (Huobi)", "huobi", frozenset(), _API_KEY, "https://api.huobi.pro"),
    T.coinlist: ("CoinList", "coinlist", frozenset(), _API_KEY, "https://trade-api.coinlist.co"),
    T.deFiWallet: ("DeFi wallet", None, frozenset(), (), None),
    T.krakenDirect: ("Kraken (Direct)", "kraken", frozenset(), _API_KEY, "https://api.kraken.com"),
    T.vanguard: ("Vanguard", None, frozenset(), (), None),
    T.binanceInternationalDirect: (
        "Binance (Direct)",
        "binance",
        frozenset({F.symbolPair}),
        _API_KEY,
        "https://api.binance.com",
    ),
    T.bitfinexDirect: ("Bitfinex (Direct)", "bitfinex", frozenset(), _API_KEY, "https://api.bitfinex.com"),
    T.bybit: ("Bybit", "bybit", frozenset(), _API_KEY, "https://api.bybit.com"),
    T.paxos: ("Paxos", None, frozenset(), (), "https://api.paxos.com"),
    T.coinbasePrime: (
        "Coinbase Prime",
        "coinbase_prime",
        frozenset(),
        _API_KEY_PASSPHRASE,
        "https://api.prime.coinbase.com",
    ),
    T.btcTurkDirect: ("BtcTurk (Direct)", "btcturk", frozenset(), _API_KEY, "https://api.btcturk.com"),
    T.kuCoinDirect: ("KuCoin (Direct)", "kucoin", frozenset(), _API_KEY_PASSPHRASE, "https://api.kucoin.com"),
    T.okxOAuth: ("OKX (OAuth)", None, frozenset({F.symbolPair}), (), "https://www.okx.com"),
    T.paribuDirect: ("Paribu (Direct)", None, frozenset(), (), None),
    T.robinhoodConnect: ("Robinhood Connect", None, frozenset(), (), None),
    T.blockchainCom: (
        "Blockchain.com",
        "blockchain_com",
        frozenset(),
        _API_TOKEN,
        "https://api.blockchain.com/v3/exchange",
    ),
    T.bitsoDirect: ("Bitso (Direct)", "bitso", frozenset(), _API_KEY, "https://bitso.com"),
    T.binanceConnect: ("Binance Connect", None, frozenset(), (), None),
    T.binanceOAuth: ("Binance (OAuth)", None, frozenset({F.symbolPair}), (), "https://api.binance.com"),
    T.revolutConnect: ("Revolut Connect", None, frozenset(), (), None),
    T.binancePay: ("Binance Pay", None, frozenset(), (), None),
    T.bybitDirect: ("Bybit (Direct)", "bybit", frozenset(), _API_KEY, "https://api.bybit.com"),
    T.paribuOAuth: ("Paribu (OAuth)", None, frozenset(), (), None),
    T.payPalConnect: ("PayPal Connect", None, frozenset(), (), None),
    T.binanceTrDirect: ("Binance TR (Direct)", None, frozenset(), _API_KEY, None),
    T.coinbaseRamp: ("Coinbase Ramp", None, frozenset(), (), None),
    T.bybitDirectMobile: ("Bybit (Direct, mobile)", "bybit", frozenset(), _API_KEY, "https://api.bybit.com"),
    T.sandbox: ("Mesh sandbox", None, frozenset(), (), None),
}

# family → the independent client (official SDK or ccxt) that places and cancels orders on its simulator in tests.
ORACLES: dict[str, str] = {
    "kraken": "krakenex, python-kraken-sdk",
    "coinbase": "coinbase-advanced-py",
    "kucoin": "kucoin-universal-sdk",
    "okx": "python-okx",
    "alpaca": "alpaca-py",
    "binance": "python-binance, binance-sdk-spot",
    "bybit": "pybit",
    "coinbase_exchange": "ccxt coinbaseexchange",
    "coinbase_prime": "prime-sdk-py (official), hand-checked vector",
    "gemini": "ccxt gemini",
    "bitfinex": "bitfinex-api-py, ccxt bitfinex",
    "huobi": "ccxt htx",
    "bitstamp": "ccxt bitstamp",
    "gate_io": "gate-api (official), ccxt gate",
    "bitflyer": "ccxt bitflyer, pybitflyer",
    "crypto_com": "ccxt cryptocom",
    "coinlist": "ccxt 4.4.88 coinlist (own venv)",
    "cex_io": "ccxt cex",
    "bitso": "ccxt bitso",
    "btcturk": "ccxt btcturk",
    "blockchain_com": "ccxt blockchaincom",
    "etoro": "etoropy 0.1.7 (own venv)",
    "robinhood": "hood (crypto), robin_stocks 3.4.0 (equities), docs' vector",
    "webull": "webull-openapi-python-sdk 3.0.4 (official, own venv)",
    "ibkr": "ibind 0.2.2 (own venv)",
    "public": "publicdotcom-py (official, own venv)",
    "etrade": "pyetrade 2.1.1 (own venv)",
}

# family → documented per-key limit for cancels (requests per second, burst), the most generous tier where limits
# depend on the account's tier: the budget must never refuse what the venue would accept.
KEY_BUDGETS: dict[str, tuple[float, int]] = {
    "kraken": (3.75, 180),  # trading counter, Pro tier: max 180, decays 3.75/s (cancels are not in the REST counter)
    "coinbase": (30.0, 30),  # Advanced Trade private endpoints: 30 requests/s per user
    "coinbase_exchange": (15.0, 30),  # private endpoints: 15 requests/s per profile, burst 30
    "coinbase_prime": (25.0, 50),  # 25 requests/s per portfolio, burst 50
    "okx": (30.0, 60),  # cancel-order: 60 requests per 2 s per user and instrument
    "bybit": (20.0, 20),  # /v5/order/cancel, spot: 20 requests/s per UID
    "alpaca": (200 / 60, 200),  # Trading API: 200 requests per minute per account
    "gemini": (10.0, 15),  # private API: 600 requests per minute; ten at once are processed, five more queued
    "bitfinex": (1.5, 90),  # /v2/auth/w/order/cancel: 90 requests per minute
    "huobi": (50.0, 100),  # submitcancel: 100 requests per 2 s per UID
    # 400 requests/s, and 10,000 per 10 minutes: a burst of 400 plus 16/s stays inside both.
    "bitstamp": (16.0, 400),
    "gate_io": (200.0, 200),  # spot: "batch/single order cancellation is total of 200r/s" per UID
    # bitflyer: "Private APIs 500 queries per 5 minutes", and each cancel is three of them (read, cancel, read).
    "bitflyer": (500 / 300 / 3, 166),
    "crypto_com": (150.0, 15),  # private/cancel-order: 15 requests per 100 ms per API key
    # ccxt 4.4.88 coinlist: "1000 per 5 minutes" (CoinList's docs were not reachable); never stricter than that.
    "coinlist": (1000 / 300, 1000),
    # 200 points per minute per key; a cancel is a get_my_orders (5) and a do_cancel_my_order (1): 33 a minute
    "cex_io": (200 / 6 / 60, 33),
    "btcturk": (5.0, 10),  # DELETE /api/v1/order: 10 per second and 300 per minute per account
    # etoro: 20 requests per 60 s per user key, one quota shared by every execution write (cancels and opens, v1
    # and v2); the order-info read each cancel also makes has its own pool.
    "etoro": (20 / 60, 20),
    "robinhood": (100 / 60, 300),  # Crypto Trading API: 100 requests per minute per account, bursts to 300
    # webull: per App ID; v1 docs said cancel 1/s, the current references 15/s (US stocks, HK reference) and 600 per
    # minute for the order interfaces (US reference): 10/s with a burst of 10 stays inside the current ones.
    "webull": (10.0, 10),
    # Client Portal: 10 requests/s global per gateway session, so per gateway (LIMITS_PER_IP), not per account.
    "ibkr": (10.0, 10),
    # bitso: "Order cancellations are not subject to API rate limiting" (general concepts);
    # binance: its request-weight limit is per IP, not per key (a per-key budget would not protect anything);
    # kucoin: a weighted pool shared by every private call of the account, not a cancel limit;
    # blockchain_com: no per-key limit is documented (ccxt only paces itself at 500 ms), so none is enforced.
    # kucoin: a weighted pool shared by every private call of the account, not a cancel limit.
    # public: Public publishes no rate limit (spec.yaml, publicdotcom-py); its 429s carry Retry-After.
}

# Families whose happy-path cancel takes more than one request (alpaca: DELETE answers only "accepted", one GET
# then reports cancelled or pending_cancel; bitflyer: its cancel answers 200 whatever the order's state, so the
# order is read before (cancel only an ACTIVE one) and after (cancelled, still pending, or filled first); cex_io:
# its cancel answer is the same `ok` for open, finished and unknown orders, so one get_my_orders follows; etoro: its
# cancel answers 200 to closed and cancelled orders too ("idempotent"), so the order's info is read before and
# after, as for bitflyer).
REQUESTS_PER_CANCEL = {"alpaca": 2, "bitflyer": 3, "cex_io": 2, "etoro": 3}

# Families whose adapter lists orders (`Adapter.list_orders`, `/transactions/list`); tests/test_listing.py checks
# this against which adapter classes override it.
LISTS_ORDERS = frozenset(
    {
        "alpaca", "binance", "bitfinex", "bitflyer", "bitso", "bitstamp", "blockchain_com", "btcturk", "bybit",
        "cex_io", "coinbase", "coinbase_exchange", "coinbase_prime", "coinlist", "crypto_com", "etoro", "etrade",
        "gate_io", "gemini", "huobi", "ibkr", "kraken", "kucoin", "okx", "public", "robinhood", "webull",
    }
)  # fmt: skip

# Families that list open orders only: the venue keeps no list of closed orders an API can page through (bitso: open
# orders only, each closed one found by id for an hour; etoro: its trade history holds closed positions, not orders).
LISTS_OPEN_ONLY = frozenset({"bitso", "bitstamp", "etoro", "public"})

# Families whose order history can only be walked forward from a timestamp (gemini: /v1/orders/history takes a
# `timestamp` lower bound and no upper one), so history pages come oldest batch first.
HISTORY_OLDEST_FIRST = frozenset({"gemini"})

# Families whose order history is listed per instrument, so a list request must name one unless it asks for open
# orders only (btcturk: allOrders requires pairSymbol; its openOrders does not).
LIST_REQUIRED_FIELDS: dict[str, frozenset[F]] = {"btcturk": frozenset({F.symbolPair})}

# Families whose 429/418 answers are about the caller's IP: a back-off then holds for every key (binance: request
# weight and IP bans, per its "LIMITS" section).
# ibkr: 10 requests/s per gateway, and a 429 puts the gateway's IP in a 10-minute penalty box.
LIMITS_PER_IP = frozenset({"binance", "ibkr"})

_TESTNETS: dict[T, str] = {
    T.binanceInternational: "https://testnet.binance.vision",
    T.binanceInternationalDirect: "https://testnet.binance.vision",
    T.bybit: "https://api-testnet.bybit.com",
    T.bybitDirect: "https://api-testnet.bybit.com",
    T.bybitDirectMobile: "https://api-testnet.bybit.com",
    T.alpaca: "https://paper-api.alpaca.markets",
    T.gemini: "https://api.sandbox.gemini.com",
    T.coinbasePro: "https://api-public.sandbox.exchange.coinbase.com",
    T.gateIo: "https://api-testnet.gateapi.io/api/v4",
    T.cryptoCom: "https://uat-api.3ona.co/exchange/v1",  # Crypto.com's UAT sandbox (separate keys)
    T.bitsoDirect: "https://stage.bitso.com",
    T.weBull: "https://us-openapi-alb.uat.webullbroker.com",  # Webull's US UAT (test) host
    T.eTrade: "https://apisb.etrade.com",  # E*TRADE's sandbox: canned answers, OAuth still on api.etrade.com
}


def _order_id_shape(family: str | None) -> OrderIdShape | None:
    """Each venue declares the shape of its order ids in its own constants (data, no behaviour)."""
    if family is None:
        return None
    shape = importlib.import_module(f"ordergate.venues.{family}.constants").ORDER_ID_SHAPE
    if isinstance(shape, tuple):  # (pattern, example) as plain data
        shape = OrderIdShape(*shape)
    assert isinstance(shape, OrderIdShape), f"venues/{family}/constants.py: ORDER_ID_SHAPE must be an OrderIdShape"
    return shape


def _spec(t: T) -> VenueSpec:
    name, family, required, creds, url = _ROWS[t]
    return VenueSpec(
        type=t,
        name=name,
        family=family,
        cancel_supported=family is not None,
        mesh_cancel=t in MESH_CANCEL,
        required_fields=required,
        credential_fields=creds,
        production_url=url,
        testnet_url=_TESTNETS.get(t),
        oracle=ORACLES.get(family or "", ""),
        requests_per_cancel=REQUESTS_PER_CANCEL.get(family or "", 1),
        key_budget=KEY_BUDGETS.get(family or ""),
        limits_per_ip=family in LIMITS_PER_IP,
        order_id=_order_id_shape(family),
        lists_orders=family in LISTS_ORDERS,
        lists_history=family not in LISTS_OPEN_ONLY,
        history_newest_first=family not in HISTORY_OLDEST_FIRST,
        list_required_fields=LIST_REQUIRED_FIELDS.get(family or "", frozenset()),
        no_cancel_api=NO_CANCEL_API.get(t, ""),
    )


SPECS: dict[T, VenueSpec] = {t: _spec(t) for t in T}

# What GET /api/v1/integrations and /status say of each type, in Mesh's FinancialInstitutionIntegrationType values.
_BROKERAGES = {T.robinhood, T.eTrade, T.alpaca, T.tdAmeritrade, T.weBull, T.stash, T.interactiveBrokers, T.public,
               T.etoro, T.acorns, T.vanguard, T.robinhoodConnect}  # fmt: skip
_OTHER_CATEGORIES: dict[T, tuple[str, ...]] = {
    T.openSea: ("nftMarketplace",),
    T.cryptocurrencyAddress: ("address",),
    T.cryptocurrencyWallet: ("wallet",),
    T.deFiWallet: ("deFiWallet",),
    T.binancePay: ("wallet",),
    T.payPalConnect: ("wallet",),
    T.revolutConnect: ("bank",),
    T.sandbox: ("brokerage", "exchange"),
}
CATEGORIES: dict[T, tuple[str, ...]] = {
    t: _OTHER_CATEGORIES.get(t, ("brokerage",) if t in _BROKERAGES else ("exchange",)) for t in T
}

# family → Mesh AuthenticationSchemeType where connecting is not an API key pair (a broker's login: usernamePassword,
# a browser authorization: oAuth). Coinbase and Alpaca also take OAuth tokens, but their scheme is the API key.
AUTH_SCHEME_TYPES: dict[str, str] = {}

# family → (Mesh MfaScheme, Mesh MfaType) where /authenticate may answer mfaRequired: a Kraken key with a
# two-factor password asks for its one-time code (TOTP) in `mfaCode`.
MFA: dict[str, tuple[str, str]] = {"kraken": ("mfaCode", "totp")}

# family → the venue's page on creating an API key (BrokerAuthenticationScheme.instructionsUrl). Checked with the
# search tool: kraken (support article 360000919966), okx (help centre "API FAQ": "How do I create an API key?").
# The others are the venues' own API documentation pages on authentication, not re-checked here.
INSTRUCTIONS_URLS: dict[str, str] = {
    "kraken": "https://support.kraken.com/hc/en-us/articles/360000919966-How-to-create-an-API-key",
    "coinbase": "https://docs.cdp.coinbase.com/coinbase-app/docs/getting-started",
    "kucoin": "https://www.kucoin.com/docs/basic-info/connection-method/authentication/creating-an-api-key",
    "okx": "https://www.okx.com/help/api-faq",
    "alpaca": "https://docs.alpaca.markets/docs/authentication",
    "binance": "https://www.binance.com/en/support/faq/how-to-create-api-keys-on-binance-360002502072",
    "bybit": "https://www.bybit.com/en/help-center/article/How-to-create-your-API-key",
    "coinbase_exchange": "https://docs.cdp.coinbase.com/exchange/docs/rest-auth",
    "coinbase_prime": "https://docs.cdp.coinbase.com/prime/docs/rest-authentication",
    "gemini": "https://support.gemini.com/hc/en-us/articles/360031080191-How-do-I-create-an-API-key",
    "bitfinex": "https://support.bitfinex.com/hc/en-us/articles/115003363429-How-to-create-and-revoke-a-Bitfinex-API-Key",
    "huobi": "https://www.htx.com/en-us/opend/newApiPages/?id=419",
    "bitstamp": "https://www.bitstamp.net/api/#section/Authentication",
    "gate_io": "https://www.gate.io/docs/developers/apiv4/#generate-api-key",
    "bitflyer": "https://lightning.bitflyer.com/docs?lang=en#authentication",
    "crypto_com": "https://exchange-docs.crypto.com/exchange/v1/rest-ws/index.html#generating-the-api-key",
    "coinlist": "https://trade-docs.coinlist.co/#authentication",
    "cex_io": "https://trade.cex.io/docs/#rest-private-api-authentication",
    "bitso": "https://docs.bitso.com/bitso-api/docs/api-keys",
    "btcturk": "https://docs.btcturk.com/authentication",
    "blockchain_com": "https://api.blockchain.com/v3/#authentication",
    "robinhood": "https://docs.robinhood.com/crypto/trading/",
    "etoro": "https://api-portal.etoro.com/getting-started/authentication",
    "webull": "https://developer.webull.com/api-doc/prepare/api-application/",
    "public": "https://public.com/api/docs",
    "etrade": "https://developer.etrade.com/getting-started",
    "ibkr": "https://www.interactivebrokers.com/campus/ibkr-api-page/cpapi-v1/",
}
