"""Small helpers every venue adapter needs the same way."""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any, Protocol
from urllib.parse import urlencode

from ordergate.domain.orders import Credentials

MAX_VENUE_TEXT = 200  # venue text quoted in our messages is cut here


class KeyedMac(Protocol):
    def copy(self) -> KeyedMac: ...
    def update(self, message: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


def keyed_mac(key: bytes, digest: str) -> KeyedMac:
    """An HMAC context with `key` already absorbed, for `mac`. Kept with the opened credentials (`Credentials.memo`),
    like the decoded key it replaces: each signature then copies the context instead of hashing the key's two pad
    blocks again, as `hmac.digest` does (1.1 µs instead of 1.9 µs for HMAC-SHA512, measured)."""
    try:
        from _hashlib import hmac_new  # OpenSSL's HMAC context, which `hmac.new` wraps in a Python object
    except ImportError:  # a Python without OpenSSL: the stdlib object has the same copy/update/digest
        return hmac.new(key, digestmod=digest)
    return hmac_new(key, digestmod=digest)  # type: ignore[no-any-return]


def mac(keyed: KeyedMac, message: bytes) -> bytes:
    """HMAC(key, message) from `keyed_mac(key, …)`, byte for byte what `hmac.digest` returns."""
    h = keyed.copy()
    h.update(message)
    return h.digest()


def scrub(text: str, creds: Credentials, *also: str | None) -> str:
    """Venue text as it may appear in our messages: key, secret, passphrase (and `also`) masked, length capped.

    Venues echo what they were sent (Bybit quotes the signed string, Kraken the key); none of it may reach a
    client, a log line or an audit row.
    """
    for secret in (creds.api_key, creds.secret, creds.passphrase, *also):
        # Very short values would blank out unrelated characters and carry no risk worth that.
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    return text[:MAX_VENUE_TEXT]


def number(value: Any) -> float | None:
    """A venue's quantity or price as a float; None for absent, empty, unreadable, NaN or infinite values."""
    if value is None or value == "":
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def key_fingerprint(prefix: str, key: str) -> str:
    """An account id for a venue that names none: stable per key, and no use to anyone who reads it."""
    return f"{prefix}-" + hashlib.sha256(key.encode()).hexdigest()[:12]


# What urlencode leaves as it is (letters, digits and "_.-~"), plus the "=" and "&" that join fields.
_JOINED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~=&"


def form_encode(fields: list[tuple[str, str]]) -> bytes:
    """`urlencode(fields).encode()`, byte for byte; fields made only of characters it leaves alone (order ids,
    nonces) are joined directly, at a sixth of its cost."""
    joined = "&".join(map("=".join, fields))  # in C: no comprehension frame
    if joined.isascii():
        raw = joined.encode("ascii")
        # Safe characters only (deleting them leaves nothing: a table lookup per byte, where a regex took ~80
        # instructions per character), and no "=" or "&" but the joining ones (a value holding one is escaped).
        if not raw.translate(None, _JOINED) and raw.count(b"=") == len(fields) and raw.count(b"&") == len(fields) - 1:
            return raw
    return urlencode(fields).encode()
