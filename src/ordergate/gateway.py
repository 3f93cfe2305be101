"""The process-wide objects a request needs, built once in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from ordergate.api.auth import ClientLimit, SourceGuard
from ordergate.coordination import Coordination
from ordergate.domain.cancel import CancelService
from ordergate.settings import Settings
from ordergate.store.audit import AuditLog
from ordergate.store.clients import ClientStore
from ordergate.store.idempotency import IdempotencyStore
from ordergate.tokens import TokenSealer
from ordergate.venues.health import VenueHealth
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.transport import Transport


@dataclass
class Gateway:
    settings: Settings
    engine: AsyncEngine
    clients: ClientStore
    audit: AuditLog
    sealer: TokenSealer
    transport: Transport
    registry: VenueRegistry
    cancels: CancelService
    idempotency: IdempotencyStore
    coordination: Coordination
    client_limit: ClientLimit
    source_guard: SourceGuard | None = None
    health: VenueHealth = field(default_factory=VenueHealth)
    background: list[asyncio.Task[None]] = field(default_factory=list)
