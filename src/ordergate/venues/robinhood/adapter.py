"""Robinhood: one integration type, two APIs. `isCryptocurrency: true` orders go to the official Crypto Trading
API (crypto.py); equities orders to the app's private OAuth API (equities.py).

Which half a token speaks is sealed into it at /authenticate (`extras["kind"]`), because the two halves take
different credentials: an API key and Ed25519 seed for crypto, a login for equities. /authenticate tells them apart
by the username: a Crypto Trading API key (`rh-api-…`, or a pre-2024 UUID key with a base64 seed as password) is
the crypto half, anything else is a Robinhood login. A request is dispatched on the sealed marker and on the
order's `isCryptocurrency`; a mismatch is the client's mistake, refused before any call.
"""

from __future__ import annotations

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import (
    Adapter,
    ChallengeIssued,
    Connected,
    ConnectStep,
    OrderPage,
    OrderQuery,
    VenueSpec,
    require_key_pair,
)
from ordergate.venues.robinhood.constants import (
    CRYPTO_KEY_PREFIX,
    CRYPTO_URL,
    KIND,
    KIND_CRYPTO,
    KIND_EQUITIES,
    ORDER_ID,
    TOKEN_LIFETIME_S,
)
from ordergate.venues.robinhood.crypto import CryptoApi, looks_like_crypto_key
from ordergate.venues.robinhood.equities import EquitiesApi
from ordergate.venues.transport import Transport


def require_order_id(order_id: str) -> str:
    if not isinstance(order_id, str) or not ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            "A Robinhood order id is a UUID such as 497f6eca-6276-4993-bfeb-53cbbbba6f08",
            error_data={"fields": {"id": "a Robinhood order id (a UUID)"}},
        )
    return order_id


def kind_of(creds: Credentials) -> str | None:
    kind = creds.extras.get(KIND)
    if kind is None and creds.api_key.startswith(CRYPTO_KEY_PREFIX):
        return KIND_CRYPTO  # a token sealed without the marker (e.g. by an operator tool) with a crypto API key
    return str(kind) if kind is not None else None


class RobinhoodAdapter(Adapter):
    def __init__(self, spec: VenueSpec, base_url: str, transport: Transport) -> None:
        super().__init__(spec, base_url, transport)
        # The catalog's URL is the equities host; an overridden base serves the crypto paths too (see constants).
        overridden = spec.production_url is None or self.base_url != spec.production_url.rstrip("/")
        self.crypto = CryptoApi(self.base_url if overridden else CRYPTO_URL, transport)
        self.equities = EquitiesApi(self.base_url, transport, spec.type)

    async def connect(self, creds: Credentials, step: ConnectStep) -> Connected | ChallengeIssued:
        if step.state is None and looks_like_crypto_key(creds.api_key, creds.secret):
            require_key_pair(creds)
            return Connected(creds, (await self.verify_credentials(creds, step.mfa_code),))
        return await self.equities.connect(creds, step)

    async def refresh(self, creds: Credentials) -> Credentials | None:
        # A Crypto Trading API key does not expire; a login's bearer does (a day): its refresh token renews it.
        if kind_of(creds) == KIND_EQUITIES:
            return await self.equities.refresh(creds)
        return None

    def session_expires_in(self, creds: Credentials) -> int | None:
        return TOKEN_LIFETIME_S if kind_of(creds) == KIND_EQUITIES else None

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        if not looks_like_crypto_key(creds.api_key, creds.secret):
            raise GatewayError(
                ErrorType.invalidField,
                "A Robinhood login connects through /authenticate's login flow, not as an API key.",
                error_data={"fields": {"username": "not a Crypto Trading API key"}},
            )
        info = await self.crypto.verify(creds)
        return AccountInfo(info.account_id, info.account_name, {**info.extras, KIND: KIND_CRYPTO})

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        require_order_id(order.id)
        if self._half(creds, order) == KIND_CRYPTO:
            return await self.crypto.cancel(creds, order.id)
        return await self.equities.cancel(creds, order.id)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        require_order_id(order.id)
        if self._half(creds, order) == KIND_CRYPTO:
            return await self.crypto.get_order(creds, order.id)
        return await self.equities.get_order(creds, order.id)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        # The token's half decides: a crypto key lists crypto orders, a login its account's equities orders.
        kind = kind_of(creds)
        if kind == KIND_CRYPTO:
            return await self.crypto.list_orders(creds, query)
        if kind == KIND_EQUITIES:
            return await self.equities.list_orders(creds, query)
        raise GatewayError(
            ErrorType.invalidAuthToken,
            "This Robinhood authToken says neither which half it reaches; connect it through /authenticate.",
        )

    def _half(self, creds: Credentials, order: OrderRef) -> str:
        kind = kind_of(creds)
        if kind == KIND_CRYPTO and not order.is_cryptocurrency:
            raise GatewayError(
                ErrorType.invalidField,
                "This Robinhood connection uses a Crypto Trading API key, which reaches crypto orders only: send "
                "isCryptocurrency: true, or connect the Robinhood login for equities orders.",
                error_data={"fields": {"isCryptocurrency": "must be true for a Robinhood Crypto Trading API key"}},
            )
        if kind == KIND_EQUITIES and order.is_cryptocurrency:
            raise GatewayError(
                ErrorType.invalidField,
                "This Robinhood connection is a login, which reaches equities orders: send isCryptocurrency: false, "
                "or connect a Crypto Trading API key for crypto orders.",
                error_data={"fields": {"isCryptocurrency": "must be false for a Robinhood login"}},
            )
        if kind not in (KIND_CRYPTO, KIND_EQUITIES):
            raise GatewayError(
                ErrorType.invalidAuthToken,
                "This Robinhood authToken says neither which half it reaches; connect it through /authenticate.",
            )
        return kind
