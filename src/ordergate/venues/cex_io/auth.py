"""CEX.IO Spot Trading request signing.

X-AGGR-SIGNATURE = base64(HMAC-SHA256(secret as text, action + timestamp + body)), where action is the endpoint
name (`do_cancel_my_order`), timestamp the X-AGGR-TIMESTAMP header (unix seconds) and body the exact JSON bytes
sent. The body is serialised once; those bytes are both signed and sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from ordergate.venues.cex_io.constants import JSON_CONTENT_TYPE


def encode_body(params: dict[str, Any]) -> bytes:
    return json.dumps(params, separators=(",", ":")).encode()


def sign(action: str, ts: str, body: bytes, secret: str) -> str:
    prehash = action.encode() + ts.encode() + body
    return base64.b64encode(hmac.new(secret.encode(), prehash, hashlib.sha256).digest()).decode()


def signed_headers(api_key: str, secret: str, action: str, body: bytes, now_s: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if now_s is None else now_s)
    return {
        "Content-Type": JSON_CONTENT_TYPE,
        "X-AGGR-KEY": api_key,
        "X-AGGR-TIMESTAMP": ts,
        "X-AGGR-SIGNATURE": sign(action, ts, body, secret),
    }
