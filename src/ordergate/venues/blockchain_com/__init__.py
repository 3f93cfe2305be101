"""Blockchain.com Exchange: token auth, protocol facts as data (constants), the adapter, a simulator."""
