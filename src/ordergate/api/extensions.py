"""ordergate's own endpoints beside Mesh's (issue 18), under the same client auth, scopes, limits, idempotency and
audit. Mesh's endpoints answer exactly as before; these are documented under the "ordergate extensions" tag.

`POST /api/v1/transactions/cancel/batch`, body `{"orders": [<Mesh cancel body>, …], "waitSeconds": 0}`:
- 400 only when the batch itself is malformed (no `orders`, not 1-100 JSON objects, `waitSeconds` not 0-30);
  client-level refusals (401, 403, 429 for the client, idempotency 409/422) are as for any endpoint;
- otherwise 200 `ok` with `content.results[i]` = the envelope a single cancel of `orders[i]` would have answered
  (plus its `httpStatus`, and `retryAfter` where it has one), in request order. An order that fails validation
  gets its own 400 item, not a failed batch.
- `content.complete` is true when every order has a definite answer (200, 400, 403, 404, 409, 451: what the
  idempotency store keeps). Only complete answers are kept for an `Idempotency-Key`; otherwise the key is freed,
  so a retry with it runs the batch again (safe: cancelling an open order twice is harmless, and an order the first
  run cancelled now answers 409 `orderNotCancelable` with `orderStatus` `cancelled`).
- One audit row per order (endpoint `transactions/cancel/batch`, the batch's request id); a batch refused as a
  whole, or replayed, gets one row like any other request.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.attempt import Attempt
from ordergate.api.auth import require_client
from ordergate.api.idempotency import idempotent
from ordergate.api.models import TransactionsB2BBrokerOrderRequest
from ordergate.api.parsing import UnencodableBody, read_json_object, validate
from ordergate.api.transactions import GatewayDep, _order_ref
from ordergate.domain.batch import MAX_ORDERS, PACE_S, NativeBatches, cancel_each
from ordergate.domain.cancel import CancelRequest
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.settle import MAX_WAIT_S
from ordergate.gateway import Gateway
from ordergate.store.audit import AuditRecord
from ordergate.store.clients import Scope
from ordergate.venues.transport import UpstreamTrace, current_trace

log = logging.getLogger("ordergate.api")
router = APIRouter()

BATCH_PATH = "/api/v1/transactions/cancel/batch"
ENDPOINT = "transactions/cancel/batch"
# 100 orders of a few hundred bytes each (an authToken is ~200-2000 characters); far below 100 × 64 KiB single bodies.
BATCH_BODY_BYTES = 2 * 1024 * 1024
_DEFINITE = frozenset({200, 400, 403, 404, 409, 451})  # as api/idempotency keeps


class _BatchAttempt(Attempt):
    """The batch's own row is written only when no order was attempted (refused batch, replay): otherwise each
    order has its row and a batch row would count the work twice."""

    itemized = False

    async def _audited(self, response: Response, error_type: str) -> Response:
        if self.itemized:
            return response
        return await super()._audited(response, error_type)


class _Incomplete(Exception):  # noqa: N818 - a carrier, not an error
    """Raised out of the idempotent section so that it frees the key instead of keeping a 200 with transient items."""

    def __init__(self, response: Response) -> None:
        self.response = response


def _malformed(field: str, why: str, error_type: ErrorType = ErrorType.invalidField) -> GatewayError:
    return GatewayError(error_type, f"The batch is malformed: {field} {why}.", error_data={"fields": {field: why}})


def parse_batch(data: dict[str, Any]) -> tuple[list[dict[str, Any]], float]:
    orders = data.get("orders")
    if orders is None:
        raise _malformed("orders", "is required", ErrorType.missingField)
    if not isinstance(orders, list) or not 1 <= len(orders) <= MAX_ORDERS:
        raise _malformed("orders", f"must be a list of 1 to {MAX_ORDERS} cancel requests")
    for index, item in enumerate(orders):
        if not isinstance(item, dict):
            raise _malformed(f"orders.{index}", "must be a JSON object")
    wait = data.get("waitSeconds", 0)
    if wait is None:
        wait = 0
    if isinstance(wait, bool) or not isinstance(wait, int | float) or not 0 <= wait <= MAX_WAIT_S:
        raise _malformed("waitSeconds", f"must be a number from 0 to {MAX_WAIT_S:.0f}")
    return orders, float(wait)


def _ok_body(order_id: str, status: str) -> Response:
    # What `POST /api/v1/transactions/cancel` answers on success.
    return envelope.ok(
        {"orderId": order_id, "status": status},
        message="Order cancelled." if status == "cancelled" else "Cancel request accepted.",
    )


def _item(response: Response) -> dict[str, Any]:
    item = json.loads(bytes(response.body))
    item["httpStatus"] = response.status_code
    if "retry-after" in response.headers:
        item["retryAfter"] = int(response.headers["retry-after"])
    return item


async def _spend_client_limit(gateway: Gateway, client_id: str, extra: int) -> None:
    """A batch counts as one request per order against the client's limit (require_client took the first)."""
    limit = gateway.client_limit
    if limit.rate <= 0:
        return
    for _ in range(extra):
        if wait := await limit.coordination.take_token(client_id, limit.rate, limit.burst):
            raise GatewayError(
                ErrorType.rateLimited,
                "Too many requests for this API client (a batch counts one per order).",
                retry_after=wait,
                error_data={"limit": "client", "ratePerSecond": limit.rate, "burst": limit.burst},
            )


def _request(raw: dict[str, Any]) -> CancelRequest | None:
    try:
        body = validate(TransactionsB2BBrokerOrderRequest, raw)
    except GatewayError:
        return None
    return CancelRequest(body.authToken, body.type, _order_ref(body))


async def _cancel_one(
    plan: NativeBatches, attempt: _BatchAttempt, client_id: str, index: int, raw: dict[str, Any], wait_s: float
) -> tuple[dict[str, Any], AuditRecord]:
    integration = raw.get("type")[:64] if isinstance(raw.get("type"), str) else None
    order_id = raw.get("id")[:256] if isinstance(raw.get("id"), str) else None
    trace = UpstreamTrace()
    if integration:
        trace.venue = integration
    token = current_trace.set(trace)  # this order's upstream requests, for its own audit row
    started = time.perf_counter()
    error_type = ""
    try:
        body = validate(TransactionsB2BBrokerOrderRequest, raw)
        ack = await plan.cancel(index, CancelRequest(body.authToken, body.type, _order_ref(body)), wait_s)
        response = _ok_body(ack.order_id, ack.status.value)
    except GatewayError as exc:
        response, error_type = envelope.error(exc), exc.error_type.value
        if exc.upstream_status is not None:
            trace.last_status = exc.upstream_status
    except Exception:
        log.exception("unhandled error in a batch order", extra={"request_id": attempt.request_id})
        response, error_type = envelope.internal_error(attempt.request_id), ErrorType.internalError.value
    finally:
        current_trace.reset(token)
    record = AuditRecord(
        request_id=attempt.request_id,
        endpoint=ENDPOINT,
        client_id=client_id,
        integration_type=integration,
        order_id=order_id,
        status=ErrorType(error_type).info.status.value if error_type else "ok",
        error_type=error_type,
        http_status=response.status_code,
        upstream_status=trace.last_status,
        upstream_requests=trace.requests,
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
    )
    return _item(response), record


async def _run_batch(
    gateway: Gateway, attempt: _BatchAttempt, client_id: str, orders: list[dict[str, Any]], wait_s: float
) -> Response:
    unaudited = False
    plan = NativeBatches(gateway.cancels, client_id, [_request(raw) for raw in orders], PACE_S)

    async def one(index: int, raw: dict[str, Any]) -> dict[str, Any]:
        nonlocal unaudited
        item, record = await _cancel_one(plan, attempt, client_id, index, raw, wait_s)
        try:
            # Each order's row as soon as its outcome is known, as a single cancel's is before it answers.
            await gateway.audit.record(record)
        except Exception:
            log.exception("a batch order's audit row could not be written", extra={"request_id": attempt.request_id})
            unaudited = True
        return item

    attempt.itemized = True
    results = await cancel_each(orders, one)
    if unaudited:
        # As a single cancel does: the client still learns what happened at the venues; the 500 says the record
        # is incomplete. Never kept for the Idempotency-Key (a 500 frees it).
        return envelope.error(
            GatewayError(
                ErrorType.internalError,
                f"The batch was processed but audit rows could not be written (request id {attempt.request_id}).",
                error_data={"unaudited": True, "results": results},
            ),
            request_id=attempt.request_id,
        )
    complete = all(item["httpStatus"] in _DEFINITE for item in results)
    summary: dict[str, int] = {}
    for item in results:
        key = item["errorType"] or item["content"]["status"]
        summary[key] = summary.get(key, 0) + 1
    response = envelope.ok(
        {"complete": complete, "summary": summary, "results": results},
        message=f"{len(results)} orders answered" + ("." if complete else "; some without a definite answer."),
        request_id=attempt.request_id,
    )
    if not complete:
        raise _Incomplete(response)
    return response


@router.post(BATCH_PATH, include_in_schema=False)
async def cancel_batch(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        assert isinstance(attempt, _BatchAttempt)
        client = await require_client(
            request, gateway.clients, Scope.write, gateway.client_limit, guard=gateway.source_guard, attempt=attempt
        )
        try:
            data = await read_json_object(request, BATCH_BODY_BYTES)
        except UnencodableBody:
            raise GatewayError(
                ErrorType.invalidField,
                "The request body contains a string that is not valid Unicode.",
                error_data={"fields": {"body": "contains a lone surrogate (\\ud800-\\udfff)"}},
            ) from None
        orders, wait_s = parse_batch(data)
        await _spend_client_limit(gateway, client.id, len(orders) - 1)

        async def run() -> Response:
            return await _run_batch(gateway, attempt, client.id, orders, wait_s)

        try:
            return await idempotent(request, gateway.idempotency, client.id, ENDPOINT, data, attempt.request_id, run)
        except _Incomplete as incomplete:
            return incomplete.response

    return await _BatchAttempt(request, gateway.audit, ENDPOINT).run(work)
