"""Mesh `symbolPair` → OKX `instId`.

OKX names spot books `BASE-QUOTE` (`BTC-USDT`) and derivatives with more dash-separated parts (`BTC-USDT-SWAP`).
Clients also send `BTC/USDT` or `BTCUSDT`; the last is split on a known quote currency, and refused when no
single split is possible rather than guessed, because a wrong instId makes OKX answer "order does not exist".
"""

from __future__ import annotations

import re

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.venues.okx.constants import KNOWN_QUOTES

_INST_ID = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)+$")
_COMPACT = re.compile(r"^[A-Z0-9]+$")


def to_inst_id(symbol_pair: str | None, quotes: tuple[str, ...] = KNOWN_QUOTES) -> str:
    pair = (symbol_pair or "").strip().upper()
    if "/" in pair:
        base, _, quote = pair.partition("/")
        pair = f"{base}-{quote}"
    if _INST_ID.match(pair):
        return pair
    if _COMPACT.match(pair):
        splits = [pair[: -len(q)] + "-" + q for q in quotes if pair.endswith(q) and len(pair) > len(q)]
        if len(splits) == 1:
            return splits[0]
    raise GatewayError(
        ErrorType.invalidField,
        "symbolPair must name an OKX instrument, e.g. BTC-USDT or BTC/USDT",
        error_data={"fields": {"symbolPair": "not an OKX instrument id such as BTC-USDT"}},
    )


def split_inst_id(inst_id: str) -> tuple[str | None, str | None]:
    """`BTC-USDT` → (BTC, USDT); derivatives keep their first two parts (`BTC-USD-SWAP` → BTC, USD)."""
    parts = inst_id.split("-")
    return (parts[0], parts[1]) if len(parts) >= 2 and parts[0] and parts[1] else (None, None)
