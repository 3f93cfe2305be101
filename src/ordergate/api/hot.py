"""`POST /api/v1/transactions/cancel` and `/details` on raw ASGI: the same rules as every other route, less work.

The body is read from `receive`, the answer leaves as one `http.response.start` with a pre-built header list
and one body message; no Starlette Request/Response, no per-request closures, one context variable (the
upstream trace, which the transport counts into and the log formatter reads the request id from). The request
is checked by `parsing.fast_order_request` and the answer rendered from byte templates; anything unusual (an
Idempotency-Key, a client not in the cache, a body the quick check does not accept) takes the general path
(`auth.require_client`, `idempotency.idempotent`, pydantic's `validate`), so every answer stays what it was.
bench/README.md has the measurements.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.requests import Request

from ordergate.api import envelope
from ordergate.api.attempt import KNOWN_TYPES, SAFE_REQUEST_ID, new_request_id
from ordergate.api.auth import admit, admit_now, require_client, source_of_scope
from ordergate.api.idempotency import idempotent
from ordergate.api.models import TransactionsB2BBrokerOrderRequest
from ordergate.api.parsing import (
    UnencodableBody,
    check_declared,
    fast_order_request,
    incomplete,
    parse_json_object,
    printable_body,
    too_large,
    validate,
)
from ordergate.domain.cancel import CancelRequest
from ordergate.domain.details import order_details, render_order
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import OrderRef
from ordergate.gateway import Gateway
from ordergate.observability import RATE_LIMITED, count_request, in_flight
from ordergate.store import audit as audit_store
from ordergate.store.audit import AuditRecord
from ordergate.store.clients import Scope
from ordergate.venues.transport import UpstreamTrace, current_trace

log = logging.getLogger("ordergate.api")

# The audit row is built as a tuple in AuditRecord's field order.
if (
    audit_store.FIELDS[:14]
    != (
        "request_id",
        "endpoint",
        "client_id",
        "integration_type",
        "order_id",
        "status",
        "error_type",
        "http_status",
        "upstream_status",
        "upstream_requests",
        "latency_ms",
        "created_at",
        "source",
        "repeat_count",
    )
    or len(audit_store.FIELDS) != 14
):
    raise RuntimeError("api/hot.py builds audit rows in an order AuditRecord no longer has")

# The headers the hot path reads (ASGI servers lowercase names), and their indexes in what it found.
_WANTED = (b"x-client-id", b"x-client-secret", b"content-type", b"content-length", b"x-request-id", b"idempotency-key")
_CLIENT_ID, _SECRET, _CTYPE, _CLEN, _RID, _IDEMPOTENCY = range(len(_WANTED))
_STATUS_OF = {t.value: t.info.status.value for t in ErrorType}
_DB_DOWN = (
    "ordergate's database is unreachable; nothing was sent to the institution. Retry shortly.",
    1,
)
_LIMITS = frozenset({"client", "venue", "venueBudget", "source"})


class RequestTrace(UpstreamTrace):
    """One request's upstream trace, carrying its request id (for the JSON log formatter) and what its audit row
    learns as the request goes (the raw-path counterpart of api.attempt.Attempt)."""

    __slots__ = ("client_id", "integration_type", "order_id", "request_id")

    def __init__(self, request_id: str) -> None:
        self.requests = 0
        self.last_status = None
        self.venue = "unknown"
        self.request_id = request_id
        self.client_id: str | None = None
        self.integration_type: str | None = None
        self.order_id: str | None = None


class HotEndpoint:
    """One raw-ASGI endpoint; the app's `gateway` is read per request (the lifespan sets it)."""

    def __init__(self, app: Any, endpoint: str, scope: Scope) -> None:
        self.app = app
        self.endpoint = endpoint
        self.scope = scope
        self.in_flight = in_flight(endpoint)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = time.perf_counter()
        gateway: Gateway = self.app.gateway
        raw_headers = scope["headers"]
        if type(raw_headers) is not list:
            raw_headers = list(raw_headers)
        # dict() and map() in C; reversed, so that the first of repeated headers wins, as in a walk from the front.
        found = list(map(dict(reversed(raw_headers)).get, _WANTED))
        given = found[_RID]
        rid = given.decode("latin-1") if given is not None else None
        if rid is None or not SAFE_REQUEST_ID.match(rid):
            rid = new_request_id()
        trace = RequestTrace(rid)
        current_trace.set(trace)  # this request's task has its own context: nothing to reset
        gauge = self.in_flight
        gauge.n += 1
        aggregated = False
        headers: list[tuple[bytes, bytes]] | None = None
        retry: str | None = None
        try:
            status, body, headers, error_type = await self._work(gateway, scope, receive, found, rid, trace)
        except GatewayError as exc:
            status, body, retry = envelope.render_error(exc)
            error_type = exc.error_type.value
            if exc.error_data and exc.error_data.get("limit") in _LIMITS:
                RATE_LIMITED.labels(exc.error_data["limit"]).inc()
            aggregated = trace.client_id is None and (
                exc.error_type is ErrorType.invalidClientCredentials
                or (exc.error_data is not None and exc.error_data.get("limit") == "source")
            )
            if exc.upstream_status is not None:
                trace.last_status = exc.upstream_status
        except (DBAPIError, SQLAlchemyTimeoutError, OSError):
            log.warning("database unreachable", extra={"request_id": rid})
            status, body, retry = envelope.render_error(
                GatewayError(ErrorType.serviceUnavailable, _DB_DOWN[0], retry_after=_DB_DOWN[1])
            )
            error_type = ErrorType.serviceUnavailable.value
        except Exception:
            log.exception("unhandled error", extra={"request_id": rid})
            status, body, retry = envelope.render_error(envelope.internal_error_exc(rid))
            error_type = ErrorType.internalError.value
        finally:
            gauge.n -= 1
        order_id = trace.order_id
        row = (
            rid,
            self.endpoint,
            trace.client_id,
            trace.integration_type,
            order_id[:256] if order_id else None,
            _STATUS_OF[error_type] if error_type else "ok",
            error_type,
            status,
            trace.last_status,
            trace.requests,
            round((time.perf_counter() - started) * 1_000_000) / 1000,  # ms to the µs; round(x, 3) costs 2.5x
            datetime.now(UTC),
            None,
            1,
        )
        try:
            if aggregated:
                await gateway.audit.record_aggregated(AuditRecord(*row), source_of_scope(scope))  # type: ignore[arg-type]
            else:
                try:
                    await gateway.audit.submit(row)
                except Exception as exc:  # not committed: spooled instead, or raised again (a 500 below)
                    await gateway.audit.recover(row, exc)
        except Exception:
            log.exception("audit row could not be written", extra={"request_id": rid})
            # The client still learns what happened at the venue; the 500 says the record is missing.
            status, body, retry = envelope.render_error(
                GatewayError(
                    ErrorType.internalError,
                    f"The request was processed but its audit row could not be written (request id {rid}).",
                    error_data={"unaudited": {"status": row[5], "errorType": error_type}},
                )
            )
            headers = None
        count_request(self.endpoint, status, error_type, trace.venue)
        if headers is None:
            headers = envelope.raw_headers(body, rid.encode(), retry)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _work(
        self,
        gateway: Gateway,
        scope: dict[str, Any],
        receive: Any,
        found: list[bytes | None],
        rid: str,
        trace: RequestTrace,
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]] | None, str]:
        """(status, body, headers or None for the usual ones, errorType); raises GatewayError for the rest."""
        # Client auth first, as Mesh does.
        client_id, secret = found[_CLIENT_ID], found[_SECRET]
        client = (
            gateway.clients.cached(client_id.decode("latin-1"), secret.decode("latin-1"))
            if client_id is not None and secret is not None
            else None
        )
        if client is None:
            client = await require_client(
                Request(scope),
                gateway.clients,
                self.scope,
                gateway.client_limit,
                guard=gateway.source_guard,
                attempt=trace,
            )
        else:
            trace.client_id = client.id
            limit = gateway.client_limit
            if limit is None or limit.coordination.local:
                admit_now(client, self.scope, limit)
            else:
                await admit(client, self.scope, limit)
        # Then the body.
        max_body = gateway.settings.max_body_bytes
        ctype, clen = found[_CTYPE], found[_CLEN]
        declared = clen.decode("latin-1") if clen is not None else None
        check_declared(ctype.decode("latin-1") if ctype is not None else "", declared, max_body)
        raw = await _read_body(receive, max_body)
        try:
            data = parse_json_object(raw)
        except UnencodableBody as exc:
            _learn(trace, exc.data)
            raise
        fast = fast_order_request(data, printable_body(raw))
        if fast is None:
            _learn(trace, data)
        else:  # what _learn would have read: a known type (so also the metrics' venue) and the id
            trace.integration_type = trace.venue = fast[1]._value_
            trace.order_id = fast[2].id
        if self.endpoint == "transactions/cancel":
            if found[_IDEMPOTENCY] is not None:
                return await self._idempotent_cancel(gateway, scope, client.id, data, rid)
            token, kind, order = fast if fast is not None else _validated(data)
            ack = await gateway.cancels.cancel(client.id, CancelRequest(token, kind, order))
            status = ack.status._value_  # what .value returns, without its two Python-level calls
            return 200, envelope.render_cancel_ok(ack.order_id, status), None, ""
        return 200, await _details(gateway, client.id, data, fast), None, ""

    async def _idempotent_cancel(
        self, gateway: Gateway, scope: dict[str, Any], client_id: str, data: dict[str, Any], rid: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]] | None, str]:
        async def produce() -> envelope.EnvelopeResponse:
            body = await _cancel(gateway, client_id, data)
            return envelope.EnvelopeResponse(body, status_code=200, headers={envelope.REQUEST_ID_HEADER: rid})

        response = await idempotent(
            Request(scope), gateway.idempotency, client_id, "transactions/cancel", data, rid, produce
        )
        return response.status_code, bytes(response.body), response.raw_headers, getattr(response, "error_type", "")


async def _read_body(receive: Any, limit: int) -> bytes:
    message = await receive()
    if message["type"] != "http.request":
        raise incomplete()
    body = message.get("body", b"")
    if message.get("more_body", False):
        parts = bytearray(body)
        while True:
            if len(parts) > limit:
                raise too_large(limit)
            message = await receive()
            if message["type"] != "http.request":
                raise incomplete()
            parts += message.get("body", b"")
            if not message.get("more_body", False):
                break
        body = bytes(parts)
    if len(body) > limit:
        raise too_large(limit)
    return body


def _learn(trace: RequestTrace, data: dict[str, Any]) -> None:
    kind = data.get("type")
    if type(kind) is str:
        trace.integration_type = kind[:64]
        if trace.integration_type in KNOWN_TYPES:
            trace.venue = trace.integration_type
    order_id = data.get("id")
    if type(order_id) is str:
        trace.order_id = order_id


def _checked(data: dict[str, Any]) -> tuple[str, IntegrationType, OrderRef]:
    fast = fast_order_request(data)
    return fast if fast is not None else _validated(data)


def _validated(data: dict[str, Any]) -> tuple[str, IntegrationType, OrderRef]:
    """The order request through pydantic, which words the 400 (`fast_order_request` only says yes or no)."""
    body = validate(TransactionsB2BBrokerOrderRequest, data)
    ref = OrderRef(
        id=body.id,
        is_cryptocurrency=body.isCryptocurrency,
        side=body.side,
        symbol_pair=body.symbolPair,
        mfa_code=body.mfaCode,
    )
    return body.authToken, body.type, ref


async def _cancel(gateway: Gateway, client_id: str, data: dict[str, Any]) -> bytes:
    token, kind, order = _checked(data)
    ack = await gateway.cancels.cancel(client_id, CancelRequest(token, kind, order))
    return envelope.render_cancel_ok(ack.order_id, ack.status.value)


async def _details(
    gateway: Gateway, client_id: str, data: dict[str, Any], fast: tuple[str, IntegrationType, OrderRef] | None
) -> bytes:
    token, kind, order = fast if fast is not None else _validated(data)
    snapshot = await order_details(gateway.registry, gateway.sealer, client_id, kind, token, order)
    return envelope.render_ok(render_order(snapshot, kind, order.is_cryptocurrency))
