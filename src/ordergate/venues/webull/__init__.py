"""Webull OpenAPI (official): signing (auth), protocol facts as data (constants), the adapter, a simulator."""
