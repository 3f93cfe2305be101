"""How a request reaches the right eToro account: the key headers, and which environment's paths to call.

eToro signs nothing. The application key travels in `x-api-key`, the user's key in `x-user-key`, and every request
carries its own `x-request-id` UUID: eToro uses it as the request's idempotency id, so reusing one would make a
second request a replay of the first. A user key is created for Demo or Real; the environment is named at
/authenticate and sealed into the token as `extras["environment"]`.
"""

from __future__ import annotations

import uuid

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.orders import Credentials
from ordergate.venues.etoro.constants import DEFAULT_ENVIRONMENT, ENVIRONMENTS, HEADER_SAFE


def auth_headers(creds: Credentials, request_id: str | None = None) -> dict[str, str]:
    """The documented headers, with a fresh request id unless one is given; refuses values no header can carry."""
    if not (HEADER_SAFE.fullmatch(creds.api_key) and HEADER_SAFE.fullmatch(creds.secret)):
        raise GatewayError(ErrorType.institutionAuthFailed, "The eToro keys contain characters no eToro key has")
    return {
        "x-api-key": creds.api_key,
        "x-user-key": creds.secret,
        "x-request-id": request_id or str(uuid.uuid4()),
    }


def environment(creds: Credentials) -> str:
    """`demo` or `real`: what the token says; tokens without it are real accounts (the documented default)."""
    value = creds.extras.get("environment", DEFAULT_ENVIRONMENT)
    return value if value in ENVIRONMENTS else DEFAULT_ENVIRONMENT


def environment_hint(auth_token: str | None) -> str:
    """`authToken` at /authenticate: `demo` or `real` (any case), real when absent."""
    hint = (auth_token or "").strip().lower() or DEFAULT_ENVIRONMENT
    if hint not in ENVIRONMENTS:
        raise GatewayError(
            ErrorType.invalidField,
            "For eToro, authToken names the environment the user key was created for: 'demo' or 'real'.",
            error_data={"fields": {"authToken": "'demo', 'real' or absent (real)"}},
        )
    return hint


def path_for(paths: tuple[str, str], env: str) -> str:
    """The (demo, real) pair's path for the environment."""
    return paths[0] if env == "demo" else paths[1]
