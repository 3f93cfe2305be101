"""Coinbase Advanced Trade (integration type `coinbase`)."""
