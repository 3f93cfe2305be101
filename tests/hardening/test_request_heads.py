"""Issue 11: request heads are bounded at the server `ordergate serve` (and so `make run`) starts: a huge header
or a flood of header fields is answered 431 and the connection closed, instead of being buffered whole."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import urllib.request
from pathlib import Path

import pytest

from ordergate.settings import SANDBOX_DIR
from tests.hardening.serving import serve


def _send_head(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sent = 0
        try:
            while sent < len(head):
                sent += sock.send(head[sent : sent + 65536])
        except OSError:  # the server closed the connection mid-head: what it answered is still readable
            pass
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        return answer


@pytest.fixture(scope="module")
def sandbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("heads")


@pytest.fixture(scope="module")
def sandbox_port(sandbox_dir: Path) -> int:
    with serve(sandbox_dir, "--sandbox") as port:
        yield port


def test_a_16_mb_header_is_refused_with_431(sandbox_port: int) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (16 << 20) + b"\r\n\r\n"
    answer = _send_head(sandbox_port, head)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_thousand_header_fields_are_refused_with_431(sandbox_port: int) -> None:
    fields = b"".join(b"X-H%d: v\r\n" % i for i in range(1000))
    answer = _send_head(sandbox_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_ordinary_and_pipelined_requests_still_pass(sandbox_port: int) -> None:
    one = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ok: " + b"b" * 30000 + b"\r\n\r\n"
    last = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    answer = _send_head(sandbox_port, one * 40 + last)
    assert answer.count(b"HTTP/1.1 200 OK") == 41, answer[:300]


def test_x_forwarded_for_is_not_believed_even_from_localhost(sandbox_port: int, sandbox_dir: Path) -> None:
    """ordergate has no trusted-proxy setting: the source of a request (SourceGuard, audit rows) is its TCP peer.
    uvicorn's proxy-headers middleware, on by default, would believe X-Forwarded-For from 127.0.0.1."""
    spoofed = "203.0.113.77"
    request = urllib.request.Request(
        f"http://127.0.0.1:{sandbox_port}/api/v1/transactions/cancel",
        data=json.dumps({"authToken": "t", "type": "kraken", "id": "OABCDE-FGHIJ-KLMNOP"}).encode(),
        headers={
            "Content-Type": "application/json",
            "X-Client-Id": "no-such-client",
            "X-Client-Secret": "wrong",
            "X-Forwarded-For": spoofed,
        },
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - a local test server
    assert refused.value.code == 401
    db = sandbox_dir / SANDBOX_DIR / "sandbox.db"
    deadline = time.monotonic() + 10
    sources: list[str] = []
    while time.monotonic() < deadline and not sources:
        with sqlite3.connect(db) as conn:
            sources = [r[0] for r in conn.execute("SELECT source FROM audit_events WHERE source IS NOT NULL")]
        time.sleep(0.05)
    assert sources and spoofed not in sources and "127.0.0.1" in sources


def test_the_field_count_bound_is_exact(sandbox_port: int) -> None:
    def head(fields: int) -> bytes:  # Host and Connection plus `fields - 2` more
        extra = b"".join(b"X-H%d: v\r\n" % i for i in range(fields - 2))
        return b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extra + b"\r\n"

    assert _send_head(sandbox_port, head(100)).startswith(b"HTTP/1.1 200 ")
    assert _send_head(sandbox_port, head(101)).startswith(b"HTTP/1.1 431 ")
