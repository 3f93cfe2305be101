"""Bitfinex REST v2 (bitfinex, bitfinexDirect): one API-key protocol, orders by numeric id."""
