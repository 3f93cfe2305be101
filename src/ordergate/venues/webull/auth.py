"""Webull's request signature, as webull-openapi-python-sdk 3.0.4 computes it
(core/auth/composer/default_signature_composer.py):

    params  = {x-app-key, x-timestamp, x-signature-version, x-signature-algorithm, x-signature-nonce, host}
              (lower-case names; `host` is the API host without port) plus the query parameters (a query name that
              collides with a header name gets `header_value&query_value`)
    string  = uri + "&" + "&".join(f"{k}={v}" for k, v in sorted(params))
              [+ "&" + upper-case hex SHA-256 of the compact JSON body, when there is a body]
    signed  = percent-encode(string, nothing safe)
    x-signature = base64(HMAC-SHA256(key = app_secret + "&", signed))

The body digest is over the exact bytes sent (compact JSON, `ensure_ascii=False`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ordergate.venues.webull.constants import (
    H_APP_KEY,
    H_NONCE,
    H_SIGN_ALGORITHM,
    H_SIGN_VERSION,
    H_SIGNATURE,
    H_TIMESTAMP,
    SIGN_ALGORITHM,
    SIGN_VERSION,
    TIMESTAMP_FORMAT,
)


def compact_body(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def string_to_sign(
    uri: str, sign_headers: Mapping[str, str], host: str, query: Mapping[str, str], body: bytes | None
) -> str:
    params = {k.lower(): v for k, v in sign_headers.items()}
    params["host"] = host
    for key, value in query.items():
        params[key] = f"{params[key]}&{value}" if key in params else value
    text = uri + "&" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    if body is not None:
        text += "&" + hashlib.sha256(body).hexdigest().upper()
    return quote(text, safe="")


def signature(secret: str, signed: str) -> str:
    return base64.b64encode(hmac.new((secret + "&").encode(), signed.encode(), hashlib.sha256).digest()).decode()


def signed_headers(
    app_key: str,
    secret: str,
    *,
    uri: str,
    host: str,
    query: Mapping[str, str] | None = None,
    body: bytes | None = None,
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The five signature inputs and `x-signature` for one request."""
    headers = {
        H_APP_KEY: app_key,
        H_TIMESTAMP: (now or datetime.now(UTC)).strftime(TIMESTAMP_FORMAT),
        H_SIGN_VERSION: SIGN_VERSION,
        H_SIGN_ALGORITHM: SIGN_ALGORITHM,
        H_NONCE: nonce or str(uuid.uuid4()),
    }
    headers[H_SIGNATURE] = signature(secret, string_to_sign(uri, headers, host, query or {}, body))
    return headers
