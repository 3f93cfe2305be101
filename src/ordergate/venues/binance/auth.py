"""Binance request signing and the clock it depends on.

Binance signs `totalParams`: the query string concatenated with the request body, exactly as sent, with
HMAC-SHA256 keyed by the secret as plain text, in hex. ordergate sends every parameter in the query string and
no body, so the signed bytes are the query string; `signature` is appended last and is not itself signed.

Binance rejects a timestamp that is 1000 ms or more ahead of its clock, or more than recvWindow behind it
(-1021). `ServerClock` carries an offset learned from `GET /api/v3/time` after such a rejection, so one drifting
host clock costs one re-sync instead of failing every request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import urlencode


def sign(total_params: str | bytes, secret: str) -> str:
    data = total_params.encode() if isinstance(total_params, str) else total_params
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def signed_query(params: list[tuple[str, str]], timestamp: int, recv_window: int, secret: str) -> str:
    """`timestamp=…&<params>&recvWindow=…&signature=…`.

    urlencode percent-encodes UTF-8 (non-ASCII symbols), and that encoded text is what is signed and sent.
    """
    query = urlencode([("timestamp", str(timestamp)), *params, ("recvWindow", str(recv_window))])
    return f"{query}&signature={sign(query, secret)}"


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000


class ServerClock:
    """Our clock plus the offset to Binance's, in milliseconds. The offset starts at 0 (trust NTP)."""

    def __init__(self, clock: Callable[[], int] = _milliseconds) -> None:
        self._clock = clock
        self.offset_ms = 0

    def local_ms(self) -> int:
        return self._clock()

    def now_ms(self) -> int:
        return self._clock() + self.offset_ms

    def learn(self, server_ms: int, sent_ms: int, received_ms: int) -> None:
        # The server read its clock somewhere between send and receive; the midpoint halves the error.
        self.offset_ms = server_ms - (sent_ms + received_ms) // 2
