"""authTokens: venue credentials sealed with AES-256-GCM, bound to the API client and integration type.

Format: `ogt1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The associated data is the owning client id and
the integration type, so a token replayed by another client, used with another `type`, or altered by one bit
fails to open. Keys come from `ORDERGATE_TOKEN_KEYS` (`kid:base64key`, first seals, all open) for rotation.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials

PREFIX = "ogt1"
STATE_PREFIX = "ogc1"
_STATE = b"\x00connect-state"  # challengeIds
# `/transactions/list` cursors: sealed like challengeIds but under their own purpose, so neither opens as the other.
LIST_CURSOR = b"\x00list-cursor"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# The longest authToken ordergate seals or opens; the request models allow exactly this much (api/models.py), and
# `seal` refuses credentials that would not fit, so every token `/authenticate` hands out can be sent back.
MAX_TOKEN_CHARS = 32_768


class TokenKeyError(ValueError):
    """The configured key list is unusable (message never includes key material)."""


class InvalidToken(Exception):
    pass


class TokenTooLarge(ValueError):
    """The credentials would seal into a token longer than MAX_TOKEN_CHARS."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def _unb64url(text: str) -> bytes:
    # urlsafe_b64decode drops characters outside the alphabet ("$", spaces) and accepts padding anywhere, so
    # one sealed token would have many spellings. Exactly what `_b64url` writes opens; nothing else does.
    if not _B64URL.match(text) or len(text) % 4 == 1:
        raise InvalidToken("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64url(raw) != text:  # non-zero padding bits: another spelling of the same bytes
        raise InvalidToken("not canonical base64url")
    return raw


def parse_token_keys(spec: str) -> list[tuple[str, bytes]]:
    keys: list[tuple[str, bytes]] = []
    for item in re.split(r"[\s,]+", spec.strip()):
        if not item:
            continue
        kid, sep, material = item.partition(":")
        if not sep or not _KID.match(kid):
            raise TokenKeyError("each token key must look like kid:base64key (kid: letters, digits, _ or -)")
        try:
            raw = base64.b64decode(material + "=" * (-len(material) % 4), altchars=b"-_", validate=False)
        except (binascii.Error, ValueError):
            raise TokenKeyError(f"token key {kid!r} is not valid base64") from None
        if len(raw) != 32:
            raise TokenKeyError(f"token key {kid!r} must be 32 bytes (AES-256), got {len(raw)}")
        if any(k == kid for k, _ in keys):
            raise TokenKeyError(f"token key id {kid!r} is listed twice")
        keys.append((kid, raw))
    if not keys:
        raise TokenKeyError("no token keys configured")
    return keys


def generate_key_spec(kid: str = "k1") -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode('ascii')}"


# Opened tokens are kept this long, at most this many: a client sends the same authToken for every order of an
# account, and opening it (base64, AES-GCM, JSON) was the largest single cost of a cancel after the network.
_OPENED_TTL_S = 60.0
_OPENED_MAX = 20_000


def _aad(client_id: str, integration: IntegrationType) -> bytes:
    return f"ordergate/authToken/v1\x00{client_id}\x00{integration.value}".encode()


class TokenSealer:
    def __init__(self, keys: Iterable[tuple[str, bytes]]) -> None:
        self._keys = {kid: AESGCM(raw) for kid, raw in keys}
        if not self._keys:
            raise TokenKeyError("no token keys configured")
        self._sealing_kid = next(iter(self._keys))
        # (client id, type, token) -> (monotonic expiry, credentials). In this process's memory only, as the token
        # keys that open every token already are; never written anywhere. Failed opens are not kept.
        self._opened: dict[tuple[str, IntegrationType, str], tuple[float, Credentials]] = {}

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def seal(self, client_id: str, creds: Credentials) -> str:
        payload: dict[str, Any] = {"k": creds.api_key, "s": creds.secret}
        if creds.passphrase is not None:
            payload["p"] = creds.passphrase
        if creds.extras:
            payload["x"] = creds.extras
        nonce = os.urandom(12)
        plaintext = json.dumps(payload, separators=(",", ":")).encode()
        sealed = self._keys[self._sealing_kid].encrypt(nonce, plaintext, _aad(client_id, creds.type))
        token = f"{PREFIX}.{self._sealing_kid}.{_b64url(nonce + sealed)}"
        if len(token) > MAX_TOKEN_CHARS:
            raise TokenTooLarge(f"the sealed credentials would exceed {MAX_TOKEN_CHARS} characters")
        return token

    def open(self, client_id: str, integration: IntegrationType, token: str) -> Credentials:
        """The credentials sealed in `token` for this client and type; raises InvalidToken."""
        key = (client_id, integration, token)
        hit = self._opened.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        creds = self._open(client_id, integration, token)
        if hit is None and len(self._opened) >= _OPENED_MAX:
            self._expire(now)
        self._opened[key] = (now + _OPENED_TTL_S, creds)
        return creds

    def _expire(self, now: float) -> None:
        """Drop expired entries; if none had expired, the oldest half (insertion order)."""
        expired = [key for key, (until, _) in self._opened.items() if until <= now]
        if not expired:
            expired = list(self._opened)[: _OPENED_MAX // 2]
        for key in expired:
            del self._opened[key]

    def _open(self, client_id: str, integration: IntegrationType, token: str) -> Credentials:
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken("token too long")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != PREFIX:
            raise InvalidToken("not an ordergate token")
        aead = self._keys.get(parts[1])
        if aead is None:
            raise InvalidToken("token sealed with a key that is not configured")
        try:
            blob = _unb64url(parts[2])
            plaintext = aead.decrypt(blob[:12], blob[12:], _aad(client_id, integration))
            payload = json.loads(plaintext)
            return Credentials(
                type=integration,
                api_key=payload["k"],
                secret=payload["s"],
                passphrase=payload.get("p"),
                extras=payload.get("x") or {},
            )
        except (InvalidTag, InvalidToken, ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidToken("token does not open") from None

    def seal_state(
        self, client_id: str, integration: IntegrationType, state: dict[str, Any], purpose: bytes = _STATE
    ) -> str:
        """A connect's state between two `/authenticate` steps, handed to the client as its challengeId (or, with
        `purpose=LIST_CURSOR`, a listing's paging state). Sealed under other associated data than authTokens, and
        each purpose under its own, so none can stand in for another."""
        nonce = os.urandom(12)
        plaintext = json.dumps(state, separators=(",", ":")).encode()
        sealed = self._keys[self._sealing_kid].encrypt(nonce, plaintext, _aad(client_id, integration) + purpose)
        return f"{STATE_PREFIX}.{self._sealing_kid}.{_b64url(nonce + sealed)}"

    def open_state(
        self, client_id: str, integration: IntegrationType, challenge_id: str, purpose: bytes = _STATE
    ) -> dict[str, Any]:
        if len(challenge_id) > MAX_TOKEN_CHARS:
            raise InvalidToken("too long")
        parts = challenge_id.split(".")
        if len(parts) != 3 or parts[0] != STATE_PREFIX or parts[1] not in self._keys:
            raise InvalidToken("not an ordergate challengeId")
        try:
            blob = _unb64url(parts[2])
            plaintext = self._keys[parts[1]].decrypt(blob[:12], blob[12:], _aad(client_id, integration) + purpose)
            state = json.loads(plaintext)
        except (InvalidTag, ValueError, TypeError, binascii.Error):
            raise InvalidToken("challengeId does not open") from None
        if not isinstance(state, dict):
            raise InvalidToken("challengeId does not open")
        return state
