"""`X-Client-Id` / `X-Client-Secret` → the calling API client and its scopes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ordergate.coordination import Coordination
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.limits import TokenBuckets
from ordergate.observability import AUTH_FAILURES
from ordergate.store.clients import Client, ClientStore, Scope


@dataclass(frozen=True, slots=True)
class ClientLimit:
    coordination: Coordination
    rate: float
    burst: int


class SourceGuard:
    """Lookups of unknown client ids per source address (the TCP peer: ordergate has no trusted-proxy setting, so
    X-Forwarded-For is never believed). Each request whose client id is not already known spends a token before
    its lookup; past `burst` tokens, refilled at `rate` per second, the source is answered 429 without any lookup,
    so a flood of made-up client ids costs neither database reads nor (see AuditLog.aggregate) audit rows.
    Clients already known are never limited by it, whoever shares their address. Kept per process."""

    def __init__(self, rate: float, burst: int) -> None:
        self._lookups = TokenBuckets(rate, burst)
        self.rate, self.burst = rate, burst

    def spend(self, source: str) -> None:
        wait = self._lookups.take(source)
        if wait:
            raise GatewayError(
                ErrorType.rateLimited,
                "Too many requests with unknown or wrong client credentials from this address.",
                retry_after=wait,
                error_data={"limit": "source"},
            )


def source_of(request: Request) -> str:
    return source_of_scope(request.scope)


def source_of_scope(scope: Any) -> str:
    peer = scope.get("client")
    return str(peer[0])[:64] if peer else "unknown"


async def require_client(
    request: Request,
    clients: ClientStore,
    scope: Scope,
    limit: ClientLimit | None = None,
    *,
    guard: SourceGuard | None = None,
    attempt: Any = None,
) -> Client:
    """The calling client. `attempt` (the audit row in the making) learns the client id as soon as it is known,
    so a 403 or 429 row says whose request it was."""
    source = source_of(request)
    client_id = request.headers.get("x-client-id", "")
    secret = request.headers.get("x-client-secret", "")
    # Spent only when a lookup of an id not known before starts: a real client behind the same address as a flood
    # keeps working, and requests that join a lookup already running (a new client's first burst) spend nothing.
    client = await clients.verify(
        client_id, secret, before_lookup=(lambda: guard.spend(source)) if guard is not None else None
    )
    if client is None:
        AUTH_FAILURES.inc()
        raise GatewayError(
            ErrorType.invalidClientCredentials,
            "Client Id or Client Secret are not correct or missing.",
        )
    if attempt is not None:
        attempt.client_id = client.id
    await admit(client, scope, limit)
    return client


async def admit(client: Client, scope: Scope, limit: ClientLimit | None) -> None:
    """A verified client's scope and per-client rate limit."""
    if limit is None or limit.coordination.local:
        admit_now(client, scope, limit)
        return
    _require_scope(client, scope)
    if limit.rate > 0:
        _raise_if_limited(limit, await limit.coordination.take_token(client.id, limit.rate, limit.burst))


def admit_now(client: Client, scope: Scope, limit: ClientLimit | None) -> None:
    """`admit` when the limit is kept in process (`coordination.local`, or no limit): no await."""
    if scope not in client.scopes:
        _require_scope(client, scope)
    if limit is not None and limit.rate > 0:
        wait = limit.coordination.take_token_now(client.id, limit.rate, limit.burst)  # type: ignore[attr-defined]
        if wait:
            _raise_if_limited(limit, wait)


def _require_scope(client: Client, scope: Scope) -> None:
    if scope not in client.scopes:
        raise GatewayError(
            ErrorType.insufficientScope,
            f"The API key used does not have {scope.value} permission to call this endpoint.",
            error_data={"requiredScope": scope.value},
        )


def _raise_if_limited(limit: ClientLimit, wait: float) -> None:
    if wait:
        raise GatewayError(
            ErrorType.rateLimited,
            "Too many requests for this API client.",
            retry_after=wait,
            error_data={"limit": "client", "ratePerSecond": limit.rate, "burst": limit.burst},
        )
