"""What the sync and async clients share: the calls as requests, answers as results or exceptions, and when a
retry is safe.

Retries happen only where an answer (or its absence before sending) says a retry is safe, always with the call's
one Idempotency-Key:
- a connection that could not be opened: nothing was sent;
- 429 `rateLimited` with a Retry-After up to `max_retry_after`: nothing was done; the server says when to come back;
- 503 `serviceUnavailable`: ordergate's database or Redis was down, nothing was sent to the venue;
- 409 `idempotencyKeyInFlight`: our own earlier attempt is still running; the same key then gets its answer.
Never blindly: 504 `cancelOutcomeUnknown` (the gateway already looked the order up and retried once; another
immediate try mostly repeats what failed) and a lost answer (read timeout). Both raise with `idempotency_key`, and
calling again with it is safe: ordergate replays a definite answer kept for the key, and otherwise (transient
answers free the key) runs the cancel again, which on an open order is harmless and on one the first attempt
cancelled answers 409 `orderNotCancelable` with `orderStatus` `cancelled`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ordergate.client.errors import (
    BY_ERROR_TYPE,
    AnswerLost,
    GatewayUnreachable,
    IdempotencyKeyInFlight,
    OrdergateError,
    RateLimited,
    ServerFeatureUnavailable,
    ServiceUnavailable,
    UnexpectedAnswer,
)

CANCEL = "/api/v1/transactions/cancel"
CANCEL_BATCH = "/api/v1/transactions/cancel/batch"
DETAILS = "/api/v1/transactions/details"
AUTHENTICATE = "/api/v1/authenticate"
LIST_ORDERS = "/api/v1/transactions/list"
# Servers older than the kill switch answer 404: the client raises ServerFeatureUnavailable then.
CANCEL_ALL = "/api/v1/transactions/cancel/all"

# waitSeconds can hold a batch open for 30 s: reads get more than that.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # in all, the first included
    max_retry_after: float = 30.0  # a longer Retry-After (a venue's ban) is raised rather than slept through
    backoff: float = 0.2  # doubled per retry where the answer names no wait

    def delay(self, exc: OrdergateError, attempt: int) -> float | None:
        """Seconds to wait before retrying after `exc` on the `attempt`-th try (1-based); None: do not retry."""
        if attempt >= self.attempts:
            return None
        backoff = self.backoff * 2 ** (attempt - 1)
        if isinstance(exc, GatewayUnreachable | IdempotencyKeyInFlight):
            return backoff
        if isinstance(exc, ServiceUnavailable):
            return min(exc.retry_after or backoff, self.max_retry_after)
        if isinstance(exc, RateLimited) and exc.retry_after is not None and exc.retry_after <= self.max_retry_after:
            return exc.retry_after
        return None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Mesh's cancel request for one order."""

    auth_token: str
    type: str
    id: str
    is_cryptocurrency: bool = True
    side: str | None = None
    symbol_pair: str | None = None
    mfa_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "authToken": self.auth_token,
            "type": self.type,
            "id": self.id,
            "isCryptocurrency": self.is_cryptocurrency,
        }
        for name, value in (("side", self.side), ("symbolPair", self.symbol_pair), ("mfaCode", self.mfa_code)):
            if value is not None:
                body[name] = value
        return body


@dataclass(frozen=True, slots=True)
class CancelResult:
    order_id: str
    status: str  # `cancelled`, or `inProgress` when the venue only acknowledged
    request_id: str | None = None
    replayed: bool = False  # the server replayed the first answer for this Idempotency-Key

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True, slots=True)
class BatchItem:
    order: CancelOrder
    result: CancelResult | None  # set when the order's answer was `ok`
    error: OrdergateError | None  # else the exception a single cancel would have raised

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class BatchResult:
    items: list[BatchItem]
    complete: bool  # every order has a definite answer; otherwise calling again with `idempotency_key` is safe
    summary: dict[str, int]
    idempotency_key: str
    request_id: str | None = None

    def __iter__(self) -> Iterator[BatchItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class AuthResult:
    status: str  # succeeded | mfaRequired | challengeIssued | failed
    access_tokens: list[str]  # the sealed authTokens, one per account
    content: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Call:
    path: str
    body: dict[str, Any]
    idempotency_key: str | None
    params: dict[str, str] | None = None
    feature: str | None = None  # set for endpoints the server may not offer yet

    def headers(self) -> dict[str, str]:
        return {"Idempotency-Key": self.idempotency_key} if self.idempotency_key else {}


def new_key() -> str:
    return uuid.uuid4().hex


def client_headers(client_id: str, client_secret: str) -> dict[str, str]:
    from ordergate import __version__

    return {
        "X-Client-Id": client_id,
        "X-Client-Secret": client_secret,
        "User-Agent": f"ordergate-client/{__version__}",
    }


def transport_error(exc: httpx.HTTPError, call: Call) -> OrdergateError:
    if isinstance(exc, _NOT_SENT):
        return GatewayUnreachable(
            f"ordergate could not be reached: {type(exc).__name__}", idempotency_key=call.idempotency_key
        )
    return AnswerLost(
        f"The request was sent but its answer was lost ({type(exc).__name__}).", idempotency_key=call.idempotency_key
    )


def list_body(
    auth_token: str,
    type: str,
    count: int | None,
    statuses: list[str] | None,
    since: int | None,
    cursor: str | None,
    symbol_pair: str | None,
) -> dict[str, Any]:
    optional = {"count": count, "statuses": statuses, "from": since, "cursor": cursor, "symbolPair": symbol_pair}
    return {"authToken": auth_token, "type": type, **{k: v for k, v in optional.items() if v is not None}}


def envelope_error(
    body: dict[str, Any], http_status: int, retry_after: float | None, call: Call, rid: str | None
) -> OrdergateError:
    cls = BY_ERROR_TYPE.get(str(body.get("errorType") or ""), OrdergateError)
    if call.feature and body.get("errorType") == "routeNotFound":
        cls = ServerFeatureUnavailable
        body = {**body, "message": f"The server does not offer {call.feature} yet."}
    return cls(
        str(body.get("message") or body.get("errorType") or f"HTTP {http_status}"),
        status=str(body.get("status") or ""),
        display_message=body.get("displayMessage"),
        error_data=body.get("errorData"),
        retry_after=retry_after,
        request_id=rid,
        idempotency_key=call.idempotency_key,
        http_status=http_status,
    )


def read(resp: httpx.Response, call: Call) -> dict[str, Any]:
    """The envelope of an `ok` answer; raises the errorType's exception otherwise."""
    rid = resp.headers.get("x-request-id")
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "status" not in body:
        if call.feature and resp.status_code == 404:
            raise ServerFeatureUnavailable(
                f"The server does not offer {call.feature} yet.", idempotency_key=call.idempotency_key, http_status=404
            )
        raise UnexpectedAnswer(
            f"HTTP {resp.status_code} without Mesh's envelope", http_status=resp.status_code, request_id=rid
        )
    if resp.status_code == 200 and body.get("status") == "ok":
        return body
    retry = resp.headers.get("retry-after")
    retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
    raise envelope_error(body, resp.status_code, retry_after, call, rid)


def cancel_result(body: dict[str, Any], resp: httpx.Response | None = None) -> CancelResult:
    content = body.get("content") or {}
    return CancelResult(
        order_id=str(content.get("orderId", "")),
        status=str(content.get("status", "")),
        request_id=resp.headers.get("x-request-id") if resp is not None else None,
        replayed=resp is not None and resp.headers.get("idempotent-replayed") == "true",
    )


def batch_result(body: dict[str, Any], orders: Sequence[CancelOrder], call: Call, rid: str | None) -> BatchResult:
    content = body["content"]
    items = []
    for order, item in zip(orders, content["results"], strict=True):
        if item.get("status") == "ok":
            items.append(BatchItem(order, cancel_result(item), None))
        else:
            error = envelope_error(item, int(item.get("httpStatus", 0)), item.get("retryAfter"), call, rid)
            items.append(BatchItem(order, None, error))
    return BatchResult(items, bool(content["complete"]), dict(content["summary"]), call.idempotency_key or "", rid)


def auth_result(body: dict[str, Any]) -> AuthResult:
    content = body.get("content") or {}
    tokens = [str(t.get("accessToken")) for t in content.get("accountTokens") or [] if t.get("accessToken")]
    return AuthResult(str(content.get("status", "")), tokens, content)


def cancel_call(order: CancelOrder, key: str | None) -> Call:
    return Call(CANCEL, order.to_json(), key or new_key())


def batch_call(orders: Sequence[CancelOrder], wait_seconds: float | None, key: str | None) -> Call:
    body: dict[str, Any] = {"orders": [o.to_json() for o in orders]}
    if wait_seconds:
        body["waitSeconds"] = wait_seconds
    return Call(CANCEL_BATCH, body, key or new_key())


def cancel_all_call(auth_token: str, type: str, symbol_pair: str | None, side: str | None, key: str | None) -> Call:
    body: dict[str, Any] = {"authToken": auth_token, "type": type}
    if symbol_pair is not None:
        body["symbolPair"] = symbol_pair
    if side is not None:
        body["side"] = side
    return Call(CANCEL_ALL, body, key or new_key(), None, "cancel_all")


def auth_call(
    type: str,
    username: str | None,
    password: str | None,
    *,
    passphrase: str | None,
    mfa_code: str | None,
    user_id: str,
    key: str | None,
) -> Call:
    body: dict[str, Any] = {"type": type}
    for name, value in (("username", username), ("password", password), ("authToken", passphrase)):
        if value is not None:
            body[name] = value
    if mfa_code is not None:
        body["mfaCode"] = mfa_code
    return Call(AUTHENTICATE, body, key or new_key(), params={"userId": user_id})
