"""eToro Public API: headers and environments (auth), protocol facts as data (constants), the adapter, a simulator."""
