"""Metrics (Prometheus) and structured JSON logs carrying the request id; never a secret.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them and every
scrape of `/metrics` aggregates all workers (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from bisect import bisect_left
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

request_id_var: ContextVar[str | None] = ContextVar("ordergate_request_id", default=None)

REQUESTS = Counter(
    "ordergate_requests_total",
    "API requests by endpoint, HTTP status, errorType and venue",
    ["endpoint", "http_status", "error_type", "venue"],
)
UPSTREAM_SECONDS = Histogram(
    "ordergate_upstream_request_seconds",
    "Latency of requests to venues",
    ["venue", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RATE_LIMITED = Counter(
    "ordergate_rate_limit_rejections_total", "Requests answered 429/423 by ordergate's own limits", ["limit"]
)
IN_FLIGHT = Gauge(
    "ordergate_in_flight_requests", "Audited API requests being processed", ["endpoint"], multiprocess_mode="livesum"
)

AUDIT_SPOOL_ROWS = Gauge(
    "ordergate_audit_spool_rows",
    "Audit rows waiting in the on-disk spool for the database (all workers' spool files)",
    multiprocess_mode="max",
)
AUDIT_REJECTED_ROWS = Counter(
    "ordergate_audit_rejected_rows_total", "Spooled audit rows the database refused even alone, set aside on disk"
)
AUTH_FAILURES = Counter(
    "ordergate_client_auth_failures_total", "Requests refused for missing or wrong client credentials"
)


# The hot path counts into plain dicts (no lock, no label lookup, no bucket walk per request); the counts move into
# the Prometheus metrics when /metrics is rendered and once a second (`flush_metrics_forever`), so a scrape that
# another worker serves in multiprocess mode sees this worker's counts at most a second late.
_requests: dict[tuple[str, int, str, str], int] = {}
_UPSTREAM_BOUNDS = (*UPSTREAM_SECONDS._upper_bounds,)  # the buckets' upper bounds, +Inf last
_upstream: dict[tuple[str, str], list[float]] = {}  # (venue, outcome) -> [sum, count per bucket...]


def count_request(endpoint: str, http_status: int, error_type: str, venue: str) -> None:
    """One answered API request (every label is bounded: endpoints, HTTP statuses, ErrorType values, venues)."""
    key = (endpoint, http_status, error_type, venue)
    _requests[key] = _requests.get(key, 0) + 1


def observe_upstream(venue: str, outcome: str, seconds: float) -> None:
    """One request to a venue and how long it took."""
    tally = _upstream.get((venue, outcome))
    if tally is None:
        tally = _upstream[(venue, outcome)] = [0.0] * (len(_UPSTREAM_BOUNDS) + 1)
    tally[0] += seconds
    tally[bisect_left(_UPSTREAM_BOUNDS, seconds) + 1] += 1  # the first bucket whose bound is >= seconds


class InFlight:
    """Requests of one endpoint being processed: an int on the hot path, set into the gauge at each flush."""

    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = 0

    def inc(self) -> None:
        self.n += 1

    def dec(self) -> None:
        self.n -= 1


_in_flight: dict[str, InFlight] = {}


def in_flight(endpoint: str) -> InFlight:
    gauge = _in_flight.get(endpoint)
    if gauge is None:
        gauge = _in_flight[endpoint] = InFlight()
    return gauge


def flush_metrics() -> None:
    """Move the hot path's counts into the Prometheus metrics."""
    global _requests, _upstream
    requests, _requests = _requests, {}
    for (endpoint, status, error_type, venue), n in requests.items():
        REQUESTS.labels(endpoint, str(status), error_type, venue).inc(n)
    upstream, _upstream = _upstream, {}
    for (venue, outcome), tally in upstream.items():
        child = UPSTREAM_SECONDS.labels(venue, outcome)
        # prometheus_client has no public call to add n observations at once; its own observe() does exactly this.
        child._sum.inc(tally[0])
        for bucket, observed in zip(child._buckets, tally[1:], strict=True):
            if observed:
                bucket.inc(observed)
    for endpoint, gauge in _in_flight.items():
        IN_FLIGHT.labels(endpoint).set(gauge.n)


async def flush_metrics_forever(interval_s: float = 1.0) -> None:
    while True:
        await asyncio.sleep(interval_s)
        flush_metrics()


def render_metrics() -> tuple[bytes, str]:
    flush_metrics()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (from the record or the context)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get() or _trace_request_id()
        if request_id:
            entry["requestId"] = request_id
        if record.exc_info:
            # The exception type and where it happened; exception messages could quote request data.
            entry["exception"] = self.formatException(record.exc_info).splitlines()[-1].split(":", 1)[0]
        return json.dumps(entry, ensure_ascii=False)


def _trace_request_id() -> str | None:
    # The raw-ASGI cancel sets only the upstream trace's context variable; its trace carries the request id.
    from ordergate.venues.transport import current_trace

    return getattr(current_trace.get(), "request_id", None)


def log_config(level: str) -> dict[str, Any]:
    """A logging.dictConfig for the server process: everything, uvicorn's loggers included, as JSON lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
