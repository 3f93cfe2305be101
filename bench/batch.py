"""The batch row of `make bench`: cancels per second through `POST /api/v1/transactions/cancel/batch` (batches of
`size` Kraken orders of one key, sent as one CancelOrderBatch upstream) vs the same orders as single cancels.

Both sides run against one ordergate process of their own, with the same Python closed-loop load generator, the
same keys and concurrency, one after the other, so the ratio compares the request paths and not the load tools.
The per-key budgets are off in that process (`ORDERGATE_VENUE_KEY_BUDGETS=false`): a few seconds of either loop
would exhaust the short run's keys' Kraken budget and measure pacing instead.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

SINGLE = "/api/v1/transactions/cancel"
BATCH = "/api/v1/transactions/cancel/batch"


def _txid(tag: str, n: int) -> str:
    return f"O{tag}-{n // 10**6:05d}-{n % 10**6:06d}"  # a Kraken txid's shape, unique per run


async def _loop(
    base_url: str, client: tuple[str, str], tokens: list[str], tag: str, size: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    """`size` 0: single cancels; otherwise batches of `size` orders, each batch of one token (one venue key)."""
    headers = {"Content-Type": "application/json", "X-Client-Id": client[0], "X-Client-Secret": client[1]}
    counter, requests, cancels, failed = 0, 0, 0, 0
    deadline = time.perf_counter() + seconds

    def body() -> tuple[str, bytes]:
        nonlocal counter
        token = tokens[requests % len(tokens)]
        orders = []
        for _ in range(max(size, 1)):
            counter += 1
            orders.append({"authToken": token, "type": "kraken", "id": _txid(tag, counter), "isCryptocurrency": True})
        if not size:
            return SINGLE, json.dumps(orders[0]).encode()
        return BATCH, json.dumps({"orders": orders}).encode()

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal requests, cancels, failed
        while time.perf_counter() < deadline:
            path, payload = body()
            requests += 1
            async with session.post(base_url + path, data=payload, headers=headers) as resp:
                answer = json.loads(await resp.read())
            if resp.status != 200:
                failed += max(size, 1)
            elif size:
                good = sum(1 for r in answer["content"]["results"] if r["httpStatus"] == 200)
                cancels, failed = cancels + good, failed + size - good
            else:
                cancels += 1

    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"requests": requests, "cancels": cancels, "errors": failed, "cancels_per_s": round(cancels / elapsed, 1)}


def measure(
    base_url: str,
    client: tuple[str, str],
    tokens: list[str],
    upstream_stats: Any,
    *,
    size: int = 20,
    concurrency: int = 16,
    seconds: float = 2.0,
) -> dict[str, Any]:
    """`upstream_stats()` reads the upstream's /_stats: upstream requests per cancel come from its counters."""
    rows: dict[str, Any] = {}
    for name, n in (("single", 0), ("batch", size)):
        before = upstream_stats()
        row = asyncio.run(
            _loop(base_url, client, tokens, f"B{name[0].upper()}{int(time.time()) % 1000:03d}", n, concurrency, seconds)
        )
        after = upstream_stats()
        row["upstream_requests_per_cancel"] = round(
            (after["requests"] - before["requests"]) / max(row["cancels"], 1), 3
        )
        rows[name] = row
        print(
            f"  batch row  {name:6} c={concurrency} size={n or 1:<3} {row['cancels_per_s']:>8.1f} cancels/s"
            f"  upstream requests/cancel {row['upstream_requests_per_cancel']}  errors {row['errors']}",
            flush=True,
        )
    return {
        "batch_size": size,
        "concurrency": concurrency,
        "seconds": seconds,
        "single": rows["single"],
        "batch": rows["batch"],
        "speedup": round(rows["batch"]["cancels_per_s"] / max(rows["single"]["cancels_per_s"], 0.1), 2),
    }
