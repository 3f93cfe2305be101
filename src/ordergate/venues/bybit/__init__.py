"""Bybit v5 (bybit, bybitDirect, bybitDirectMobile): one API-key protocol, spot orders."""
