"""OKX v5 REST (also serving Mesh's `okCoin`): signing (auth), protocol facts as data (constants), symbols, the
adapter, and a simulator."""
