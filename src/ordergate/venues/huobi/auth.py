"""HTX signature version 2, over the exact query that is sent.

The query is built once: AccessKeyId, SignatureMethod, SignatureVersion, Timestamp (plus a GET's own parameters),
sorted by key and URL-encoded with upper-case hex; the signed text is METHOD, the host actually called (lower case,
with its port when it is not the scheme's default), the full path of the URL, and that query, joined by newlines.
The same query string, with `&Signature=` appended, is what goes on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import SplitResult, quote

from ordergate.venues.huobi.constants import SIGNATURE_METHOD, SIGNATURE_VERSION, TIMESTAMP_FORMAT

_DEFAULT_PORTS = {"http": 80, "https": 443}


def signed_host(url: SplitResult) -> str:
    host = (url.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets in the Host header
        host = f"[{host}]"
    port = url.port
    return f"{host}:{port}" if port is not None and port != _DEFAULT_PORTS.get(url.scheme) else host


def timestamp(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime(TIMESTAMP_FORMAT)


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Sorted by key (ASCII), keys and values percent-encoded (RFC 3986, upper-case hex)."""
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params))


def sign(secret: str, method: str, host: str, path: str, query: str) -> str:
    text = f"{method.upper()}\n{host}\n{path}\n{query}"
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def signed_query(
    api_key: str, secret: str, method: str, host: str, path: str, stamp: str, params: Iterable[tuple[str, str]] = ()
) -> str:
    query = canonical_query(
        [
            ("AccessKeyId", api_key),
            ("SignatureMethod", SIGNATURE_METHOD),
            ("SignatureVersion", SIGNATURE_VERSION),
            ("Timestamp", stamp),
            *params,
        ]
    )
    return f"{query}&Signature={quote(sign(secret, method, host, path, query), safe='')}"
