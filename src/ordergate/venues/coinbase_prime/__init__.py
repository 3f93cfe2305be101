"""Coinbase Prime (Mesh `coinbasePrime`): signing (auth), protocol facts (constants), the adapter, a simulator."""
