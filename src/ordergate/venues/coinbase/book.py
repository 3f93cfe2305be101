"""The simulated Coinbase account state: keys, OAuth tokens, and orders rendered as Advanced Trade's `Order`."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ordergate.venues.coinbase.auth import PublicKey

_SEQUENCE = itertools.count(1)  # placement order, which breaks ties between equal creation times


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(slots=True)
class Principal:
    """A CDP API key (alg + public key) or an OAuth token; either owns one portfolio's orders."""

    label: str  # key name, or `oauth:<fingerprint>` for a token (what requests are counted under)
    alg: str | None  # ES256 / EdDSA for keys, None for OAuth tokens
    public_key: PublicKey | None
    can_trade: bool
    portfolio_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(slots=True)
class Order:
    order_id: str
    owner: str  # Principal.label
    product_id: str
    side: str  # BUY / SELL
    base_size: Decimal
    limit_price: Decimal
    client_order_id: str
    user_id: str = ""
    order_type: str = "LIMIT"
    status: str = "OPEN"
    filled_size: Decimal = Decimal(0)
    filled_value: Decimal = Decimal(0)
    pending_cancel: bool = False
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_fill: datetime | None = None
    seq: int = field(default_factory=lambda: next(_SEQUENCE))

    @property
    def live(self) -> bool:
        return self.status in ("OPEN", "PENDING", "QUEUED", "EDIT_QUEUED", "CANCEL_QUEUED")

    def fill(self, size: Decimal | None) -> None:
        remaining = self.base_size - self.filled_size
        step = remaining if size is None or size >= remaining else size
        self.filled_size += step
        self.filled_value += step * self.limit_price
        self.last_fill = datetime.now(UTC)
        if self.filled_size >= self.base_size:
            self.status, self.pending_cancel = "FILLED", False

    def as_coinbase(self) -> dict[str, Any]:
        fees = (self.filled_value * Decimal("0.006")).quantize(Decimal("0.00000001"))
        avg = self.filled_value / self.filled_size if self.filled_size else Decimal(0)
        config = {"base_size": f"{self.base_size:f}", "limit_price": f"{self.limit_price:f}", "post_only": False}
        market = self.order_type == "MARKET"
        return {
            "order_id": self.order_id,
            "product_id": self.product_id,
            "user_id": self.user_id,
            "order_configuration": {"market_market_ioc": {"base_size": f"{self.base_size:f}"}}
            if market
            else {"limit_limit_gtc": config},
            "side": self.side,
            "client_order_id": self.client_order_id,
            "status": self.status,
            "time_in_force": "IMMEDIATE_OR_CANCEL" if market else "GOOD_UNTIL_CANCELLED",
            "created_time": rfc3339(self.created),
            "completion_percentage": f"{(self.filled_size / self.base_size * 100):.2f}",
            "filled_size": f"{self.filled_size:f}",
            "average_filled_price": f"{avg:f}",
            "fee": "",
            "number_of_fills": "1" if self.filled_size else "0",
            "filled_value": f"{self.filled_value:f}",
            "pending_cancel": self.pending_cancel,
            "size_in_quote": False,
            "total_fees": f"{fees:f}",
            "size_inclusive_of_fees": False,
            "total_value_after_fees": f"{self.filled_value + fees:f}",
            "trigger_status": "INVALID_ORDER_TYPE",
            "order_type": self.order_type,
            "reject_reason": "REJECT_REASON_UNSPECIFIED",
            "settled": not self.live,
            "product_type": "SPOT",
            "reject_message": "",
            "cancel_message": "User requested cancel" if self.status == "CANCELLED" else "",
            "order_placement_source": "RETAIL_ADVANCED",
            "outstanding_hold_amount": f"{(self.base_size - self.filled_size) * self.limit_price:f}"
            if self.live and self.side == "BUY"
            else "0",
            "is_liquidation": False,
            "last_fill_time": rfc3339(self.last_fill) if self.last_fill else None,
            "edit_history": [],
            "leverage": "",
            "margin_type": "UNKNOWN_MARGIN_TYPE",
            "retail_portfolio_id": "",
        }
