"""Serve an ASGI app on a real socket, so tests exercise real HTTP clients, timeouts and dropped sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_asgi(app: Any, *, startup_timeout_s: float = 10.0, **config: Any) -> Iterator[str]:
    """Run `app` with uvicorn in a background thread on a free 127.0.0.1 port; yield its base URL.

    Usable from sync and async tests alike: the server has its own thread and event loop. Extra keyword
    arguments go to `uvicorn.Config` (e.g. `lifespan="on"`).
    """
    # Binding here, before uvicorn starts, means the port cannot be taken between choosing and listening.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options: dict[str, Any] = {
        "log_level": "warning",
        "lifespan": "off",
        "timeout_graceful_shutdown": 2,
        **config,
    }
    server = uvicorn.Server(uvicorn.Config(app, **options))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # surfaced to the test thread below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"serve_asgi:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if failure or not thread.is_alive():
            sock.close()
            raise RuntimeError(f"ASGI server failed to start: {failure[0] if failure else 'exited'}")
        if time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            sock.close()
            raise RuntimeError("ASGI server did not start in time")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(startup_timeout_s)
        sock.close()
