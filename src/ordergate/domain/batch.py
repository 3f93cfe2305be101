"""Batch cancel (an ordergate extension, issue 18): many orders, each cancelled as a single cancel would be.

Every order goes through `CancelService.cancel` on its own, so it gets the single cancel's guarantees (id shape,
token, back-off, budget, lookup on an ambiguous answer). Orders run concurrently, paced by each venue key's
documented budget: an order whose key has no budget left waits for it (up to `PACE_S`) instead of being refused,
and nonce venues keep their per-key sequencing (the adapters serialise per key themselves).

Native venue batch requests (OKX `POST /api/v5/trade/cancel-batch-orders`, Bybit `POST /v5/order/cancel-batch`,
Coinbase `POST /api/v3/brokerage/orders/batch_cancel`, Kraken `CancelOrderBatch`) are a follow-up. The seam is
`NativeBatchCancel`: an adapter that implements it would receive the orders of one key in one call, and
`cancel_each` is where orders would be grouped by (integration, key) before falling back to single cancels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from ordergate.domain.orders import CancelAck, Credentials, OrderRef

MAX_ORDERS = 100
# How long one order may wait for its venue key's budget before it is answered 429 like a single cancel: a batch of
# 100 orders at one Kraken key (burst 180) never waits; at one Bybit key (20/s, burst 20) the last waits ~4 s.
PACE_S = 10.0
# Orders of one batch in flight at once: enough to keep several venues busy, few enough that one batch cannot take
# the whole upstream connection pool (transport limit 512) from other clients' single cancels.
CONCURRENCY = 16

T = TypeVar("T")
R = TypeVar("R")


@runtime_checkable
class NativeBatchCancel(Protocol):
    """Optional adapter capability (not implemented by any adapter yet): cancel up to `max_batch` orders of one
    account in one upstream request, answering per order a CancelAck or the exception a single cancel would raise
    (GatewayError, UnknownOrderAtVenue), so that the cancel service's lookups still resolve ambiguous ones."""

    max_batch: int

    async def cancel_batch(self, creds: Credentials, orders: Sequence[OrderRef]) -> list[CancelAck | Exception]: ...


async def cancel_each(items: Sequence[T], run: Callable[[int, T], Awaitable[R]]) -> list[R]:
    """`run` for every item, concurrently up to CONCURRENCY, answers in the items' order."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(index: int, item: T) -> R:
        async with gate:
            return await run(index, item)

    return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))
