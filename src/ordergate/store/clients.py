"""API clients: created with a high-entropy secret shown once, stored as SHA-256, verified in constant time."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable
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
    def __init__(self, sessions: async_sessionmaker, *, cache_ttl_s: float = 5.0, miss_ttl_s: float = 5.0) -> None:
        self._sessions = sessions
        self._ttl = cache_ttl_s
        self._miss_ttl = miss_ttl_s
        # client id -> expiry: ids the database does not know, so repeating one costs no read (negative cache).
        self._missing: dict[str, float] = {}
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
        self._missing.pop(client_id, None)
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
        self._missing.pop(client_id, None)
        return _to_client(row)

    async def list(self) -> list[Client]:
        async with self._sessions() as session:
            rows = (await session.execute(select(ApiClient).order_by(ApiClient.created_at))).scalars()
            return [_to_client(r) for r in rows]

    async def set_disabled(self, client_id: str, disabled: bool = True) -> bool:
        async with self._sessions() as session, session.begin():
            result = await session.execute(update(ApiClient).where(ApiClient.id == client_id).values(disabled=disabled))
        self._cache.pop(client_id, None)
        return bool(result.rowcount)

    def cached(self, client_id: str, secret: str) -> Client | None:
        """The client when its cache entry is fresh and the secret matches; None means "ask `verify`" (which
        answers every other case, refusals included)."""
        cached = self._cache.get(client_id)
        if cached is None or cached[2] < time.monotonic() or len(secret) > 256:
            return None
        client, digest, _ = cached
        if client.disabled or not hmac.compare_digest(_digest(secret), digest):
            return None
        return client

    async def verify(
        self, client_id: str, secret: str, before_lookup: Callable[[], None] | None = None
    ) -> Client | None:
        """The client if id and secret match and it is enabled, else None. Never raises on bad input, but
        `before_lookup` (called only when a database read is about to start) may raise to prevent the read."""
        if not client_id or not secret or len(client_id) > 64 or len(secret) > 256:
            return None
        cached = self._cache.get(client_id)
        missing_until = self._missing.get(client_id)
        if missing_until is not None and missing_until > time.monotonic():
            hmac.compare_digest(_digest(secret), "0" * 64)
            return None
        if cached is None or cached[2] < time.monotonic():
            # One database read per client per expiry, however many requests miss the cache together (with 256
            # in flight, each used to read the row itself when the entry expired).
            loading = self._loading.get(client_id)
            if loading is None:
                if before_lookup is not None and cached is None:
                    before_lookup()
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
            if self._miss_ttl > 0:
                if len(self._missing) > 100_000:
                    self._missing.clear()
                self._missing[client_id] = time.monotonic() + self._miss_ttl
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
