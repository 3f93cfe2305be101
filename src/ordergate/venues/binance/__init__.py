"""Binance Spot (binance.com, its testnet, Binance.US): adapter, signing, simulator."""
