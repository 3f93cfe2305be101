"""`Idempotency-Key` on cancel and authenticate (Stripe's semantics, scoped to the API client).

Same client + key + body → the first answer is replayed (no second upstream call); same key with another body →
422 `idempotencyKeyReused`; a duplicate while the first is still running → 409 `idempotencyKeyInFlight`. Only
definite answers are kept; transient ones (rate limited, venue down, outcome unknown) free the key so that a
retry runs again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.store.idempotency import ClaimState, IdempotencyStore, StoredAnswer

log = logging.getLogger("ordergate.idempotency")
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_DEFINITE = frozenset({200, 400, 403, 404, 409, 451})
_KEPT_HEADERS = ("retry-after",)


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise GatewayError(
            ErrorType.invalidField,
            "Idempotency-Key must be 1-255 printable ASCII characters.",
            error_data={"fields": {HEADER: "1-255 printable ASCII characters"}},
        )
    return key


def _fingerprint(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate never gets here (parsing refuses it), but a fingerprint must not raise.
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


async def idempotent(
    request: Request,
    store: IdempotencyStore,
    client_id: str,
    endpoint: str,
    data: dict[str, Any],
    request_id: str,
    produce: Callable[[], Awaitable[Response]],
) -> Response:
    key = _key(request)
    if key is None:
        return await produce()
    claim = await store.claim(client_id, key, endpoint, _fingerprint(data))
    if claim.state is ClaimState.mismatch:
        raise GatewayError(ErrorType.idempotencyKeyReused, "This Idempotency-Key was used for a different request.")
    if claim.state is ClaimState.in_flight:
        raise GatewayError(ErrorType.idempotencyKeyInFlight, "A request with this Idempotency-Key is in progress.")
    if claim.state is ClaimState.replay:
        assert claim.stored is not None
        replay = envelope.EnvelopeResponse(
            claim.stored.body,
            status_code=claim.stored.http_status,
            headers={**claim.stored.headers, envelope.REQUEST_ID_HEADER: request_id, REPLAYED_HEADER: "true"},
        )
        replay.error_type = claim.stored.error_type
        return replay
    try:
        try:
            response = await produce()
        except GatewayError as exc:
            response = envelope.error(exc, request_id=request_id)
    except BaseException:
        await store.release(client_id, key)
        raise
    if response.status_code in _DEFINITE:
        kept = {name: response.headers[name] for name in _KEPT_HEADERS if name in response.headers}
        body = bytes(response.body)
        answer = StoredAnswer(response.status_code, kept, body, getattr(response, "error_type", ""))
        try:
            await store.store(client_id, key, answer)
        except Exception:  # noqa: BLE001 - the venue acted: its answer must reach the client regardless
            log.warning("could not store an idempotent answer; the key frees itself once stale")
    else:
        with contextlib.suppress(Exception):
            await store.release(client_id, key)
    return response
