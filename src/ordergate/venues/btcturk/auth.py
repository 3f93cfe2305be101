"""BtcTurk request signing: X-Signature = base64(HMAC-SHA256(base64-decoded secret, key + stamp)).

The stamp is the current time in milliseconds, accepted within ±5 s; the request itself is not signed, so there is
no per-key ordering to keep (unlike nonce venues).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from ordergate.venues.btcturk.constants import HEADER_KEY, HEADER_SIGNATURE, HEADER_STAMP


class BadSecret(ValueError):
    """The secret is not base64, as every BtcTurk secret is."""


def sign(api_key: str, secret: str, stamp: int | str) -> str:
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret("the BtcTurk API secret is not base64") from None
    return base64.b64encode(hmac.new(key, f"{api_key}{stamp}".encode(), hashlib.sha256).digest()).decode()


def headers(api_key: str, secret: str, stamp: int) -> dict[str, str]:
    return {
        HEADER_KEY: api_key,
        HEADER_STAMP: str(stamp),
        HEADER_SIGNATURE: sign(api_key, secret, stamp),
        "Content-Type": "application/json",
    }
