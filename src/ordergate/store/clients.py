"""API clients: created with a high-entropy secret shown once, stored as SHA-256, verified in constant time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from ordergate.store.models import ApiClient


class Scope(StrEnum):
    read = "read"
    write = "write"


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    scopes: frozenset[Scope]
    disabled: bool
    created_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(text: str) -> frozenset[Scope]:
    return frozenset(Scope(s.strip()) for s in text.split(",") if s.strip())


class ClientStore:
    def __init__(self, sessions: async_sessionmaker, *, cache_ttl_s: float = 5.0) -> None:
        self._sessions = sessions
        self._ttl = cache_ttl_s
        # client id -> (client, secret digest, expiry); a verified request costs one SHA-256, no database read.
        self._cache: dict[str, tuple[Client, str, float]] = {}
        self._loading: dict[str, asyncio.Future[tuple[Client, str, float] | None]] = {}

    async def create(self, name: str, scopes: frozenset[Scope]) -> tuple[Client, str]:
        client_id = str(uuid.uuid4())
        secret = "ogs_" + secrets.token_urlsafe(32)
        row = ApiClient(
            id=client_id,
            name=name,
            secret_sha256=_digest(secret),
            scopes=",".join(sorted(scopes)),
            disabled=False,
            created_at=datetime.now(UTC),
        )
        async with self._sessions() as session, session.begin():
            session.add(row)
        return _to_client(row), secret

    async def ensure(self, client_id: str, name: str, secret: str, scopes: frozenset[Scope]) -> Client:
        """Create or refresh a client with a known secret (the sandbox's demo client only)."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ApiClient, client_id)
            if row is None:
                row = ApiClient(id=client_id, created_at=datetime.now(UTC))
                session.add(row)
            row.name = name
            row.secret_sha256 = _digest(secret)
            row.scopes = ",".join(sorted(scopes))
            row.disabled = False
        self._cache.pop(client_id, None)
        return _to_client(row)

    async def list(self) -> list[Client]:
        async with self._sessions() as session:
            rows = (await session.execute(select(ApiClient).order_by(ApiClient.created_at))).scalars()
            return [_to_client(r) for r in rows]

    async def set_disabled(self, client_id: str, disabled: bool = True) -> bool:
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(ApiClient).where(ApiClient.id == client_id).values(disabled=disabled)
            )
        self._cache.pop(client_id, None)
        return bool(result.rowcount)

    async def verify(self, client_id: str, secret: str) -> Client | None:
        """The client if id and secret match and it is enabled, else None. Never raises on bad input."""
        if not client_id or not secret or len(client_id) > 64 or len(secret) > 256:
            return None
        cached = self._cache.get(client_id)
        if cached is None or cached[2] < time.monotonic():
            # One database read per client per expiry, however many requests miss the cache together (with 256
            # in flight, each used to read the row itself when the entry expired).
            loading = self._loading.get(client_id)
            if loading is None:
                loading = asyncio.ensure_future(self._load(client_id))
                self._loading[client_id] = loading
                loading.add_done_callback(lambda _done: self._loading.pop(client_id, None))
            cached = await asyncio.shield(loading)
            if cached is None:
                # Equalise timing with the found path so ids cannot be probed by latency.
                hmac.compare_digest(_digest(secret), "0" * 64)
                return None
        client, digest, _ = cached
        if not hmac.compare_digest(_digest(secret), digest) or client.disabled:
            return None
        return client

    async def _load(self, client_id: str) -> tuple[Client, str, float] | None:
        async with self._sessions() as session:
            row = await session.get(ApiClient, client_id)
        if row is None:
            return None
        cached = (_to_client(row), row.secret_sha256, time.monotonic() + self._ttl)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[client_id] = cached
        return cached


def _to_client(row: ApiClient) -> Client:
    return Client(
        id=row.id,
        name=row.name,
        scopes=parse_scopes(row.scopes),
        disabled=bool(row.disabled),
        created_at=row.created_at,
    )
