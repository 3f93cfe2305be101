"""Public.com Trading API: secret → access-token exchange and cache (auth), protocol facts as data (constants), the
adapter, a simulator."""
