"""Mesh's enums, spelled exactly as Mesh's current client (`@meshconnect/node-api` 2.0.28) spells them."""

from __future__ import annotations

import re
from enum import StrEnum


class IntegrationType(StrEnum):
    """Mesh `BrokerType`; order is Mesh's own (clients that send ordinals depend on it)."""

    robinhood = "robinhood"
    eTrade = "eTrade"
    alpaca = "alpaca"
    tdAmeritrade = "tdAmeritrade"
    weBull = "weBull"
    stash = "stash"
    interactiveBrokers = "interactiveBrokers"
    public = "public"
    coinbase = "coinbase"
    kraken = "kraken"
    coinbasePro = "coinbasePro"
    cryptoCom = "cryptoCom"
    openSea = "openSea"
    binanceUs = "binanceUs"
    gemini = "gemini"
    cryptocurrencyAddress = "cryptocurrencyAddress"
    cryptocurrencyWallet = "cryptocurrencyWallet"
    okCoin = "okCoin"
    bittrex = "bittrex"
    kuCoin = "kuCoin"
    etoro = "etoro"
    cexIo = "cexIo"
    binanceInternational = "binanceInternational"
    bitstamp = "bitstamp"
    gateIo = "gateIo"
    acorns = "acorns"
    okx = "okx"
    bitFlyer = "bitFlyer"
    coinlist = "coinlist"
    huobi = "huobi"
    bitfinex = "bitfinex"
    deFiWallet = "deFiWallet"
    krakenDirect = "krakenDirect"
    vanguard = "vanguard"
    binanceInternationalDirect = "binanceInternationalDirect"
    bitfinexDirect = "bitfinexDirect"
    bybit = "bybit"
    paxos = "paxos"
    coinbasePrime = "coinbasePrime"
    btcTurkDirect = "btcTurkDirect"
    kuCoinDirect = "kuCoinDirect"
    okxOAuth = "okxOAuth"
    paribuDirect = "paribuDirect"
    robinhoodConnect = "robinhoodConnect"
    blockchainCom = "blockchainCom"
    bitsoDirect = "bitsoDirect"
    binanceConnect = "binanceConnect"
    binanceOAuth = "binanceOAuth"
    revolutConnect = "revolutConnect"
    binancePay = "binancePay"
    bybitDirect = "bybitDirect"
    paribuOAuth = "paribuOAuth"
    payPalConnect = "payPalConnect"
    binanceTrDirect = "binanceTrDirect"
    coinbaseRamp = "coinbaseRamp"
    bybitDirectMobile = "bybitDirectMobile"
    sandbox = "sandbox"

    @property
    def env_name(self) -> str:
        """Upper snake case, as used in `ORDERGATE_BASE_URL_<TYPE>` (krakenDirect -> KRAKEN_DIRECT)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.value).upper()


class OrderStatus(StrEnum):
    """Mesh `BrokerOrderStatus` (note `cancelled` with two l's, unlike transfers)."""

    unknown = "unknown"
    inProgress = "inProgress"
    cancelled = "cancelled"
    rejected = "rejected"
    failed = "failed"
    success = "success"
    partiallyFilled = "partiallyFilled"
    expired = "expired"


class OrderSide(StrEnum):
    """Mesh `BrokerOrderType`."""

    unknown = "unknown"
    buy = "buy"
    sell = "sell"


class ApiResultStatus(StrEnum):
    """Mesh `ApiResultStatus` (`tooManyRequest` is singular in Mesh's contract)."""

    ok = "ok"
    serverFailure = "serverFailure"
    permissionDenied = "permissionDenied"
    badRequest = "badRequest"
    notFound = "notFound"
    conflict = "conflict"
    tooManyRequest = "tooManyRequest"
    locked = "locked"
    unavailableForLegalReasons = "unavailableForLegalReasons"
