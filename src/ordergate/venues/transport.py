"""The one HTTP client every venue adapter uses: one pooled aiohttp session per process.

Failures are split by what they mean for a cancel: `NotDelivered` (the request never reached the venue, so
nothing happened there) versus `OutcomeUnknown` (the request may have been processed: read timeout, connection
dropped after sending). The cancel service treats the second by looking the order up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.observability import observe_upstream

DEFAULT_MAX_RESPONSE_BYTES = 1 << 20

if TYPE_CHECKING:
    from ordergate.venues.health import VenueHealth


class TransportError(Exception):
    pass


class NotDelivered(TransportError):
    """Connection refused, DNS failure, TLS failure, connect timeout: the venue never saw the request."""


class OutcomeUnknown(TransportError):
    """The request was (or may have been) sent, but no complete answer came back."""


class ResponseTooLarge(OutcomeUnknown):
    """The venue's answer (after decompression) exceeded the cap: it was sent, but what it says is unknown."""


class VenueRedirected(GatewayError):
    """The venue answered with a redirect, which is never followed.

    Following one would send the signed request, credentials headers included, to wherever `Location` points
    (another host), and send the cancel a second time. Not following it is also a definite answer: a 3xx says
    the request must be made elsewhere to be fulfilled (RFC 9110 §15.4), so the venue did not act on it — the
    order is as it was, and the cancel service answers 502 without looking the order up.
    """

    def __init__(self, status: int) -> None:
        super().__init__(
            ErrorType.institutionUnavailable,
            f"The institution answered with a redirect (HTTP {status}), which ordergate does not follow; "
            "the request was not acted on.",
            upstream_status=status,
        )


@dataclass(slots=True)  # not frozen: frozen sets each field through object.__setattr__ (per request)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes
    elapsed_ms: float


def _timeouts(read_s: float) -> aiohttp.ClientTimeout:
    # Opening a connection gets 3-5 s whatever the read timeout: a slow connect is "not delivered" (nothing
    # happened at the venue), and giving up early on it only turns a cancel that could succeed into a 502.
    return aiohttp.ClientTimeout(total=None, connect=min(max(read_s, 3.0), 5.0), sock_read=read_s)


@dataclass(slots=True)
class UpstreamTrace:
    """What one gateway request cost upstream; the audit row records it."""

    requests: int = 0
    last_status: int | None = None
    venue: str = "unknown"  # the integration type, for metrics


current_trace: ContextVar[UpstreamTrace | None] = ContextVar("ordergate_upstream_trace", default=None)


class Transport:
    def __init__(
        self,
        *,
        timeout_s: float,
        limit: int = 512,
        user_agent: str = "ordergate/0.1",
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._timeout = _timeouts(timeout_s)
        self._max_response = max_response_bytes
        self._limit = limit
        self._user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self.requests_sent = 0
        # Told of every connect failure, lost answer and answer per integration type (GET /api/v1/status).
        self.health: VenueHealth | None = None

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._limit, limit_per_host=self._limit, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                headers={"User-Agent": self._user_agent},
                auto_decompress=True,
                skip_auto_headers=("Content-Type",),
            )
            # aiohttp silently re-sends an idempotent-method request (DELETE, GET) once when a pooled connection
            # turns out closed. A cancel must be sent exactly as often as the cancel service decides: a hidden
            # resend of a DELETE that already took effect turns a cancelled order into "unknown order".
            self._session._retry_connection = False

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_s: float | None = None,
        verify_tls: bool = True,
    ) -> UpstreamResponse:
        if self._session is None:
            await self.start()
        assert self._session is not None
        timeout = _timeouts(timeout_s) if timeout_s is not None else self._timeout
        started = time.perf_counter()
        outcome = "error"
        self.requests_sent += 1
        trace = current_trace.get()
        if trace is not None:
            trace.requests += 1
        try:
            # Only an operator's explicit choice turns verification off (a local gateway's self-signed certificate);
            # ssl=True is aiohttp's default verification.
            async with self._session.request(
                method, url, headers=headers, data=body, timeout=timeout, allow_redirects=False, ssl=verify_tls
            ) as resp:
                if trace is not None:
                    trace.last_status = resp.status
                outcome = str(resp.status)
                if self.health is not None and trace is not None and self.health.needs_answer(trace.venue):
                    await self.health.answered(trace.venue)
                if 300 <= resp.status < 400:
                    raise VenueRedirected(resp.status)
                declared = resp.content_length
                if declared is not None and declared <= self._max_response and "Content-Encoding" not in resp.headers:
                    payload = await resp.read()  # exactly `declared` bytes, within the cap: one read
                else:
                    payload = await self._read_capped(resp)
                # aiohttp's read-only, case-insensitive header view: it outlives the response, no copy needed.
                return UpstreamResponse(resp.status, resp.headers, payload, (time.perf_counter() - started) * 1000)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.InvalidURL) as exc:
            outcome = "not_delivered"
            if self.health is not None and trace is not None:
                await self.health.connect_failed(trace.venue)
            raise NotDelivered(type(exc).__name__) from None
        except (
            TimeoutError,
            aiohttp.SocketTimeoutError,
            aiohttp.ServerDisconnectedError,
            aiohttp.ClientPayloadError,
            aiohttp.ClientOSError,
            aiohttp.ClientError,
        ) as exc:
            if self.health is not None and trace is not None:
                await self.health.timed_out(trace.venue)
            raise OutcomeUnknown(type(exc).__name__) from None
        except ResponseTooLarge:
            outcome = "too_large"
            raise
        finally:
            observe_upstream(trace.venue if trace is not None else "unknown", outcome, time.perf_counter() - started)

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        # `resp.content` yields the decompressed stream, so a small gzip bomb is cut at the cap as well.
        declared = resp.content_length
        if declared is not None and declared > self._max_response:
            resp.close()
            raise ResponseTooLarge(f"answer of {declared} bytes")
        payload = bytearray()
        async for chunk in resp.content.iter_chunked(64 * 1024):
            payload += chunk
            if len(payload) > self._max_response:
                resp.close()  # the rest is never read, so the connection cannot be reused
                raise ResponseTooLarge(f"answer over {self._max_response} bytes")
        return bytes(payload)
