"""OKX v5 request signing: OK-ACCESS-SIGN = Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)).

`requestPath` includes the query string of a GET (`/api/v5/trade/order?instId=…&ordId=…`): GET parameters are
"counted as requestpath, not body". The secret is used as the UTF-8 text OKX shows (not base64-decoded), and
the body is the exact byte string that is sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from ordergate.venues.okx.constants import DEMO_HEADER, JSON_CONTENT_TYPE


def timestamp(now_ms: int | None = None) -> str:
    """ISO-8601 UTC with exactly three fractional digits, e.g. `2020-12-08T09:08:57.715Z` (OKX rejects others)."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def sign(ts: str, method: str, request_path: str, body: bytes, secret: str) -> str:
    prehash = ts.encode() + method.upper().encode() + request_path.encode() + body
    return base64.b64encode(hmac.new(secret.encode(), prehash, hashlib.sha256).digest()).decode()


def signed_headers(
    *,
    api_key: str,
    secret: str,
    passphrase: str,
    method: str,
    request_path: str,
    body: bytes,
    demo: bool,
    now_ms: int | None = None,
) -> dict[str, str]:
    ts = timestamp(now_ms)
    headers = {
        "OK-ACCESS-KEY": api_key,
        "OK-ACCESS-SIGN": sign(ts, method, request_path, body, secret),
        "OK-ACCESS-TIMESTAMP": ts,
        "OK-ACCESS-PASSPHRASE": passphrase,
    }
    if body:
        headers["Content-Type"] = JSON_CONTENT_TYPE
    if demo:
        # Demo trading lives on the production host; this header is what routes a request to it.
        headers[DEMO_HEADER] = "1"
    return headers
