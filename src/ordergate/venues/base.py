"""What every venue adapter is and provides. Capabilities are data (`VenueSpec`); behaviour is `Adapter`.

An adapter speaks one venue's real REST protocol. It does not decide what an ambiguous answer means for the
client: it raises `UnknownOrderAtVenue` or lets `OutcomeUnknown` through, and the cancel service resolves
those with `get_order`. Adapters raise `GatewayError` for everything the venue said definitely.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.transport import Transport


class RequestField(StrEnum):
    """Optional fields of Mesh's cancel request that a venue may require."""

    symbolPair = "symbolPair"
    side = "side"
    mfaCode = "mfaCode"


@dataclass(frozen=True, slots=True)
class VenueSpec:
    """Everything about one integration type that docs, validation and the registry need, as data."""

    type: IntegrationType
    name: str
    family: str | None = None  # venues/<family>/ holding the adapter, when there is one
    cancel_supported: bool = False
    mesh_cancel: bool = False  # Mesh lists this integration as supporting cancel
    required_fields: frozenset[RequestField] = frozenset()
    credential_fields: tuple[str, ...] = ()  # what `username` / `password` / `authToken` carry at authenticate
    production_url: str | None = None
    testnet_url: str | None = None
    notes: str = ""
    # Upstream requests for a cancel of an open order when the required fields are present.
    requests_per_cancel: int = 1
    oracle: str = ""  # the independent client that drives this venue's simulator in tests
    # (requests per second, burst) a venue documents for one key's cancels; ordergate stays inside it so that a
    # storm of cancels does not get the user's key throttled or locked. None: no per-key limit documented.
    key_budget: tuple[float, int] | None = None
    # The venue's rate limits and bans apply to the caller's IP, not to one key (Binance's request weight, 418).
    limits_per_ip: bool = False
    extra: dict[str, object] = field(default_factory=dict)


class Adapter(ABC):
    """One instance per integration type per process; holds no per-request state."""

    # Set by the registry: the deployment runs against venues' test environments (ORDERGATE_TESTNET).
    testnet: bool = False
    # Set by the registry: state shared across workers (see ordergate.coordination); None in unit tests.
    coordination: Any = None

    def __init__(self, spec: VenueSpec, base_url: str, transport: Transport) -> None:
        self.spec = spec
        self.base_url = base_url.rstrip("/")
        self.transport = transport

    @abstractmethod
    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        """One cheap authenticated call; raises GatewayError (institutionAuthFailed, mfaRequired, …)."""

    @abstractmethod
    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        """Exactly one upstream cancel request (or the venue's documented minimum).

        Raises UnknownOrderAtVenue when the venue's answer does not tell "never existed" from "already final",
        transport.OutcomeUnknown when the answer was lost, GatewayError for every definite failure.
        """

    @abstractmethod
    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        """Look the order up; None when the venue definitely has no such order for this account."""
