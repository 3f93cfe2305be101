"""CoinList Pro (trade-api.coinlist.co): cancel, lookup and key check, plus a local simulator."""
