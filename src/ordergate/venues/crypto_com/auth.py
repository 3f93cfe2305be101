"""Crypto.com Exchange v1 request signing: the signature travels in the JSON body, not in headers.

sig = hex(HMAC-SHA256(secret, method + id + api_key + parameter string + nonce)), the parameter string being the
params' keys in ascending order, each followed by its value (lists element by element, objects recursively, a
value at depth 3 as its plain string, null as `null`). The server recomputes it from the JSON it parses, so the
body carries exactly the values that were signed. The nonce is the time in ms and only has to lie within 60 s of
Crypto.com's clock: there is no per-key ordering to keep, unlike Kraken.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

from ordergate.venues.crypto_com.constants import MAX_PARAM_LEVEL


def _scalar(value: Any) -> str:
    # Written as the venue's Java signer renders values: booleans lower-case, null as `null`, doubles without
    # trailing zeros. Our own params are strings only ("All numbers must be strings").
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def param_string(value: Any, level: int = 0) -> str:
    if level >= MAX_PARAM_LEVEL:
        return json.dumps(value, separators=(",", ":")) if isinstance(value, dict | list) else _scalar(value)
    if isinstance(value, dict):
        out = []
        for key in sorted(value):
            item = value[key]
            out.append(key + (param_string(item, level + 1) if isinstance(item, dict | list) else _scalar(item)))
        return "".join(out)
    if isinstance(value, list):
        return "".join(param_string(item, level + 1) for item in value)
    return _scalar(value)


def sign(
    secret: str, method: str, request_id: int | str, api_key: str, params: dict[str, Any], nonce: int | str
) -> str:
    payload = f"{method}{request_id}{api_key}{param_string(params)}{nonce}"
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_body(
    api_key: str, secret: str, method: str, params: dict[str, Any], *, request_id: int, nonce: int
) -> bytes:
    """The exact JSON sent: id and nonce as strings of digits (as the v1 OpenAPI example and ccxt send them)."""
    body = {
        "id": str(request_id),
        "method": method,
        "api_key": api_key,
        "params": params,
        "nonce": str(nonce),
        "sig": sign(secret, method, request_id, api_key, params, nonce),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def now_ms() -> int:
    return time.time_ns() // 1_000_000
