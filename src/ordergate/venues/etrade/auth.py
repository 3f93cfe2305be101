"""OAuth 1.0a, HMAC-SHA1, as E*TRADE verifies it (RFC 5849 §3.4).

Base string = METHOD & pct(scheme://host[:port]/path) & pct(sorted "k=v" of every oauth_* parameter except
oauth_signature and realm, plus the query parameters), each key and value percent-encoded first. JSON bodies are
not signed. Key = pct(consumer secret) & pct(token secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit


def pct(text: str) -> str:
    """RFC 3986 percent-encoding: everything but unreserved characters (RFC 5849 §3.6)."""
    return quote(text, safe="-._~")


def base_url(url: str) -> str:
    """scheme://host[:port]/path, the port only when it is not the scheme's default (RFC 5849 §3.4.1.2)."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port is None or port == default else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """`params`: the oauth_* parameters and the decoded query (and form) parameters of the request."""
    pairs = sorted((pct(k), pct(v)) for k, v in params if k not in ("oauth_signature", "realm"))
    normalized = "&".join(f"{k}={v}" for k, v in pairs)
    return "&".join((method.upper(), pct(base_url(url)), pct(normalized)))


def signature(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{pct(consumer_secret)}&{pct(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), hashlib.sha1).digest()).decode()


@dataclass(frozen=True, slots=True)
class Consumer:
    key: str
    secret: str


@dataclass(frozen=True, slots=True)
class Token:
    key: str
    secret: str


def authorization(
    method: str,
    url: str,
    consumer: Consumer,
    token: Token | None = None,
    *,
    extra: dict[str, str] | None = None,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> str:
    """The `Authorization: OAuth …` header for `method url` (its query string included in the signature).

    `extra`: oauth_callback (request token) or oauth_verifier (access token).
    """
    oauth = {
        "oauth_consumer_key": consumer.key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_version": "1.0",
        **({"oauth_token": token.key} if token else {}),
        **(extra or {}),
    }
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    oauth["oauth_signature"] = signature(
        base_string(method, url, [*oauth.items(), *query]), consumer.secret, token.secret if token else ""
    )
    # E*TRADE's own samples send an empty realm; it is never signed.
    return "OAuth " + ", ".join(['realm=""', *(f'{k}="{pct(v)}"' for k, v in oauth.items())])
