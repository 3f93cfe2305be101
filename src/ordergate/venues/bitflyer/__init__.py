"""bitFlyer Lightning (HTTP API v1)."""
