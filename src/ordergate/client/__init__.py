"""ordergate's Python client: Mesh's calls (authenticate, cancel, details) and ordergate's extensions (batch cancel
with waitSeconds), sync (`Client`) and async (`AsyncClient`), Mesh's error envelope raised as typed exceptions
(`ordergate.client.errors`, one class per errorType). See `_core` for when a call is retried and why a retry with
the same Idempotency-Key is safe.

    from ordergate.client import Client, OrderNotCancelable

    with Client("http://127.0.0.1:8080", client_id, client_secret) as og:
        try:
            print(og.cancel(auth_token, "kraken", order_id).status)      # cancelled | inProgress
        except OrderNotCancelable as err:
            print("already final:", err.error_data["orderStatus"])
"""

from ordergate.client._async import AsyncClient
from ordergate.client._core import AuthResult, BatchItem, BatchResult, CancelOrder, CancelResult, RetryPolicy
from ordergate.client._sync import Client
from ordergate.client.errors import *  # noqa: F403 - one exception per errorType, generated
from ordergate.client.errors import (
    BY_ERROR_TYPE,
    AnswerLost,
    GatewayUnreachable,
    OrdergateError,
    ServerFeatureUnavailable,
    UnexpectedAnswer,
)

__all__ = [
    "AsyncClient",
    "AuthResult",
    "BY_ERROR_TYPE",
    "BatchItem",
    "BatchResult",
    "CancelOrder",
    "CancelResult",
    "Client",
    "OrdergateError",
    "RetryPolicy",
    *(cls.__name__ for cls in BY_ERROR_TYPE.values()),
    "AnswerLost",
    "GatewayUnreachable",
    "ServerFeatureUnavailable",
    "UnexpectedAnswer",
]
