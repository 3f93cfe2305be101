"""`waitSeconds`: after a venue only acknowledged a cancel (`inProgress`), watch the order until it is final.

The acknowledgement already made the answer definite (`ok`, `inProgress`); waiting only replaces it with what a
lookup shows later: cancelled → `cancelled`; filled (or otherwise final) meanwhile → 409 `orderNotCancelable`
with the order's status, as a cancel sent then would have answered; time up → the acknowledgement, unchanged.
A failed or inconclusive lookup never changes the answer: the next one may tell.

Lookups spend the same per-key budget as cancels, so waiting on many orders of one key cannot push the key past
the venue's documented limit; a poll that finds the budget empty is put off rather than refused.
"""

from __future__ import annotations

import asyncio
import time

from ordergate.domain.cancel import _BACK_OFF, _OPEN, CancelService, _not_cancelable
from ordergate.domain.errors import GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderStatus
from ordergate.domain.orders import CancelAck, Credentials, OrderRef
from ordergate.venues.base import Adapter, VenueSpec
from ordergate.venues.transport import NotDelivered, OutcomeUnknown, VenueRedirected

MAX_WAIT_S = 30.0
# Venues that acknowledge first settle within milliseconds to a second (matching-engine queues, next auction):
# start close, then back off so a slow venue costs a handful of lookups per order, not one per tick.
FIRST_POLL_S = 0.05
MAX_POLL_INTERVAL_S = 2.0


async def await_final(
    service: CancelService,
    spec: VenueSpec,
    adapter: Adapter,
    creds: Credentials,
    order: OrderRef,
    ack: CancelAck,
    key_id: str,
    back_off_id: str,
    wait_s: float,
) -> CancelAck:
    deadline = time.monotonic() + min(wait_s, MAX_WAIT_S)
    delay = FIRST_POLL_S
    while (remaining := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL_INTERVAL_S)
        if await service.coordination.check(back_off_id) is not None:
            return ack  # the venue asked to back off with this key: no more lookups
        if service.key_budgets and spec.key_budget is not None:
            rate, burst = spec.key_budget
            if wait := await service.coordination.take_token(f"budget:{key_id}", rate, burst):
                delay = max(delay, wait)
                continue
        try:
            snapshot = await adapter.get_order(creds, order)
        except (OutcomeUnknown, NotDelivered, VenueRedirected, UnknownOrderAtVenue):
            continue
        except GatewayError as exc:
            if exc.error_type in _BACK_OFF and exc.retry_after:
                await service.coordination.block(back_off_id, exc.retry_after, exc.error_type.value)
                return ack
            continue
        if snapshot is None or snapshot.status in _OPEN:
            # None: some venues drop a cancelled order's record, but "gone" is not proof of "cancelled".
            continue
        if snapshot.status is OrderStatus.cancelled:
            return CancelAck(order.id, OrderStatus.cancelled, ack.upstream_status)
        raise _not_cancelable(snapshot)
    return ack
