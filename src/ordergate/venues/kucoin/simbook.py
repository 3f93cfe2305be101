"""The simulated KuCoin's state: accounts, orders in both of KuCoin's shapes (classic and HF), rate-limit pools.

Kept apart from `simulator.py` (the HTTP protocol) so each stays small; nothing here knows about HTTP.
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import count
from typing import Any

from ordergate.venues.kucoin.constants import (
    RATE_LIMIT_LIMIT_HEADER,
    RATE_LIMIT_REMAINING_HEADER,
    RATE_LIMIT_RESET_HEADER,
)

POOL_WINDOW_MS = 30_000
# HF listings page by a numeric `lastId` (e.g. 254062248624417), not by the hex order id.
_SEQUENCE = count(254_062_248_624_417)  # every KuCoin resource pool refills on a 30 s cycle


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class Account:
    api_key: str
    secret: str
    passphrase: str
    hf: bool
    can_trade: bool
    uid: int = field(default_factory=lambda: secrets.randbelow(10**9) + 10**8)


@dataclass(slots=True)
class Order:
    id: str
    api_key: str
    hf: bool
    symbol: str
    side: str
    type: str
    price: Decimal
    size: Decimal
    client_oid: str
    time_in_force: str = "GTC"
    deal_size: Decimal = Decimal(0)
    deal_funds: Decimal = Decimal(0)
    active: bool = True
    cancel_exist: bool = False
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)
    seq: int = field(default_factory=lambda: next(_SEQUENCE))

    def fill(self, volume: Decimal | None) -> None:
        remaining = self.size - self.deal_size
        step = remaining if volume is None or volume >= remaining else volume
        self.deal_size += step
        self.deal_funds += step * self.price
        self.updated_at = now_ms()
        if self.deal_size >= self.size:
            self.active = False

    def cancel(self) -> None:
        self.active, self.cancel_exist, self.updated_at = False, True, now_ms()

    def view(self) -> dict[str, Any]:
        """The order as KuCoin's GET answers it: the classic ("Old") shape, or the HF shape."""
        fee = self.deal_funds * Decimal("0.001")
        common = {
            "id": self.id,
            "symbol": self.symbol,
            "opType": "DEAL",
            "type": self.type,
            "side": self.side,
            "price": f"{self.price:f}",
            "size": f"{self.size:f}",
            "funds": "0",
            "dealFunds": f"{self.deal_funds:f}",
            "dealSize": f"{self.deal_size:f}",
            "fee": f"{fee:f}",
            "feeCurrency": self.symbol.partition("-")[2],
            "stp": "" if not self.hf else None,
            "timeInForce": self.time_in_force,
            "postOnly": False,
            "hidden": False,
            "iceberg": False,
            "visibleSize": "0",
            "cancelAfter": 0,
            "channel": "API",
            "clientOid": self.client_oid,
            "remark": None,
            "tags": None,
            "cancelExist": self.cancel_exist,
            "createdAt": self.created_at,
            "tradeType": "TRADE",
        }
        if not self.hf:
            return {**common, "stop": "", "stopTriggered": False, "stopPrice": "0", "isActive": self.active}
        remaining = Decimal(0) if not self.active else self.size - self.deal_size
        cancelled = self.size - self.deal_size if self.cancel_exist else Decimal(0)
        return {
            **common,
            "remainSize": f"{remaining:f}",
            "remainFunds": f"{remaining * self.price:f}",
            "cancelledSize": f"{cancelled:f}",
            "cancelledFunds": f"{cancelled * self.price:f}",
            "inOrderBook": self.active,
            "active": self.active,
            "tax": "0",
            "lastUpdatedAt": self.updated_at,
        }


@dataclass(slots=True)
class Pool:
    """One resource pool of one UID: `quota` weight per 30 s window, counted from the window's first request."""

    quota: int
    started_ms: int = 0
    used: int = 0

    def take(self, weight: int, at_ms: int) -> bool:
        if at_ms - self.started_ms >= POOL_WINDOW_MS:
            self.started_ms, self.used = at_ms, 0
        if self.used + weight > self.quota:
            return False
        self.used += weight
        return True

    def headers(self, at_ms: int) -> dict[str, str]:
        reset = max(0, POOL_WINDOW_MS - (at_ms - self.started_ms))
        return {
            RATE_LIMIT_LIMIT_HEADER: str(self.quota),
            RATE_LIMIT_REMAINING_HEADER: str(max(0, self.quota - self.used)),
            RATE_LIMIT_RESET_HEADER: str(reset),  # milliseconds
        }


def new_order_id() -> str:
    """KuCoin order ids are MongoDB ObjectIds (24 hex, e.g. 5bd6e9286d99522a52e458de = 0x5bd6e928 seconds
    2018-10-29, then a per-process random part and a counter), so ids issued one after another sort in the order they
    were issued; the adapter relies on that to order orders created in the same millisecond."""
    return f"{int(time.time()):08x}{_ID_PROCESS}{next(_ID_COUNTER) % 0x1000000:06x}"


_ID_PROCESS = secrets.token_hex(5)
_ID_COUNTER = count(secrets.randbelow(0x100000))


def new_secret() -> str:
    return str(uuid.uuid4())  # KuCoin secrets look like UUIDs and are used as text


def new_api_key() -> str:
    return secrets.token_hex(12)


def positive(text: Any) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None
