"""Order details and the feature list: read-only, so any transport failure is simply "unavailable"."""

from __future__ import annotations

from typing import Any

from ordergate.domain.cancel import open_credentials, require_order_id_shape, supported_adapter
from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import OrderRef, OrderSnapshot
from ordergate.tokens import TokenSealer
from ordergate.venues.health import VenueHealth
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.transport import NotDelivered, OutcomeUnknown


async def order_details(
    registry: VenueRegistry,
    sealer: TokenSealer,
    client_id: str,
    integration: IntegrationType,
    token: str,
    order: OrderRef,
) -> OrderSnapshot:
    spec, adapter = supported_adapter(registry, integration)
    require_order_id_shape(spec, order)
    creds = open_credentials(sealer, client_id, integration, token)
    try:
        snapshot = await adapter.get_order(creds, order)
    except (NotDelivered, OutcomeUnknown, UnknownOrderAtVenue):
        raise GatewayError(ErrorType.institutionUnavailable, "The order lookup at the institution failed.") from None
    if snapshot is None:
        raise GatewayError(ErrorType.orderNotFound, "Transaction is not found.", error_data={"orderId": order.id})
    return snapshot


def render_order(snapshot: OrderSnapshot, integration: IntegrationType, is_cryptocurrency: bool) -> dict[str, Any]:
    """Mesh's B2BBrokerOrder. `amount` is the executed quantity, as in Mesh's model."""
    return {
        "id": snapshot.order_id,
        "side": snapshot.side.value if snapshot.side else "unknown",
        "symbol": snapshot.symbol,
        "name": None,
        "assetType": snapshot.asset_type or ("cryptocurrency" if is_cryptocurrency else "equity"),
        "paymentSymbol": snapshot.payment_symbol,
        "paymentType": "fiat" if snapshot.payment_symbol in _FIAT else "cryptocurrency",
        "amount": snapshot.filled,
        "price": snapshot.price,
        "fee": snapshot.fee,
        "value": snapshot.value,
        "createdTimestamp": snapshot.created_at or 0,
        "updatedTimestamp": snapshot.updated_at or snapshot.created_at or 0,
        "status": snapshot.status.value,
        "statusDetails": snapshot.venue_status,
        "orderType": snapshot.order_type,
        "timeInForce": snapshot.time_in_force,
        "brokerType": integration.value,
        "transactionType": "order",
        "parentOrderId": None,
        "optionDetails": None,
    }


_FIAT = frozenset({"USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD"})


def feature_list(
    registry: VenueRegistry,
    sealer: TokenSealer,
    client_id: str,
    integration: IntegrationType,
    token: str,
    health: VenueHealth | None = None,
) -> dict[str, Any]:
    """What the registry knows: cancel support is real; placing orders is not something ordergate does.
    `isIntegrationUp` is what `/status` says for this process: no repeated connect failures, no venue back-off."""
    open_credentials(sealer, client_id, integration, token)
    adapter = registry.adapter(integration)
    up = adapter is not None and (health is None or health.outage(integration) is None)
    return {
        "brokerType": integration.value,
        "status": "succeeded",
        "supportsOrderCancellation": adapter is not None,
        "supportsOrderPreview": False,
        "supportsPriceQuotes": False,
        "isTradingSupported": False,
        "isIntegrationUp": up,
    }
