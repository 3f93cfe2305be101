"""`POST /api/v1/authenticate?userId=`: verify API-key credentials with the venue, answer a sealed token."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.attempt import Attempt
from ordergate.api.auth import require_client
from ordergate.api.idempotency import idempotent
from ordergate.api.models import B2BBrokerAuthRequest
from ordergate.api.parsing import UnencodableBody, read_json_object, validate
from ordergate.api.transactions import GatewayDep
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import Credentials
from ordergate.gateway import Gateway
from ordergate.store.clients import Scope
from ordergate.tokens import TokenTooLarge

router = APIRouter()
_USER_ID_MAX = 50


def _user_id(request: Request) -> str:
    user_id = request.query_params.get("userId", "")
    if not user_id:
        raise GatewayError(
            ErrorType.missingField,
            "The userId query parameter is required.",
            error_data={"fields": {"userId": "required"}},
        )
    if len(user_id) > _USER_ID_MAX:
        raise GatewayError(
            ErrorType.invalidField,
            f"userId must be at most {_USER_ID_MAX} characters.",
            error_data={"fields": {"userId": f"longer than {_USER_ID_MAX} characters"}},
        )
    return user_id


async def _connect(gateway: Gateway, client_id: str, data: dict, request_id: str) -> Response:
    body = validate(B2BBrokerAuthRequest, data).decoded()
    adapter = gateway.registry.adapter(body.type)
    if adapter is None:
        raise GatewayError(
            ErrorType.authenticationNotSupported,
            f"ordergate cannot connect '{body.type.value}' accounts by API key.",
            error_data={"type": body.type.value},
        )
    missing = [name for name in ("username", "password") if not getattr(body, name)]
    if missing:
        raise GatewayError(
            ErrorType.missingField,
            "username (API key) and password (API secret) are required.",
            error_data={"fields": {name: "required" for name in missing}},
        )
    creds = Credentials(
        type=body.type,
        api_key=body.username or "",
        secret=body.password or "",
        passphrase=body.authToken or None,
    )
    try:
        account = await adapter.verify_credentials(creds, body.mfaCode)
    except GatewayError as exc:
        if exc.error_type is ErrorType.mfaRequired:
            return envelope.ok(
                {
                    "status": "mfaRequired",
                    "mfaType": "totp",
                    "errorMessage": exc.message,
                    "accountTokens": None,
                },
                request_id=request_id,
            )
        raise
    try:
        sealed = gateway.sealer.seal(
            client_id,
            Credentials(
                type=body.type,
                api_key=creds.api_key,
                secret=creds.secret,
                passphrase=creds.passphrase,
                extras=account.extras,
            ),
        )
    except TokenTooLarge as exc:
        raise GatewayError(
            ErrorType.invalidField,
            f"The credentials are too long to seal into an authToken ({exc}).",
            error_data={"fields": {"password": "too long", "username": "too long"}},
        ) from None
    content = {
        "status": "succeeded",
        "errorMessage": None,
        "accountTokens": [
            {
                "account": {
                    "meshAccountId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{body.type.value}:{account.account_id}")),
                    "accountId": account.account_id,
                    "accountName": account.account_name,
                },
                "accessToken": sealed,
                "refreshToken": None,
            }
        ],
        "brokerType": body.type.value,
        "expiresInSeconds": None,
        "refreshTokenExpiresInSeconds": None,
        "requiresReauthentication": False,
    }
    return envelope.ok(content, request_id=request_id)


@router.post("/api/v1/authenticate", include_in_schema=False)
async def authenticate(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client = await require_client(
            request, gateway.clients, Scope.read, gateway.client_limit, guard=gateway.source_guard, attempt=attempt
        )
        try:
            data = await read_json_object(request, gateway.settings.max_body_bytes)
        except UnencodableBody as exc:
            if isinstance(exc.data.get("type"), str):
                attempt.integration_type = exc.data["type"][:64]
            raise
        if isinstance(data.get("type"), str):
            attempt.integration_type = data["type"][:64]
        user_id = _user_id(request)
        return await idempotent(
            request,
            gateway.idempotency,
            client.id,
            "authenticate",
            {**data, "userId": user_id},
            attempt.request_id,
            lambda: _connect(gateway, client.id, data, attempt.request_id),
        )

    return await Attempt(request, gateway.audit, "authenticate").run(work)
