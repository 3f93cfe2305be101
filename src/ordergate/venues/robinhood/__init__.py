"""Robinhood: the official Crypto Trading API (the crypto half); the equities half is to come in this folder."""
