"""Bitstamp (HTTP API v2): signing (auth), protocol facts (constants), the adapter, a simulator."""
