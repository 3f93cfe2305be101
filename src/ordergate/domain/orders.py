"""What the cancel use-case passes to venue adapters and gets back."""

from __future__ import annotations

from dataclasses import dataclass, field

from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus


@dataclass(frozen=True, slots=True)
class OrderRef:
    """The order a client names, as Mesh's cancel/details request carries it."""

    id: str
    is_cryptocurrency: bool
    side: OrderSide | None = None
    symbol_pair: str | None = None
    mfa_code: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """Opened from an authToken; lives only in memory for the request."""

    type: IntegrationType
    api_key: str
    secret: str
    passphrase: str | None = None
    # Venue-specific facts captured when the account was connected (e.g. Kraken: {"otp": True}).
    extras: dict[str, object] = field(default_factory=dict)

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return f"Credentials(type={self.type.value!r}, api_key=<redacted>, extras={self.extras!r})"


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """An order as the venue reports it, in Mesh's status values."""

    order_id: str
    status: OrderStatus
    venue_status: str
    amount: float | None = None
    filled: float | None = None


@dataclass(frozen=True, slots=True)
class CancelAck:
    """The venue accepted the cancel. `status` is `cancelled` when the venue confirms it, else `inProgress`."""

    order_id: str
    status: OrderStatus
    upstream_status: int | None = None


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """What verifying credentials learned that later calls need; sealed into the token."""

    account_id: str
    account_name: str
    extras: dict[str, object] = field(default_factory=dict)
