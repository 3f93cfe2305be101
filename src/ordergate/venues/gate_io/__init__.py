"""Gate.io (Gate API v4, spot): adapter, signing, simulator."""
