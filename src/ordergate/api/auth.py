"""`X-Client-Id` / `X-Client-Secret` → the calling API client and its scopes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from ordergate.coordination import Coordination
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.store.clients import Client, ClientStore, Scope


@dataclass(frozen=True, slots=True)
class ClientLimit:
    coordination: Coordination
    rate: float
    burst: int


async def require_client(
    request: Request, clients: ClientStore, scope: Scope, limit: ClientLimit | None = None
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
    if (
        limit is not None
        and limit.rate > 0
        and (wait := await limit.coordination.take_token(client.id, limit.rate, limit.burst))
    ):
        raise GatewayError(
            ErrorType.rateLimited,
            "Too many requests for this API client.",
            retry_after=wait,
            error_data={"limit": "client", "ratePerSecond": limit.rate, "burst": limit.burst},
        )
    return client
