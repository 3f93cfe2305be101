"""What every venue adapter is and provides. Capabilities are data (`VenueSpec`); behaviour is `Adapter`.

An adapter speaks one venue's real REST protocol. It does not decide what an ambiguous answer means for the
client: it raises `UnknownOrderAtVenue` or lets `OutcomeUnknown` through, and the cancel service resolves
those with `get_order`. Adapters raise `GatewayError` for everything the venue said definitely.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.transport import Transport


class RequestField(StrEnum):
    """Optional fields of Mesh's cancel request that a venue may require."""

    symbolPair = "symbolPair"
    side = "side"
    mfaCode = "mfaCode"


@dataclass(frozen=True, slots=True)
class OrderIdShape:
    """The exact shape of a venue's order ids. Ids go into URL paths and bodies, and some venues read special ids
    as "every order" (an integer is a Kraken userref, `-1` is every order at Interactive Brokers): anything else is
    refused before a token is opened or a request is built."""

    pattern: str  # matched with fullmatch, so a trailing newline cannot slip through as `$` would let it
    example: str

    def admits(self, order_id: str) -> bool:
        return _compiled(self.pattern).fullmatch(order_id) is not None

    def matcher(self) -> Callable[[str], object]:
        """The compiled check itself: truthy exactly when `admits`."""
        return _compiled(self.pattern).fullmatch


# A UUID in its canonical text form, as Alpaca, Coinbase and others issue order ids.
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        compiled = _PATTERNS[pattern] = re.compile(pattern)
    return compiled


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
    # Why an integration can never cancel through any gateway (no public order API): said to the user as is.
    no_cancel_api: str = ""
    # The shape of the venue's order ids (each venue's constants.ORDER_ID_SHAPE); None only without an adapter.
    order_id: OrderIdShape | None = None
    # `/transactions/list` works: the adapter implements `list_orders` (catalog.LISTS_ORDERS, checked by a test).
    lists_orders: bool = False
    # False where the venue lists open orders only (no order history to page through): closed statuses are refused
    # with `listingNotSupported` naming the listable ones (catalog.LISTS_OPEN_ONLY).
    lists_history: bool = True
    # False where the venue's history can only be walked forward in time (Gemini): history pages come oldest batch
    # first, each page newest first; every order is still listed exactly once.
    history_newest_first: bool = True
    # Fields Mesh's list request must carry for the venue to list its history (catalog.LIST_REQUIRED_FIELDS); an
    # open-orders-only query may do without them.
    list_required_fields: frozenset[RequestField] = frozenset()
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ConnectStep:
    """What `/authenticate` carried beyond the credentials."""

    mfa_code: str | None = None
    challenge_code: str | None = None
    # What the adapter kept between steps (`ChallengeIssued.state`), opened from the client's challengeId.
    state: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Connected:
    """A finished connect: `credentials` is what gets sealed (a broker session instead of a password, say), one
    accountToken per entry of `accounts`, each account's `extras` sealed into its own token."""

    credentials: Credentials
    accounts: tuple[AccountInfo, ...]
    expires_in_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class ChallengeIssued:
    """The broker wants another step: a verification code (`mfaRequired`) or an authorization in a browser
    (`challengeIssued`, with `redirect_link`). `state` is sealed into the challengeId the client sends back."""

    status: str
    message: str
    state: dict[str, Any]
    mfa_type: str | None = None
    redirect_link: str | None = None
    expires_in_seconds: int | None = None


# Mesh statuses of an order that can still be cancelled: a listing asked only for these is "open orders", which every
# venue answers with one request.
OPEN_STATUSES: frozenset[OrderStatus] = frozenset({OrderStatus.inProgress, OrderStatus.partiallyFilled})


@dataclass(frozen=True, slots=True)
class OrderQuery:
    """One page of `/transactions/list` at one venue."""

    count: int  # at most this many orders in the page (Mesh: 1..250, default 100)
    statuses: frozenset[OrderStatus] | None = None  # None: every status
    since: int | None = None  # Mesh `from`: orders created at or after this Unix time (seconds)
    cursor: dict[str, Any] | None = None  # the venue's own paging state, as the previous OrderPage left it
    symbol_pair: str | None = None  # for venues that list per instrument

    @property
    def open_only(self) -> bool:
        return self.statuses is not None and self.statuses <= OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: tuple[OrderSnapshot, ...]
    cursor: dict[str, Any] | None = None  # None: this was the last page. Sealed before the client sees it.
    total: int | None = None  # when the venue says how many orders match in all


def require_key_pair(creds: Credentials) -> None:
    missing = [name for name, value in (("username", creds.api_key), ("password", creds.secret)) if not value]
    if missing:
        raise GatewayError(
            ErrorType.missingField,
            "username (API key) and password (API secret) are required.",
            error_data={"fields": {name: "required" for name in missing}},
        )


class Adapter(ABC):
    """One instance per integration type per process; holds no per-request state."""

    # Set by the registry: the deployment runs against venues' test environments (ORDERGATE_TESTNET).
    testnet: bool = False
    # Set by the registry: state shared across workers (see ordergate.coordination); None in unit tests.
    coordination: Any = None
    # Set by the registry: the deployment's Settings, for operator-wide venue credentials (E*TRADE's consumer key);
    # None in unit tests.
    settings: Any = None

    def __init__(self, spec: VenueSpec, base_url: str, transport: Transport) -> None:
        self.spec = spec
        self.base_url = base_url.rstrip("/")
        self.transport = transport

    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected | ChallengeIssued:
        """`/authenticate`. API-key venues: one cheap authenticated call, one account. Brokers override this for
        logins with challenges, sessions instead of passwords, and one token per brokerage account."""
        require_key_pair(creds)
        return Connected(creds, (await self.verify_credentials(creds, step.mfa_code),))

    async def refresh(self, creds: Credentials) -> Credentials | None:
        """`/token/refresh`. API keys do not expire: None, and the same credentials are sealed again (under the
        current sealing key). Brokers whose sessions expire renew them here and return what to seal instead."""
        return None

    def session_expires_in(self, creds: Credentials) -> int | None:
        """Seconds the venue session sealed in `creds` has left, for `/token/refresh`'s `expiresInSeconds`; None when
        it does not expire (API keys) or the venue does not say."""
        return None

    @abstractmethod
    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        """One cheap authenticated call; raises GatewayError (institutionAuthFailed, mfaRequired, …)."""

    @abstractmethod
    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        """Exactly one upstream cancel request (or the venue's documented minimum).

        Raises UnknownOrderAtVenue when the venue's answer does not tell "never existed" from "already final",
        transport.OutcomeUnknown when the answer was lost, GatewayError for every definite failure.
        """

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """The account's orders, newest first, one page per call with the venue's documented open-orders and
        order-history endpoints; a query for open orders only is one upstream request."""
        raise GatewayError(
            ErrorType.listingNotSupported,
            f"ordergate cannot list orders at {self.spec.name} yet.",
            error_data={"type": self.spec.type.value},
        )

    @abstractmethod
    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        """Look the order up; None when the venue definitely has no such order for this account."""
