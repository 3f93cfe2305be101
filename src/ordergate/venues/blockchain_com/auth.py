"""Blockchain.com Exchange authentication: the API secret itself travels in `X-API-Token`; nothing is signed, so
there is no clock and no per-key ordering to keep. The token is a bearer credential: it must never be logged."""

from __future__ import annotations

from ordergate.venues.blockchain_com.constants import HEADER_TOKEN


def headers(token: str) -> dict[str, str]:
    return {HEADER_TOKEN: token, "Accept": "application/json"}
