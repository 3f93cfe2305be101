"""Alpaca Trading API v2: auth headers and environments (auth), protocol facts as data (constants), the adapter,
a simulator."""
