"""Coinbase Exchange (Mesh `coinbasePro`): signing (auth), protocol facts (constants), the adapter, a simulator."""
