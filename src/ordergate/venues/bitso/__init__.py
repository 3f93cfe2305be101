"""Bitso: signing (auth), protocol facts as data (constants), the adapter, a simulator."""
