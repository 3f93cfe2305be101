"""`X-Client-Id` / `X-Client-Secret` → the calling API client and its scopes."""

from __future__ import annotations

from starlette.requests import Request

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.limits import TokenBuckets
from ordergate.store.clients import Client, ClientStore, Scope


async def require_client(
    request: Request, clients: ClientStore, scope: Scope, limits: TokenBuckets | None = None
) -> Client:
    client_id = request.headers.get("x-client-id", "")
    secret = request.headers.get("x-client-secret", "")
    client = await clients.verify(client_id, secret)
    if client is None:
        raise GatewayError(
            ErrorType.invalidClientCredentials,
            "Client Id or Client Secret are not correct or missing.",
        )
    if scope not in client.scopes:
        raise GatewayError(
            ErrorType.insufficientScope,
            f"The API key used does not have {scope.value} permission to call this endpoint.",
            error_data={"requiredScope": scope.value},
        )
    if limits is not None and (wait := limits.take(client.id)):
        raise GatewayError(
            ErrorType.rateLimited,
            "Too many requests for this API client.",
            retry_after=wait,
            error_data={"limit": "client", "ratePerSecond": limits.rate, "burst": limits.burst},
        )
    return client
