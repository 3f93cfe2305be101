"""E*TRADE REST API v1: OAuth 1.0a signing (auth), protocol facts as data (constants), the adapter, a simulator."""
