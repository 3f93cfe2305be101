"""Robinhood: one integration type, two APIs. `isCryptocurrency: true` orders go to the official Crypto Trading
API (crypto.py); equities orders (the app's private OAuth API) are not implemented yet.

Which half a token speaks is sealed into it at /authenticate (`extras["kind"]`), because the two halves take
different credentials: an API key and Ed25519 seed for crypto, a login for equities. A request is dispatched on
that marker and on the order's `isCryptocurrency`; a mismatch is the client's mistake, refused before any call.
"""

from __future__ import annotations

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, VenueSpec
from ordergate.venues.robinhood.constants import CRYPTO_KEY_PREFIX, CRYPTO_URL, KIND, KIND_CRYPTO, ORDER_ID
from ordergate.venues.robinhood.crypto import CryptoApi, looks_like_crypto_key
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

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        if not looks_like_crypto_key(creds.api_key, creds.secret):
            raise GatewayError(
                ErrorType.authenticationNotSupported,
                "ordergate connects Robinhood through the Crypto Trading API only: username is the API key "
                "(rh-api-…) and password the base64 Ed25519 private key. Robinhood logins (equities) are not "
                "supported yet.",
                error_data={"type": self.spec.type.value},
            )
        info = await self.crypto.verify(creds)
        return AccountInfo(info.account_id, info.account_name, {**info.extras, KIND: KIND_CRYPTO})

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        require_order_id(order.id)
        self._require_crypto(creds, order)
        return await self.crypto.cancel(creds, order.id)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        require_order_id(order.id)
        self._require_crypto(creds, order)
        return await self.crypto.get_order(creds, order.id)

    def _require_crypto(self, creds: Credentials, order: OrderRef) -> None:
        if kind_of(creds) != KIND_CRYPTO:
            raise GatewayError(
                ErrorType.cancelNotSupported,
                "This Robinhood connection is not a Crypto Trading API key; only crypto orders can be cancelled.",
                error_data={"type": self.spec.type.value},
            )
        if not order.is_cryptocurrency:
            raise GatewayError(
                ErrorType.invalidField,
                "This Robinhood connection uses a Crypto Trading API key, which reaches crypto orders only: send "
                "isCryptocurrency: true. Robinhood equities orders are not supported yet.",
                error_data={"fields": {"isCryptocurrency": "must be true for a Robinhood Crypto Trading API key"}},
            )
