"""Mesh's response envelope: `{status, message, displayMessage, errorType, errorData, content}`."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import Response

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import ApiResultStatus

REQUEST_ID_HEADER = "X-Request-Id"


class EnvelopeResponse(Response):
    media_type = "application/json"
    error_type: str = ""  # what the audit row and idempotency store record; "" on success


def _render(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def ok(content: Any = None, *, message: str = "", request_id: str | None = None) -> EnvelopeResponse:
    body = {
        "status": ApiResultStatus.ok.value,
        "message": message,
        "displayMessage": None,
        "errorType": "",
        "errorData": None,
        "content": content,
    }
    return EnvelopeResponse(_render(body), status_code=200, headers=_headers(request_id))


def error(exc: GatewayError, *, request_id: str | None = None) -> EnvelopeResponse:
    info = exc.error_type.info
    body = {
        "status": info.status.value,
        "message": exc.message,
        "displayMessage": exc.display_message or exc.message,
        "errorType": exc.error_type.value,
        "errorData": exc.error_data,
        "content": None,
    }
    headers = _headers(request_id)
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    response = EnvelopeResponse(_render(body), status_code=info.http_status, headers=headers)
    response.error_type = exc.error_type.value
    return response


def internal_error(request_id: str | None) -> EnvelopeResponse:
    return error(
        GatewayError(ErrorType.internalError, f"Internal error; request id {request_id}."),
        request_id=request_id,
    )


def _headers(request_id: str | None) -> dict[str, str]:
    return {REQUEST_ID_HEADER: request_id} if request_id else {}
