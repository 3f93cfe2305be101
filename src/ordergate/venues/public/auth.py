"""Public's authentication: an API secret is exchanged for a short-lived bearer access token.

The secret is what ordergate seals into the authToken; access tokens only live in this process's memory, keyed by
a keyed digest of the secret (never the secret itself, never logged). A token in use is renewed in the background
before it runs out, so a cancel normally costs its one request; only the first use of a secret in a process (or
one idle past a token's life) pays for an exchange first. Concurrent requests share one exchange.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.venues.public.constants import (
    MAX_CACHED_TOKENS,
    MIN_LIFE_S,
    RATE_LIMIT_WAIT_S,
    RENEW_AHEAD_S,
    SECRET,
    TOKEN_PATH,
    TOKEN_VALIDITY_MIN,
)
from ordergate.venues.transport import NotDelivered, Transport, TransportError, UpstreamResponse

log = logging.getLogger("ordergate.venues.public")


class TokenUnavailable(NotDelivered):
    """No access token could be had (Public's token service failed or was unreachable): the request it was for
    was never sent, so nothing happened at Public."""


def check_secret(secret: str) -> None:
    if not SECRET.fullmatch(secret or ""):
        raise GatewayError(ErrorType.institutionAuthFailed, "This is not a Public API secret")


def token_request(secret: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of the documented exchange (spec.yaml CreateAccessTokenRequest)."""
    body = json.dumps({"secret": secret, "validityInMinutes": TOKEN_VALIDITY_MIN}, separators=(",", ":"))
    return {"Content-Type": "application/json", "Accept": "application/json"}, body.encode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


@dataclass(slots=True)
class _Cached:
    token: str
    expires_at: float  # on the cache's clock, counted from before the exchange was sent


class AccessTokens:
    """Access tokens by secret digest, renewed before they expire; one exchange at a time per secret."""

    def __init__(
        self,
        exchange: Callable[[str], Awaitable[str]],
        *,
        clock: Callable[[], float] = time.monotonic,
        validity_s: float = TOKEN_VALIDITY_MIN * 60,
    ) -> None:
        self._exchange, self._clock, self._validity_s = exchange, clock, validity_s
        self._key = secrets.token_bytes(32)  # per process: the digests mean nothing outside it
        self._tokens: dict[str, _Cached] = {}
        self._pending: dict[str, asyncio.Task[_Cached]] = {}

    def _digest(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    async def get(self, secret: str) -> tuple[str, bool]:
        """(an access token, whether it was fetched for this call). A token fetched now that Public refuses says
        the secret itself is refused; a cached one may have been revoked and deserves one renewal."""
        digest = self._digest(secret)
        cached, now = self._tokens.get(digest), self._clock()
        if cached is not None and cached.expires_at - now > MIN_LIFE_S:
            if cached.expires_at - now < RENEW_AHEAD_S and digest not in self._pending:
                task = self._start(digest, secret)
                task.add_done_callback(_quietly)
            return cached.token, False
        task = self._pending.get(digest) or self._start(digest, secret)
        return (await asyncio.shield(task)).token, True

    async def renew(self, secret: str) -> str:
        """A fresh access token for `secret` now (one exchange, shared with any already under way), cached."""
        digest = self._digest(secret)
        task = self._pending.get(digest) or self._start(digest, secret)
        return (await asyncio.shield(task)).token

    def forget(self, secret: str, token: str) -> None:
        """Drop a token Public refused, unless another call already replaced it."""
        digest = self._digest(secret)
        cached = self._tokens.get(digest)
        if cached is not None and cached.token == token:
            del self._tokens[digest]

    def __len__(self) -> int:
        return len(self._tokens)

    def _start(self, digest: str, secret: str) -> asyncio.Task[_Cached]:
        task = asyncio.get_running_loop().create_task(self._fetch(digest, secret))
        self._pending[digest] = task
        return task

    async def _fetch(self, digest: str, secret: str) -> _Cached:
        try:
            started = self._clock()
            cached = _Cached(await self._exchange(secret), started + self._validity_s)
            self._tokens.pop(digest, None)  # re-inserted last: the dict's order is the eviction order
            self._tokens[digest] = cached
            self._trim()
            return cached
        finally:
            self._pending.pop(digest, None)

    def _trim(self) -> None:
        if len(self._tokens) <= MAX_CACHED_TOKENS:
            return
        now = self._clock()
        for digest in [d for d, c in self._tokens.items() if c.expires_at <= now]:
            del self._tokens[digest]
        while len(self._tokens) > MAX_CACHED_TOKENS:
            del self._tokens[next(iter(self._tokens))]


def _quietly(task: asyncio.Task[_Cached]) -> None:
    """A background renewal that fails leaves the current token in use; the next call past its life retries."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("background renewal of a Public access token failed: %s", type(task.exception()).__name__)


async def exchange_secret(transport: Transport, base_url: str, secret: str) -> str:
    """`POST /userapiauthservice/personal/access-tokens`; GatewayError for a definite refusal, TokenUnavailable when
    Public's token service could not answer."""
    check_secret(secret)
    headers, body = token_request(secret)
    try:
        resp = await transport.send("POST", base_url + TOKEN_PATH, headers=headers, body=body)
    except TransportError as exc:
        raise TokenUnavailable(f"token service: {type(exc).__name__}") from None
    payload = _json(resp)
    token = payload.get("accessToken") if payload else None
    if resp.status == 200 and isinstance(token, str) and token:
        return token
    if resp.status in (400, 401) and payload is not None:
        # 400: the body failed validation (a secret shorter than Public issues); 401: invalid_secret.
        raise GatewayError(
            ErrorType.institutionAuthFailed,
            f"Public refused the API secret (HTTP {resp.status})",
            upstream_status=resp.status,
        )
    if resp.status == 429:
        raise GatewayError(
            ErrorType.rateLimited,
            "Public's token service answered HTTP 429",
            retry_after=retry_after(resp),
            upstream_status=resp.status,
        )
    raise TokenUnavailable(f"token service answered HTTP {resp.status}")


def retry_after(resp: UpstreamResponse) -> int:
    headers = {str(k).lower(): str(v).strip() for k, v in resp.headers.items()}
    value = headers.get("retry-after", "")
    return max(1, int(value)) if value.isdigit() else RATE_LIMIT_WAIT_S


def _json(resp: UpstreamResponse) -> dict | None:
    try:
        value = json.loads(resp.body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
