"""Gemini: signing and nonces (auth), protocol facts as data (constants), the adapter, a simulator."""
