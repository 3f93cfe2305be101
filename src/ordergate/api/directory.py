"""Mesh's account-management reads and token refresh: `GET /api/v1/status`, `GET /api/v1/integrations`,
`GET /api/v1/authenticationSchemes` and `POST /api/v1/token/refresh`. Same client authentication, `read` scope,
client rate limit and audit row as every other endpoint."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.attempt import Attempt
from ordergate.api.auth import require_client
from ordergate.api.models import BrokerRefreshTokenRequest
from ordergate.api.parsing import read_json_object, validate
from ordergate.api.transactions import GatewayDep
from ordergate.domain import directory
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.gateway import Gateway
from ordergate.store.clients import Scope
from ordergate.tokens import InvalidToken
from ordergate.venues.transport import TransportError

router = APIRouter()


@router.get("/api/v1/status", include_in_schema=False)
async def status(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client = await require_client(request, gateway.clients, Scope.read, gateway.client_limit)
        attempt.client_id = client.id
        content = await directory.health_statuses(gateway.registry, gateway.health, gateway.coordination)
        return envelope.ok(content, request_id=attempt.request_id)

    return await Attempt(request, gateway.audit, "status").run(work)


@router.get("/api/v1/integrations", include_in_schema=False)
async def integrations(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client = await require_client(request, gateway.clients, Scope.read, gateway.client_limit)
        attempt.client_id = client.id
        return envelope.ok(directory.integrations(), request_id=attempt.request_id)

    return await Attempt(request, gateway.audit, "integrations").run(work)


@router.get("/api/v1/authenticationSchemes", include_in_schema=False)
async def authentication_schemes(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client = await require_client(request, gateway.clients, Scope.read, gateway.client_limit)
        attempt.client_id = client.id
        return envelope.ok(directory.authentication_schemes(gateway.registry), request_id=attempt.request_id)

    return await Attempt(request, gateway.audit, "authenticationSchemes").run(work)


# The extras that name the account a token is for, across adapters.
_ACCOUNT_EXTRAS = ("account", "account_id", "accountId", "accountIdKey", "account_number", "account_url")


def _unopenable() -> GatewayError:
    # Mesh answers a refresh token it cannot use with 400 badRequest, "Unauthorized token" (its OpenAPI example).
    return GatewayError(
        ErrorType.invalidField,
        "Unauthorized token",
        display_message="Could not refresh the authentication token. The provided data is not correct",
        error_data={"fields": {"refreshToken": "not an authToken issued to this API client for this type"}},
    )


async def _refresh(gateway: Gateway, client_id: str, data: dict) -> dict:
    body = validate(BrokerRefreshTokenRequest, data)
    adapter = gateway.registry.adapter(body.type)
    if adapter is None:
        raise GatewayError(
            ErrorType.authenticationNotSupported,
            f"ordergate cannot connect '{body.type.value}' accounts, so it has no token of theirs to refresh.",
            error_data={"type": body.type.value},
        )
    try:
        creds = gateway.sealer.open(client_id, body.type, body.refreshToken)
    except InvalidToken:
        raise _unopenable() from None
    try:
        renewed = await adapter.refresh(creds)
    except TransportError as exc:
        # Nothing is sealed: the client keeps its current token and may try again.
        raise GatewayError(
            ErrorType.institutionUnavailable, f"{adapter.spec.name} could not be reached to renew the session ({exc})."
        ) from None
    if renewed is not None and renewed.type is not body.type:
        raise GatewayError(ErrorType.internalError, "The adapter renewed credentials for another integration type.")
    if renewed is not None and any(renewed.extras.get(k) != creds.extras.get(k) for k in _ACCOUNT_EXTRAS):
        # A token is one account's: a renewal never hands back another account's token.
        raise GatewayError(ErrorType.internalError, "The adapter renewed credentials for another account.")
    token = gateway.sealer.seal(client_id, renewed or creds)
    return {
        "status": "succeeded",
        "errorMessage": None,
        "expiresInSeconds": adapter.session_expires_in(renewed or creds),
        "refreshTokenExpiresInSeconds": None,
        # For API-key venues the authToken is its own refresh token: both are the re-sealed token.
        "brokerAccountTokens": [{"accessToken": token, "refreshToken": token}],
    }


@router.post("/api/v1/token/refresh", include_in_schema=False)
async def token_refresh(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client = await require_client(request, gateway.clients, Scope.read, gateway.client_limit)
        attempt.client_id = client.id
        data = await read_json_object(request, gateway.settings.max_body_bytes)
        if isinstance(data.get("type"), str):
            attempt.integration_type = data["type"][:64]
        content = await _refresh(gateway, client.id, data)
        return envelope.ok(content, request_id=attempt.request_id)

    return await Attempt(request, gateway.audit, "token/refresh").run(work)
