"""The Python load generator: the fallback when wrk is absent, and the cold-accounts storm (an exact count).

It sends exactly what bench/cancel.lua sends and reports the same fields, but costs far more CPU per request
than wrk (it competes with the gateway for the 2 cores), so full benchmark runs use wrk whenever it is there.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

CANCEL = "/api/v1/transactions/cancel"


@dataclass
class Target:
    """What to send: `gateway` (Mesh cancel JSON, round-robin tokens) or `direct` (pre-signed Kraken requests)."""

    mode: str
    base_url: str
    items: list[Any]  # gateway: authTokens; direct: (apiKey, apiSign, body)
    client_id: str = ""
    client_secret: str = ""
    tag: str = "x"
    venue: str = "kraken"  # gateway mode: "kraken" or "bybit" (numeric order ids, symbolPair)


@dataclass
class Outcome:
    requests: int = 0
    good: int = 0
    bad: int = 0
    socket_errors: int = 0
    latencies_us: list[float] = field(default_factory=list)
    # per request (storm only): (token index, order id, http status, body)
    answers: list[tuple[int, str, int, bytes]] = field(default_factory=list)


def _percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(pct / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def run(
    target: Target,
    concurrency: int,
    *,
    duration_s: float | None = None,
    total: int | None = None,
    keep_answers: bool = False,
) -> dict[str, Any]:
    """Closed loop: `concurrency` workers, each sending its next request as soon as the last one answered.

    Stops after `duration_s` seconds, or after exactly `total` requests.
    """
    out = Outcome()
    counter = 0
    deadline = time.perf_counter() + duration_s if duration_s is not None else None
    expect = b'"status":"ok"' if target.mode == "gateway" else b'"count":1'
    headers = {
        "Content-Type": "application/json",
        "X-Client-Id": target.client_id,
        "X-Client-Secret": target.client_secret,
    }
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=60)

    def next_request() -> tuple[int, str, str, dict[str, str], bytes] | None:
        nonlocal counter
        if total is not None and counter >= total:
            return None
        if deadline is not None and time.perf_counter() >= deadline:
            return None
        i = counter % len(target.items)
        counter += 1
        if target.mode == "direct":
            key, sign, body = target.items[i]
            hdrs = {"API-Key": key, "API-Sign": sign, "Content-Type": "application/x-www-form-urlencoded"}
            return i, "", target.base_url + "/0/private/CancelOrder", hdrs, body.encode()
        if target.venue == "bybit":
            order_id = f"{''.join(c for c in target.tag if c.isdigit())}{counter:09d}"  # Bybit's numeric ids
            request = {
                "authToken": target.items[i],
                "type": "bybit",
                "id": order_id,
                "isCryptocurrency": True,
                "symbolPair": "BTCUSDT",
            }
        else:
            order_id = f"O{target.tag}-{counter // 10**6:05d}-{counter % 10**6:06d}"  # a Kraken txid's shape
            request = {"authToken": target.items[i], "type": "kraken", "id": order_id, "isCryptocurrency": True}
        body = json.dumps(request).encode()
        return i, order_id, target.base_url + CANCEL, headers, body

    async def worker(session: aiohttp.ClientSession) -> None:
        while (req := next_request()) is not None:
            i, order_id, url, hdrs, body = req
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=hdrs) as resp:
                    payload = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError):
                out.socket_errors += 1
                out.requests += 1
                if keep_answers:
                    out.answers.append((i, order_id, 0, b""))
                continue
            out.latencies_us.append((time.perf_counter() - started) * 1e6)
            out.requests += 1
            if status == 200 and expect in payload:
                out.good += 1
            else:
                out.bad += 1
            if keep_answers:
                out.answers.append((i, order_id, status, payload))

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    lat = sorted(out.latencies_us)
    result: dict[str, Any] = {
        "requests": out.requests,
        "duration_us": int(elapsed * 1e6),
        "good": out.good,
        "bad": out.bad,
        "connect_errors": 0,
        "read_errors": out.socket_errors,
        "write_errors": 0,
        "status_errors": 0,
        "timeouts": 0,
        "p50_us": _percentile(lat, 50),
        "p90_us": _percentile(lat, 90),
        "p99_us": _percentile(lat, 99),
        "max_us": lat[-1] if lat else 0.0,
        "mean_us": sum(lat) / len(lat) if lat else 0.0,
    }
    if keep_answers:
        result["answers"] = out.answers
    return result
