"""Crypto.com Exchange API v1 (Mesh `cryptoCom`)."""
