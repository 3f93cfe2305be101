"""Integration type → (spec, adapter). Adapters are built once per process on the shared transport."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from ordergate.coordination import Coordination
from ordergate.domain.integrations import IntegrationType
from ordergate.venues.base import Adapter, VenueSpec
from ordergate.venues.catalog import SPECS
from ordergate.venues.transport import Transport

# family → "module:Class"; a venue folder is found here and nowhere else.
ADAPTERS: dict[str, str] = {
    "kraken": "ordergate.venues.kraken.adapter:KrakenAdapter",
    "coinbase": "ordergate.venues.coinbase.adapter:CoinbaseAdapter",
    "kucoin": "ordergate.venues.kucoin.adapter:KucoinAdapter",
    "okx": "ordergate.venues.okx.adapter:OkxAdapter",
    "alpaca": "ordergate.venues.alpaca.adapter:AlpacaAdapter",
    "binance": "ordergate.venues.binance.adapter:BinanceAdapter",
    "bybit": "ordergate.venues.bybit.adapter:BybitAdapter",
    "coinbase_exchange": "ordergate.venues.coinbase_exchange.adapter:CoinbaseExchangeAdapter",
    "coinbase_prime": "ordergate.venues.coinbase_prime.adapter:CoinbasePrimeAdapter",
    "gemini": "ordergate.venues.gemini.adapter:GeminiAdapter",
    "bitfinex": "ordergate.venues.bitfinex.adapter:BitfinexAdapter",
    "huobi": "ordergate.venues.huobi.adapter:HuobiAdapter",
    "bitstamp": "ordergate.venues.bitstamp.adapter:BitstampAdapter",
    "gate_io": "ordergate.venues.gate_io.adapter:GateIoAdapter",
    "bitflyer": "ordergate.venues.bitflyer.adapter:BitflyerAdapter",
    "crypto_com": "ordergate.venues.crypto_com.adapter:CryptoComAdapter",
    "coinlist": "ordergate.venues.coinlist.adapter:CoinlistAdapter",
    "cex_io": "ordergate.venues.cex_io.adapter:CexIoAdapter",
    "bitso": "ordergate.venues.bitso.adapter:BitsoAdapter",
    "btcturk": "ordergate.venues.btcturk.adapter:BtcTurkAdapter",
    "blockchain_com": "ordergate.venues.blockchain_com.adapter:BlockchainComAdapter",
    "etoro": "ordergate.venues.etoro.adapter:EtoroAdapter",
    "robinhood": "ordergate.venues.robinhood.adapter:RobinhoodAdapter",
    "webull": "ordergate.venues.webull.adapter:WebullAdapter",
    "ibkr": "ordergate.venues.ibkr.adapter:IbkrAdapter",
    "public": "ordergate.venues.public.adapter:PublicAdapter",
    "etrade": "ordergate.venues.etrade.adapter:ETradeAdapter",
}


def _load(path: str) -> type[Adapter]:
    module, _, name = path.partition(":")
    cls = getattr(importlib.import_module(module), name)
    assert issubclass(cls, Adapter)
    return cls


class VenueRegistry:
    def __init__(
        self,
        transport: Transport,
        *,
        base_urls: Mapping[IntegrationType, str] | None = None,
        testnet: bool = False,
        coordination: Coordination | None = None,
        settings: Any = None,
    ) -> None:
        self.transport = transport
        self._settings = settings
        self._overrides = dict(base_urls or {})
        self._testnet = testnet
        self._coordination = coordination
        self._adapters: dict[IntegrationType, Adapter] = {}

    def spec(self, integration: IntegrationType) -> VenueSpec:
        return SPECS[integration]

    def base_url(self, integration: IntegrationType) -> str | None:
        spec = SPECS[integration]
        if integration in self._overrides:
            return self._overrides[integration]
        if self._testnet and spec.testnet_url:
            return spec.testnet_url
        return spec.production_url

    def adapter(self, integration: IntegrationType) -> Adapter | None:
        adapter = self._adapters.get(integration)
        if adapter is None:
            spec = SPECS[integration]
            url = self.base_url(integration)
            if spec.family is None or spec.family not in ADAPTERS or url is None:
                return None
            adapter = _load(ADAPTERS[spec.family])(spec, url, self.transport)
            adapter.testnet = self._testnet
            adapter.coordination = self._coordination
            adapter.settings = self._settings
            self._adapters[integration] = adapter
        return adapter
