"""`/transactions/list`: one page of an account's orders, and the sealed cursor that leads to the next one.

The venue's paging state (`OrderPage.cursor`) never reaches the client as is: it is sealed like a challengeId,
under its own purpose (tokens.LIST_CURSOR) and the client id and integration type, together with digests of the
account and of the query it belongs to. A cursor therefore opens only for the client and type it was issued to,
and is refused when it comes back with another account's token or with other `statuses`, `from` or `count`
(a venue's offset or page token means nothing for another account or another filter).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ordergate.domain.cancel import open_credentials, refuse_if_unconfigured
from ordergate.domain.details import render_order
from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials
from ordergate.tokens import LIST_CURSOR, InvalidToken, TokenSealer
from ordergate.venues.base import Adapter, OrderQuery, VenueSpec
from ordergate.venues.catalog import CATEGORIES
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.transport import NotDelivered, OutcomeUnknown

_CURSOR_VERSION = 1


@dataclass(frozen=True, slots=True)
class ListRequest:
    auth_token: str
    type: IntegrationType
    count: int
    statuses: frozenset[OrderStatus] | None  # None: every status (Mesh: absent; an empty list is taken as absent)
    since: int | None
    cursor: str | None
    symbol_pair: str | None = None


def listing_adapter(registry: VenueRegistry, integration: IntegrationType) -> tuple[VenueSpec, Adapter]:
    """Decided from the type alone, before any token is opened or request sent."""
    spec = registry.spec(integration)
    adapter = registry.adapter(integration)
    if adapter is None:
        refuse_if_unconfigured(spec)
    if adapter is None or not spec.lists_orders:
        raise GatewayError(
            ErrorType.listingNotSupported,
            f"ordergate cannot list orders for integration '{integration.value}'.",
            error_data={"type": integration.value},
        )
    return spec, adapter


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def account_digest(creds: Credentials) -> str:
    """What names the account at the venue: the key and the facts sealed with it (a broker's account id)."""
    return _digest({"k": creds.api_key, "x": creds.extras})


def query_digest(req: ListRequest) -> str:
    statuses = sorted(s.value for s in req.statuses) if req.statuses is not None else None
    return _digest({"s": statuses, "f": req.since, "c": req.count, "p": req.symbol_pair})


def _bad_cursor(why: str) -> GatewayError:
    return GatewayError(
        ErrorType.invalidField,
        f"The cursor {why}.",
        error_data={"fields": {"cursor": why}},
    )


def _open_cursor(sealer: TokenSealer, client_id: str, req: ListRequest) -> dict[str, Any]:
    assert req.cursor is not None
    try:
        state = sealer.open_state(client_id, req.type, req.cursor, LIST_CURSOR)
    except InvalidToken:
        raise _bad_cursor("was not issued by this gateway to this API client for this integration type") from None
    if state.get("v") != _CURSOR_VERSION or not isinstance(state.get("n"), int) or not isinstance(state.get("c"), dict):
        raise _bad_cursor("is not a listing cursor")
    return state


async def list_orders(registry: VenueRegistry, sealer: TokenSealer, client_id: str, req: ListRequest) -> dict[str, Any]:
    _, adapter = listing_adapter(registry, req.type)
    state = _open_cursor(sealer, client_id, req) if req.cursor else None
    creds = open_credentials(sealer, client_id, req.type, req.auth_token)
    account, query = account_digest(creds), query_digest(req)
    if state is not None:
        if state.get("a") != account:
            raise _bad_cursor("belongs to another account: send it with the authToken it was issued for")
        if state.get("q") != query:
            raise _bad_cursor("belongs to another query: send the same statuses, from and count with it")
    served_before = state["n"] if state is not None else 0
    venue_query = OrderQuery(
        count=req.count,
        statuses=req.statuses,
        since=req.since,
        cursor=state["c"] if state is not None else None,
        symbol_pair=req.symbol_pair,
    )
    try:
        page = await adapter.list_orders(creds, venue_query)
    except (NotDelivered, OutcomeUnknown, UnknownOrderAtVenue):
        raise GatewayError(ErrorType.institutionUnavailable, "The order listing at the institution failed.") from None
    crypto = "exchange" in CATEGORIES.get(req.type, ())
    orders = [render_order(snapshot, req.type, crypto) for snapshot in page.orders[: req.count]]
    served = served_before + len(orders)
    cursor = None
    if page.cursor is not None:
        sealed = {"v": _CURSOR_VERSION, "a": account, "q": query, "n": served, "c": page.cursor}
        cursor = sealer.seal_state(client_id, req.type, sealed, LIST_CURSOR)
    return {
        "transactions": orders,
        "cursor": cursor,
        # The venue's own total when it says one; else the orders served so far in this walk, which is the
        # exact total on the last page and a lower bound before it.
        "total": page.total if page.total is not None else served,
        "earliestTimestamp": min((o["createdTimestamp"] for o in orders), default=0),
    }
