"""Metrics (Prometheus) and structured JSON logs carrying the request id; never a secret.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty directory shared by them and every
scrape of `/metrics` aggregates all workers (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import json
import logging
import os
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


_REQUEST_CHILDREN: dict[tuple[str, int, str, str], Any] = {}
_IN_FLIGHT_CHILDREN: dict[str, Any] = {}


def count_request(endpoint: str, http_status: int, error_type: str, venue: str) -> None:
    """REQUESTS.labels(...).inc() with the labelled child looked up once per label set (every label is bounded:
    endpoints, HTTP statuses, ErrorType values, known venues)."""
    key = (endpoint, http_status, error_type, venue)
    child = _REQUEST_CHILDREN.get(key)
    if child is None:
        child = _REQUEST_CHILDREN[key] = REQUESTS.labels(endpoint, str(http_status), error_type, venue)
    child.inc()


_UPSTREAM_CHILDREN: dict[tuple[str, str], Any] = {}


def observe_upstream(venue: str, outcome: str, seconds: float) -> None:
    """UPSTREAM_SECONDS.labels(venue, outcome).observe(seconds), the child looked up once per label pair."""
    key = (venue, outcome)
    child = _UPSTREAM_CHILDREN.get(key)
    if child is None:
        child = _UPSTREAM_CHILDREN[key] = UPSTREAM_SECONDS.labels(venue, outcome)
    child.observe(seconds)


def in_flight(endpoint: str) -> Any:
    child = _IN_FLIGHT_CHILDREN.get(endpoint)
    if child is None:
        child = _IN_FLIGHT_CHILDREN[endpoint] = IN_FLIGHT.labels(endpoint)
    return child


def render_metrics() -> tuple[bytes, str]:
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
