"""Batch cancel (an ordergate extension, issue 18): many orders, each cancelled as a single cancel would be.

Every order goes through `CancelService.cancel` on its own, so it gets the single cancel's guarantees (id shape,
token, back-off, budget, lookup on an ambiguous answer). Orders run concurrently, paced by each venue key's
documented budget: an order whose key has no budget left waits for it (up to `PACE_S`) instead of being refused,
and nonce venues keep their per-key sequencing (the adapters serialise per key themselves).

Where the venue has a native batch request (OKX `POST /api/v5/trade/cancel-batch-orders`, Bybit
`POST /v5/order/cancel-batch`, Coinbase `POST /api/v3/brokerage/orders/batch_cancel`, Kraken `CancelOrderBatch`),
the adapter implements `NativeBatchCancel` and `NativeBatches` sends the orders of one (integration, venue key)
together, `max_batch` at a time, each order taking one unit of the key's budget as a single cancel would. Every
per-order outcome of a batch answer, and a lost answer of the whole batch, is resolved by `CancelService.resolve`,
the single cancel's own resolution (lookups for "unknown order", a retry for an order still open), so each item is
the answer a single cancel would have given. Kraken's batch answers only a count: see KrakenAdapter.cancel_batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar, runtime_checkable

from ordergate.domain.cancel import CancelRequest, CancelService, Prepared
from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.orders import CancelAck, Credentials, OrderRef
from ordergate.venues.transport import NotDelivered, OutcomeUnknown, UpstreamTrace, current_trace

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
    """Optional adapter capability: cancel up to `max_batch` orders of one
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


_Outcome = CancelAck | Exception


class _Chunk:
    """Orders of one key that go in one native request; the first member to ask sends it for all."""

    def __init__(self, members: list[Prepared]) -> None:
        self.members = members
        self.trace = UpstreamTrace()
        self._sent: asyncio.Task[list[_Outcome] | BaseException] | None = None

    def outcomes(self, service: CancelService, pace_s: float) -> asyncio.Task[list[_Outcome] | BaseException]:
        if self._sent is None:
            self._sent = asyncio.ensure_future(self._send(service, pace_s))
        return self._sent

    async def _send(self, service: CancelService, pace_s: float) -> list[_Outcome] | BaseException:
        first = self.members[0]
        self.trace.venue = first.req.type.value
        current_trace.set(self.trace)  # this task's own context: the members copy it into their rows
        adapter = first.adapter
        assert isinstance(adapter, NativeBatchCancel)
        try:
            # The key's budget is spent per order, as single cancels would spend it: Kraken's trading counter and
            # OKX's batch limit count orders, not requests, and elsewhere it only paces more cautiously.
            await service.raise_if_cooling_down(first.spec, first.back_off_id)
            for _ in self.members:
                await service.take_from_budget(first.spec, first.back_off_id, pace_s)
        except GatewayError as exc:
            return exc  # ordergate's own refusal, nothing sent: no venue back-off to record
        try:
            outcomes = await adapter.cancel_batch(first.creds, [p.req.order for p in self.members])
        except GatewayError as exc:
            await service.note_back_off(first, exc)
            return exc
        except (OutcomeUnknown, NotDelivered, UnknownOrderAtVenue) as exc:
            return exc
        if len(outcomes) != len(self.members):  # an adapter bug, never the venue's: answer it as unreadable
            return GatewayError(ErrorType.institutionUnavailable, "The venue's batch answer does not match the batch")
        return outcomes


class NativeBatches:
    """Plans a batch's orders: those sharing an integration and venue key with a native batch request go together;
    every other order is a single cancel. `cancel(index)` answers order `index` as `CancelService.cancel` would."""

    def __init__(
        self, service: CancelService, client_id: str, requests: Sequence[CancelRequest | None], pace_s: float
    ) -> None:
        self.service, self.client_id, self.pace_s = service, client_id, pace_s
        self._chunks: dict[int, tuple[_Chunk, int]] = {}
        groups: dict[tuple[str, str], list[tuple[int, Prepared]]] = {}
        for index, req in enumerate(requests):
            if req is None:
                continue
            try:
                prepared = service.prepare(client_id, req)
            except GatewayError:
                continue  # answered by the single path, which raises the same error
            if isinstance(prepared.adapter, NativeBatchCancel):
                groups.setdefault((req.type.value, prepared.key_id), []).append((index, prepared))
        for members in groups.values():
            # A repeated id goes alone: in one request the venue would answer it twice, or refuse the batch.
            unique: list[tuple[int, Prepared]] = []
            seen: set[str] = set()
            for index, prepared in members:
                if prepared.req.order.id not in seen:
                    seen.add(prepared.req.order.id)
                    unique.append((index, prepared))
            size = max(1, members[0][1].adapter.max_batch)  # type: ignore[attr-defined]
            for start in range(0, len(unique), size):
                part = unique[start : start + size]
                if len(part) < 2:
                    continue
                chunk = _Chunk([p for _, p in part])
                for position, (index, _) in enumerate(part):
                    self._chunks[index] = (chunk, position)

    async def cancel(self, index: int, req: CancelRequest, wait_s: float) -> CancelAck:
        if index not in self._chunks:
            return await self.service.cancel(self.client_id, req, wait_s=wait_s, pace_s=self.pace_s)
        chunk, position = self._chunks[index]
        answer = await chunk.outcomes(self.service, self.pace_s)
        trace = current_trace.get()
        if trace is not None:  # the shared request is part of every member's cost
            trace.requests += chunk.trace.requests
            trace.last_status = chunk.trace.last_status
        prepared = chunk.members[position]
        outcome = answer if isinstance(answer, BaseException) else answer[position]
        if isinstance(outcome, GatewayError) and outcome.error_type is not ErrorType.institutionUnavailable:
            raise outcome  # definite for this order (or the whole batch: auth, rate limit)
        if isinstance(outcome, UnknownOrderAtVenue) and outcome is answer:
            # The venue refused the whole batch over one order it did not know: nothing was cancelled, so each
            # order goes on its own.
            return await self.service.cancel(self.client_id, req, wait_s=wait_s, pace_s=self.pace_s)
        if isinstance(outcome, CancelAck):
            ack = outcome
        elif isinstance(outcome, Exception):
            ack = await self.service.resolve(prepared.adapter, prepared.creds, req.order, outcome)
        else:
            raise outcome
        return await self.service.settle(prepared, ack, wait_s)
