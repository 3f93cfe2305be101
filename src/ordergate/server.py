"""uvicorn's options for `ordergate serve` (and so `make run`), with bounded request heads.

uvicorn's default HTTP parser (httptools) buffers a header of any size until its line ends: one 64 MB header on
`/healthz` grew the server by 58 MB. `BoundedHttpTools` answers 431 and closes the connection once a request head
outgrows `h11_max_incomplete_event_size` (the same bound uvicorn's h11 parser applies) or has more than
`MAX_HEADER_COUNT` header fields.
"""

from __future__ import annotations

from typing import Any

MAX_HEADER_COUNT = 100
_431 = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 33\r\nconnection: close\r\n\r\nRequest header fields too large.\n"
)

try:
    import httptools
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # uvicorn without httptools parses with h11, which enforces the byte bound itself
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


if HttpToolsProtocol is not None:
    _Base = HttpToolsProtocol

    class _HeadTooLarge(httptools.HttpParserError):
        pass

    class BoundedHttpTools(HttpToolsProtocol):  # type: ignore[misc,valid-type]
        """The base class is called directly, not through super(), which builds an object per call: these run
        for every request, on_header for every header field. Fields are counted from uvicorn's own list as they
        arrive, so a flood of tiny fields never holds more than `MAX_HEADER_COUNT` of them."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            _Base.__init__(self, *args, **kwargs)
            self._max_head = self.config.h11_max_incomplete_event_size or 64 * 1024
            self._in_head = True  # a connection starts with a request head
            self._head_bytes = 0
            self._heads = 0  # request heads completed on this connection
            self._too_many = False

        def data_received(self, data: bytes) -> None:
            in_head_before = self._in_head
            heads_before = self._heads
            try:
                _Base.data_received(self, data)
            except _HeadTooLarge:  # pragma: no cover - uvicorn catches parser errors itself (see on_headers_complete)
                self._refuse()
                return
            if self.transport.is_closing():
                return
            # Only whole chunks spent inside one unfinished head are counted (httptools gives no offsets), so
            # pipelined requests never count against each other; the bound is therefore `max` plus at most one
            # read (256 KiB), against an unbounded buffer before.
            if self._in_head and in_head_before and self._heads == heads_before:
                self._head_bytes += len(data)
                if self._head_bytes > self._max_head:
                    self._refuse()

        def send_400_response(self, msg: str) -> None:
            if self._too_many:
                self._refuse()
                return
            _Base.send_400_response(self, msg)

        def on_header(self, name: bytes, value: bytes) -> None:
            if len(self.headers) >= MAX_HEADER_COUNT:  # uvicorn's list of this request's fields so far
                # uvicorn turns a parser error into its 400 path, which send_400_response makes a 431.
                self._too_many = True
                raise _HeadTooLarge("too many header fields")
            _Base.on_header(self, name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._heads += 1
            _Base.on_headers_complete(self)

        def on_message_complete(self) -> None:
            self._in_head = True
            self._head_bytes = 0
            _Base.on_message_complete(self)

        def _refuse(self) -> None:
            self.logger.warning("request head too large: refused with 431")
            self.transport.write(_431)
            self.transport.close()

else:  # pragma: no cover
    BoundedHttpTools = None  # type: ignore[assignment,misc]


def server_options(host: str, port: int, *, max_header_bytes: int, log_level: str, log_config: dict) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        # uvicorn would otherwise take the client address from X-Forwarded-For on connections from 127.0.0.1:
        # ordergate has no trusted-proxy setting (SourceGuard and the audit rows' source are the TCP peer).
        "proxy_headers": False,
        "timeout_graceful_shutdown": 15,
        "log_config": log_config,
        "http": BoundedHttpTools if BoundedHttpTools is not None else "h11",
        "h11_max_incomplete_event_size": max_header_bytes,
    }


def reuseport_socket(host: str, port: int) -> Any:
    """A socket bound with SO_REUSEPORT: each worker listens on its own, and the kernel spreads new connections
    over them evenly (by a hash of the connection), where one shared accept queue lets whichever worker wakes
    first take them, so a busy moment in one worker handed most of 64 connections to the other (p99 450-630 ms
    with two workers in bench/RESULTS.md before this)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve_workers(app: str, workers: int, options: dict[str, Any]) -> None:
    """uvicorn's multi-process supervisor (restarts, signals, graceful shutdown), with a SO_REUSEPORT socket
    per worker instead of one socket shared by all (Linux; elsewhere uvicorn's shared socket)."""
    import socket

    import uvicorn
    from uvicorn.supervisors import multiprocess

    if not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(app, factory=True, workers=workers, **options)
        return
    config = uvicorn.Config(app, factory=True, workers=workers, **options)
    # The supervisor builds its worker processes through this module-level name; ours bind their own socket.
    multiprocess.Process = _ReusePortProcess  # type: ignore[misc]
    # Bound (not listening) here first: a port already taken fails now, in the supervisor, with a clear error.
    probe = reuseport_socket(config.host, config.port)
    try:
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        probe.close()


try:
    from uvicorn.supervisors.multiprocess import Process as _UvicornProcess

    class _ReusePortProcess(_UvicornProcess):  # type: ignore[misc,valid-type]
        def target(self, sockets: list[Any] | None = None) -> None:  # pragma: no cover - runs in the worker
            super().target([reuseport_socket(self.config.host, self.config.port)])

except ImportError:  # pragma: no cover - an uvicorn without this supervisor: serve_workers falls back above
    pass
