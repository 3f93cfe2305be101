"""What the cancel use-case passes to venue adapters and gets back."""

from __future__ import annotations

from dataclasses import dataclass, field

from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus


@dataclass(slots=True)  # not frozen: frozen sets each field through object.__setattr__ (per request)
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
    # What adapters and the cancel service derive from these credentials once (a decoded signing key, the rate-limit
    # key id), kept as long as the opened credentials are (TokenSealer's cache).
    memo: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def __repr__(self) -> str:  # never let a secret reach a log through repr()
        return f"Credentials(type={self.type.value!r}, api_key=<redacted>, extras={self.extras!r})"


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """An order as the venue reports it, in Mesh's status values (what /transactions/details renders)."""

    order_id: str
    status: OrderStatus
    venue_status: str
    amount: float | None = None  # ordered quantity, in the base asset
    filled: float | None = None  # executed quantity, in the base asset
    side: OrderSide | None = None
    symbol: str | None = None  # base asset, e.g. BTC
    payment_symbol: str | None = None  # quote asset, e.g. USD
    symbol_pair: str | None = None  # the venue's own pair name, as cancel/details take it back
    price: float | None = None  # limit price, or average fill price when there is none
    fee: float | None = None
    value: float | None = None  # executed value, in the quote asset
    order_type: str | None = None  # Mesh BrokerOrderPlaceType: market, limit, stopLoss, stopLimit, takeProfit
    time_in_force: str | None = None  # Mesh BrokerOrderTimeInForceType
    created_at: int | None = None  # Unix seconds
    updated_at: int | None = None  # Unix seconds
    # Mesh assetType (`cryptocurrency`, `equity`) where the venue's answer says what the order trades; None: the
    # request's isCryptocurrency decides (details), else the integration's category (a listing, which has no such
    # field), which would call a broker's crypto order an equity.
    asset_type: str | None = None


@dataclass(slots=True)  # not frozen: frozen sets each field through object.__setattr__ (per request)
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
