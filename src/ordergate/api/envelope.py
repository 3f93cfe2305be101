"""Mesh's response envelope: `{status, message, displayMessage, errorType, errorData, content}`.

Rendered to bytes here (`render_*`); the raw-ASGI cancel sends those bytes with pre-built header lists, the
FastAPI routes wrap the same bytes in an `EnvelopeResponse`.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses for a str
from typing import Any

from starlette.responses import Response

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import ApiResultStatus

REQUEST_ID_HEADER = "X-Request-Id"
JSON_HEADER = (b"content-type", b"application/json")
REQUEST_ID_KEY = b"x-request-id"


class EnvelopeResponse(Response):
    media_type = "application/json"
    error_type: str = ""  # what the audit row and idempotency store record; "" on success


def _render(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def render_ok(content: Any = None, message: str = "") -> bytes:
    return _render(
        {
            "status": ApiResultStatus.ok.value,
            "message": message,
            "displayMessage": None,
            "errorType": "",
            "errorData": None,
            "content": content,
        }
    )


# A cancel's answer, byte for byte what render_ok({"orderId": …, "status": …}, message) gives, from templates.
_CANCEL_MESSAGES = {"cancelled": "Order cancelled."}
_CANCEL_ACCEPTED = "Cancel request accepted."


def render_cancel_ok(order_id: str, status: str) -> bytes:
    message = _CANCEL_MESSAGES.get(status, _CANCEL_ACCEPTED)
    return (
        '{"status":"ok","message":'
        + encode_basestring(message)
        + ',"displayMessage":null,"errorType":"","errorData":null,"content":{"orderId":'
        + encode_basestring(order_id)
        + ',"status":'
        + encode_basestring(status)
        + "}}"
    ).encode()


def cancel_message(status: str) -> str:
    return _CANCEL_MESSAGES.get(status, _CANCEL_ACCEPTED)


def render_error(exc: GatewayError) -> tuple[int, bytes, str | None]:
    """(HTTP status, body, Retry-After value or None)."""
    info = exc.error_type.info
    body = {
        "status": info.status.value,
        "message": exc.message,
        "displayMessage": exc.display_message or exc.message,
        "errorType": exc.error_type.value,
        "errorData": exc.error_data,
        "content": None,
    }
    retry = str(max(1, math.ceil(exc.retry_after))) if exc.retry_after is not None else None
    return info.http_status, _render(body), retry


def raw_headers(body: bytes, request_id: bytes, retry_after: str | None = None) -> list[tuple[bytes, bytes]]:
    """The ASGI header list of an envelope answer (the same headers EnvelopeResponse sends)."""
    if retry_after is None:
        return [(REQUEST_ID_KEY, request_id), (b"content-length", b"%d" % len(body)), JSON_HEADER]
    headers = [(REQUEST_ID_KEY, request_id)]
    if retry_after is not None:
        headers.append((b"retry-after", retry_after.encode()))
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append(JSON_HEADER)
    return headers


def ok(content: Any = None, *, message: str = "", request_id: str | None = None) -> EnvelopeResponse:
    return EnvelopeResponse(render_ok(content, message), status_code=200, headers=_headers(request_id))


def error(exc: GatewayError, *, request_id: str | None = None) -> EnvelopeResponse:
    status, body, retry = render_error(exc)
    headers = _headers(request_id)
    if retry is not None:
        headers["Retry-After"] = retry
    response = EnvelopeResponse(body, status_code=status, headers=headers)
    response.error_type = exc.error_type.value
    return response


def internal_error(request_id: str | None) -> EnvelopeResponse:
    return error(internal_error_exc(request_id), request_id=request_id)


def internal_error_exc(request_id: str | None) -> GatewayError:
    return GatewayError(ErrorType.internalError, f"Internal error; request id {request_id}.")


def _headers(request_id: str | None) -> dict[str, str]:
    return {REQUEST_ID_HEADER: request_id} if request_id else {}
