"""bench/upstream.c answers exactly as bench/upstream.py: the same requests to both, every answer compared.

The benchmark measures with the C upstream when it builds (bench/run.py), so its checks must be the Python one's:
every signature verified, nonces in order, the same error for the same fault, and the same counters in /_stats.
Skipped only where no C compiler or OpenSSL headers exist (then bench/run.py uses the Python upstream too).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))
import run as bench_run  # noqa: E402 - bench/ is not a package

# The second key of each venue has a secret longer than its hash's block (HMAC hashes such a key first).
KRAKEN_KEYS = [
    (base64.b64encode(os.urandom(42)).decode(), base64.b64encode(os.urandom(size)).decode()) for size in (64, 200, 64)
]
BYBIT_KEYS = [(os.urandom(9).hex().upper(), os.urandom(size).hex()) for size in (18, 50)]


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = bench_run.build_upstream(tmp_path_factory.mktemp("upstream-c"))
    if out is None:
        pytest.skip("no C compiler or OpenSSL headers: bench/run.py uses bench/upstream.py")
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(cmd: list[str]) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(params=["kraken", "bybit"])
def pair(request: pytest.FixtureRequest, binary: Path, tmp_path: Path) -> Iterator[tuple[str, int, int]]:
    venue = request.param
    keys = KRAKEN_KEYS if venue == "kraken" else BYBIT_KEYS
    accounts = [{"apiKey": k, "secret": s} for k, s in keys]
    if venue == "kraken":
        accounts[-1]["replay"] = True
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(accounts))
    args = ["--accounts", str(path), "--venue", venue]
    py = _serve([sys.executable, str(BENCH / "upstream.py"), *args])
    c = _serve([str(binary), *args])
    yield venue, next(py), next(c)
    for gen in (py, c):
        next(gen, None)


def _exchange(port: int, raw: bytes) -> list[tuple[int, bytes]]:
    """Sends raw bytes (one or several pipelined requests) and reads every answer: [(status, body)]."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = next(int(v) for k, _, v in (ln.partition(b":") for ln in lines[1:]) if k.lower() == b"content-length")
        out.append((status, rest[:length]))
        data = rest[length:]
    return out


def _request(method: str, path: str, headers: dict[str, str], body: bytes, close: bool = False) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: upstream", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _kraken(key: str, secret: str, nonce: str, body: bytes, path: str = "/0/private/CancelOrder") -> bytes:
    digest = hashlib.sha256(nonce.encode() + body).digest()
    sign = base64.b64encode(hmac.new(base64.b64decode(secret), path.encode() + digest, hashlib.sha512).digest())
    headers = {"API-Key": key, "API-Sign": sign.decode(), "Content-Type": "application/x-www-form-urlencoded"}
    return _request("POST", path, headers, body)


def _bybit(key: str, secret: str, body: bytes, stamp: int | None = None, window: str = "5000") -> bytes:
    ts = str(stamp if stamp is not None else time.time_ns() // 1_000_000)
    sign = hmac.new(secret.encode(), (ts + key + window).encode() + body, hashlib.sha256).hexdigest()
    headers = {"X-BAPI-API-KEY": key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": window, "X-BAPI-SIGN": sign}
    return _request("POST", "/v5/order/cancel", headers, body)


def _kraken_script() -> list[bytes]:
    (k1, s1), (k2, s2), (kr, sr) = KRAKEN_KEYS
    n = time.time_ns() // 1000
    form = lambda nonce, txid="OABCDE-FGHIJ-KLMNOP": f"nonce={nonce}&txid={txid}".encode()  # noqa: E731
    batch = lambda nonce, orders: json.dumps({"nonce": nonce, "orders": orders}).encode()  # noqa: E731
    path_b = "/0/private/CancelOrderBatch"
    return [
        _kraken(k1, s1, str(n), form(n)),  # accepted
        _kraken(k1, s1, str(n), form(n)),  # the same nonce again
        _kraken(k1, s1, str(n - 5), form(n - 5)),  # an older nonce
        _kraken(k1, s1, str(n + 1), form(n + 1))[:-3] + b"XYZ",  # body changed after signing
        _kraken(k1, s2, str(n + 2), form(n + 2)),  # another key's secret
        _kraken("unknown", s1, str(n + 3), form(n + 3)),
        _kraken(k1, s1, "", b"txid=OABCDE-FGHIJ-KLMNOP"),  # no nonce
        _kraken(k1, s1, "12a", form("12a")),
        _kraken(k1, s1, str(n + 4), f"nonce={n + 4}".encode()),  # no txid
        _kraken(k1, s1, str(n + 5), f"nonce={n + 5}&txid=".encode()),  # empty txid
        _kraken(k1, s1, str(n + 6), f"txid=O%41B+C&nonce={n + 6}&nonce={n + 6}".encode()),  # escapes, repeated
        _kraken(k2, s2, str(n + 7), form(n + 7)),
        _kraken(kr, sr, "5", form(5)),  # replay key: the nonce is not checked
        _kraken(kr, sr, "5", form(5)),
        _kraken(k1, s1, str(n + 8), batch(n + 8, ["A", "B", "C"]), path_b),  # a batch of three
        _kraken(k1, s1, str(n + 9), batch(str(n + 9), ["A"]), path_b),  # nonce as a string
        _kraken(k1, s1, str(n + 10), batch(n + 10, []), path_b),
        _kraken(k1, s1, str(n + 11), batch(n + 11, "A"), path_b),
        _kraken(k1, s1, str(n + 12), b'{"nonce": 1, "orders": [', path_b),  # not JSON
        _kraken(k1, s1, str(n + 13), json.dumps({"orders": ["A"]}).encode(), path_b),  # no nonce
        _kraken(k1, s1, str(n + 14), json.dumps([1]).encode(), path_b),
        _kraken(k1, s1, str(n + 15), form(n + 15), "/0/private/AddOrder"),
        _request("GET", "/0/private/CancelOrder", {}, b""),
        _kraken(k2, s2, "0" * 30 + "9" * 30, form("0" * 30 + "9" * 30)),  # beyond 64 bits, leading zeros
        _kraken(k2, s2, "9" * 29, form("9" * 29)),  # smaller than the one before
    ]


def _bybit_script() -> list[bytes]:
    (k1, s1), (k2, s2) = BYBIT_KEYS
    now = time.time_ns() // 1_000_000
    order = lambda **kw: json.dumps({"category": "spot", "symbol": "BTCUSDT", "orderId": "1234", **kw}).encode()  # noqa: E731
    return [
        _bybit(k1, s1, order()),
        _bybit(k1, s1, order(orderId='12"34\\u00e9')),  # an id that needs escaping, echoed back
        _bybit(k2, s2, order()),
        _bybit(k1, s2, order()),  # another key's secret
        _bybit("NOPE", s1, order()),
        _bybit(k1, s1, order(), stamp=now - 60_000),  # outside the window
        _bybit(k1, s1, order(), stamp=now + 30_000),  # from the future
        _bybit(k1, s1, order(), window="abc"),
        _bybit(k1, s1, order(category="linear")),
        _bybit(k1, s1, order(symbol="")),
        _bybit(k1, s1, order(symbol=0)),  # falsy, as Python's bool() sees it
        _bybit(k1, s1, order(symbol=7)),
        _bybit(k1, s1, order(orderId=1234)),  # not a string
        _bybit(k1, s1, b'{"category": "spot"'),  # not JSON
        _bybit(k1, s1, json.dumps({"category": "spot", "symbol": "X"}).encode()),  # no orderId
        _request("POST", "/v5/order/create", {}, b"{}"),
    ]


def _comparable(venue: str, body: bytes) -> Any:
    doc = json.loads(body)
    if venue == "bybit" and isinstance(doc, dict):
        doc.pop("time", None)  # the server's clock, read at different instants
    return doc


def test_same_answers_request_by_request(pair: tuple[str, int, int]) -> None:
    venue, py_port, c_port = pair
    script = _kraken_script() if venue == "kraken" else _bybit_script()
    for i, raw in enumerate(script):
        (py,) = _exchange(py_port, raw)
        (c,) = _exchange(c_port, raw)
        assert py[0] == c[0] == 200, i
        assert _comparable(venue, py[1]) == _comparable(venue, c[1]), (i, py[1], c[1])
    assert _comparable(venue, _exchange(py_port, _request("GET", "/_stats", {}, b""))[0][1]) == _comparable(
        venue, _exchange(c_port, _request("GET", "/_stats", {}, b""))[0][1]
    )
    # Every script has accepted cancels and refusals, so the comparison above covered both.
    stats = json.loads(_exchange(c_port, _request("GET", "/_stats", {}, b""))[0][1])
    assert stats["cancels"] > 0 and sum(stats["errors"].values()) > 0 and stats["requests"] == len(script)


def test_pipelined_requests_in_one_write_each_answered_in_order(pair: tuple[str, int, int]) -> None:
    venue, py_port, c_port = pair
    if venue == "bybit":
        (k, s), _ = BYBIT_KEYS
        bodies = [json.dumps({"category": "spot", "symbol": "X", "orderId": str(i)}).encode() for i in range(5)]
        raws = [_bybit(k, s, body) for body in bodies]
    else:
        (k, s), *_ = KRAKEN_KEYS
        n = time.time_ns() // 1000 + 10_000_000
        raws = [_kraken(k, s, str(n + i), f"nonce={n + i}&txid=T{i}".encode()) for i in range(5)]
    raws[-1] = raws[-1].replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n", 1)
    answers = {port: _exchange(port, b"".join(raws)) for port in (py_port, c_port)}
    assert len(answers[c_port]) == 5
    assert [_comparable(venue, b) for _, b in answers[py_port]] == [_comparable(venue, b) for _, b in answers[c_port]]
    if venue == "bybit":
        assert [json.loads(b)["result"]["orderId"] for _, b in answers[c_port]] == [str(i) for i in range(5)]


def test_request_split_across_writes_and_malformed_requests(binary: Path, tmp_path: Path) -> None:
    (k, s), *_ = KRAKEN_KEYS
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps([{"apiKey": k, "secret": s}]))
    gen = _serve([str(binary), "--accounts", str(path)])
    port = next(gen)
    try:
        n = time.time_ns() // 1000
        raw = _kraken(k, s, str(n), f"nonce={n}&txid=T".encode())
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            for i in range(0, len(raw), 7):  # a byte-trickling client
                sock.sendall(raw[i : i + 7])
                time.sleep(0.001)
            assert b'{"error":[],"result":{"count":1}}' in sock.recv(65536)
        chunked = b"POST /0/private/CancelOrder HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        assert _exchange(port, chunked)[0][0] == 400
        assert _exchange(port, b"NONSENSE\r\n\r\n")[0][0] == 400
    finally:
        next(gen, None)


def test_accounts_file_with_escapes_is_refused(binary: Path, tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    path.write_text('[{"apiKey": "a\\"b", "secret": "c2VjcmV0"}]')
    done = subprocess.run(
        [str(binary), "--port", str(_free_port()), "--accounts", str(path)], capture_output=True, text=True, timeout=10
    )
    assert done.returncode == 2 and "escaped" in done.stderr
