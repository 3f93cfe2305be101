"""`POST /api/v1/authenticate?userId=`: connect an account (one or more steps), answer one sealed token per
brokerage account."""

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
from ordergate.domain.cancel import refuse_if_no_cancel_api, refuse_if_unconfigured
from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.orders import Credentials
from ordergate.gateway import Gateway
from ordergate.store.clients import Scope
from ordergate.tokens import InvalidToken, TokenTooLarge
from ordergate.venues.base import ChallengeIssued, Connected, ConnectStep
from ordergate.venues.transport import NotDelivered, OutcomeUnknown

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
    refuse_if_no_cancel_api(gateway.registry.spec(body.type))
    adapter = gateway.registry.adapter(body.type)
    if adapter is None:
        refuse_if_unconfigured(gateway.registry.spec(body.type))
        raise GatewayError(
            ErrorType.authenticationNotSupported,
            f"ordergate cannot connect '{body.type.value}' accounts by API key.",
            error_data={"type": body.type.value},
        )
    creds = Credentials(
        type=body.type,
        api_key=body.username or "",
        secret=body.password or "",
        passphrase=body.authToken or None,
    )
    step = ConnectStep(
        mfa_code=body.mfaCode, challenge_code=body.challengeCode, state=_opened_state(gateway, client_id, body)
    )
    try:
        result = await adapter.connect(creds, step)
    except (NotDelivered, OutcomeUnknown, UnknownOrderAtVenue):
        # The venue could not be reached or its answer was lost: nothing was sealed, the client may retry.
        raise GatewayError(
            ErrorType.institutionUnavailable,
            "The institution could not be reached to verify the credentials; nothing was connected. Retry shortly.",
        ) from None
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
    if isinstance(result, ChallengeIssued):
        return envelope.ok(_challenge_content(gateway, client_id, body, result), request_id=request_id)
    return envelope.ok(_connected_content(gateway, client_id, body, result), request_id=request_id)


def _opened_state(gateway: Gateway, client_id: str, body: B2BBrokerAuthRequest) -> dict | None:
    if not body.challengeId:
        return None
    try:
        return gateway.sealer.open_state(client_id, body.type, body.challengeId)
    except InvalidToken:
        raise GatewayError(
            ErrorType.invalidField,
            "The challengeId was not issued to this API client for this integration.",
            error_data={"fields": {"challengeId": "not issued to this client and type"}},
        ) from None


def _challenge_content(gateway: Gateway, client_id: str, body: B2BBrokerAuthRequest, issued: ChallengeIssued) -> dict:
    return {
        "status": issued.status,
        "mfaType": issued.mfa_type,
        "challengeId": gateway.sealer.seal_state(client_id, body.type, issued.state),
        "challengeText": issued.message,
        "challengeExpiresInSeconds": issued.expires_in_seconds,
        # Not in Mesh's response model: where the user authorizes (E*TRADE's OAuth page), as Mesh's request names it.
        "redirectLink": issued.redirect_link,
        "errorMessage": None,
        "accountTokens": None,
        "brokerType": body.type.value,
    }


def _connected_content(gateway: Gateway, client_id: str, body: B2BBrokerAuthRequest, done: Connected) -> dict:
    creds = done.credentials
    tokens = []
    for account in done.accounts:
        try:
            sealed = gateway.sealer.seal(
                client_id,
                Credentials(
                    type=body.type,
                    api_key=creds.api_key,
                    secret=creds.secret,
                    passphrase=creds.passphrase,
                    extras={**creds.extras, **account.extras},
                ),
            )
        except TokenTooLarge as exc:
            raise GatewayError(
                ErrorType.invalidField,
                f"The credentials are too long to seal into an authToken ({exc}).",
                error_data={"fields": {"password": "too long", "username": "too long"}},
            ) from None
        tokens.append(
            {
                "account": {
                    "meshAccountId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{body.type.value}:{account.account_id}")),
                    "accountId": account.account_id,
                    "accountName": account.account_name,
                },
                "accessToken": sealed,
                # A session that expires is renewed at /token/refresh with the authToken itself as refreshToken.
                "refreshToken": sealed if done.expires_in_seconds is not None else None,
            }
        )
    return {
        "status": "succeeded",
        "errorMessage": None,
        "accountTokens": tokens,
        "brokerType": body.type.value,
        "expiresInSeconds": done.expires_in_seconds,
        "refreshTokenExpiresInSeconds": None,
        "requiresReauthentication": False,
    }


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
