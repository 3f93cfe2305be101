"""One audited API call: request id, latency, upstream trace, envelope rendering and the audit row."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.auth import source_of
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.observability import RATE_LIMITED, count_request, in_flight, request_id_var
from ordergate.store.audit import AuditLog, AuditRecord
from ordergate.venues.transport import UpstreamTrace, current_trace

log = logging.getLogger("ordergate.api")
KNOWN_TYPES = frozenset(t.value for t in IntegrationType)  # metric labels stay bounded
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


_REQUEST_ID_KEY = envelope.REQUEST_ID_HEADER.lower().encode("latin-1")


class _RandomIds:
    """128 random bits per request id, like uuid4().hex, read from the OS 256 ids at a time: a getrandom() system
    call per request was one of the few the hot path made beyond its sockets. Forgotten in a forked child, which
    must not hand out its parent's ids."""

    def __init__(self) -> None:
        self._pool = b""
        self._at = 0
        os.register_at_fork(after_in_child=self.forget)

    def forget(self) -> None:
        self._pool, self._at = b"", 0

    def next(self) -> str:
        at = self._at
        if at >= len(self._pool):
            self._pool, at = os.urandom(4096), 0
        self._at = at + 16
        return self._pool[at : at + 16].hex()


new_request_id = _RandomIds().next


def request_id_of(request: Request) -> str:
    # Read from the ASGI headers directly: most requests carry none, and Headers.get() raises and catches a
    # KeyError for each such miss.
    for key, value in request.scope["headers"]:
        if key == _REQUEST_ID_KEY:
            given = value.decode("latin-1")
            return given if SAFE_REQUEST_ID.match(given) else new_request_id()
    return new_request_id()


class Attempt:
    def __init__(self, request: Request, audit: AuditLog, endpoint: str) -> None:
        self.request_id = request_id_of(request)
        self.endpoint = endpoint
        self.client_id: str | None = None
        self._integration_type: str | None = None
        self.order_id: str | None = None
        self._audit = audit
        self._started = time.perf_counter()
        self._trace = UpstreamTrace()
        self._request = request
        self._aggregated = False  # failed client authentication: counted into one row per source and window

    @property
    def integration_type(self) -> str | None:
        return self._integration_type

    @integration_type.setter
    def integration_type(self, value: str | None) -> None:
        self._integration_type = value
        if value in KNOWN_TYPES:
            self._trace.venue = value

    async def run(self, work: Callable[[Attempt], Awaitable[Response]]) -> Response:
        token = current_trace.set(self._trace)
        rid_token = request_id_var.set(self.request_id)
        gauge = in_flight(self.endpoint)
        gauge.inc()
        try:
            response = await work(self)
            error_type = getattr(response, "error_type", "")
        except GatewayError as exc:
            response = envelope.error(exc, request_id=self.request_id)
            error_type = exc.error_type.value
            if exc.error_data and exc.error_data.get("limit") in ("client", "venue", "venueBudget", "source"):
                RATE_LIMITED.labels(exc.error_data["limit"]).inc()
            self._aggregated = self.client_id is None and (
                exc.error_type is ErrorType.invalidClientCredentials
                or (exc.error_data is not None and exc.error_data.get("limit") == "source")
            )
            if exc.upstream_status is not None:
                # The venue answer that decided the outcome, rather than a later lookup's.
                self._trace.last_status = exc.upstream_status
        except (DBAPIError, SQLAlchemyTimeoutError, OSError):
            log.warning("database unreachable", extra={"request_id": self.request_id})
            response = envelope.error(
                GatewayError(
                    ErrorType.serviceUnavailable,
                    "ordergate's database is unreachable; nothing was sent to the institution. Retry shortly.",
                    retry_after=1,
                ),
                request_id=self.request_id,
            )
            error_type = ErrorType.serviceUnavailable.value
        except Exception:
            log.exception("unhandled error", extra={"request_id": self.request_id})
            response = envelope.internal_error(self.request_id)
            error_type = ErrorType.internalError.value
        finally:
            current_trace.reset(token)
            gauge.dec()
        try:
            return await self._audited(response, error_type)
        finally:
            count_request(self.endpoint, response.status_code, error_type, self._trace.venue)
            request_id_var.reset(rid_token)

    async def _audited(self, response: Response, error_type: str) -> Response:
        status = ErrorType(error_type).info.status.value if error_type else "ok"
        record = AuditRecord(
            request_id=self.request_id,
            endpoint=self.endpoint,
            client_id=self.client_id,
            integration_type=self.integration_type,
            order_id=self.order_id[:256] if self.order_id else None,
            status=status,
            error_type=error_type,
            http_status=response.status_code,
            upstream_status=self._trace.last_status,
            upstream_requests=self._trace.requests,
            latency_ms=round((time.perf_counter() - self._started) * 1000, 3),
        )
        try:
            if self._aggregated:
                await self._audit.record_aggregated(record, source_of(self._request))
            else:
                await self._audit.record(record)
        except Exception:
            log.exception("audit row could not be written", extra={"request_id": self.request_id})
            # The client still learns what happened at the venue; the 500 says the record is missing.
            return envelope.error(
                GatewayError(
                    ErrorType.internalError,
                    f"The request was processed but its audit row could not be written (request id {self.request_id}).",
                    error_data={"unaudited": {"status": status, "errorType": error_type}},
                ),
                request_id=self.request_id,
            )
        return response
