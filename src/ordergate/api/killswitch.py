"""Kill switch and dead-man's switch (ordergate extensions, issue 18); the rules live in domain/killswitch.py.

`POST /api/v1/transactions/cancel/all`, body `{"authToken", "type", "symbolPair"?, "side"?}`: 200 `ok` with
`content.results` = one item per order touched, each the envelope a single cancel of that order would have answered
(plus `httpStatus` and `orderId`), `content.notCancelled` the ids of those that were not cancelled (filled meanwhile,
venue error), `content.method` `native` or `listing`. An account without open orders answers 200 with no results.
Refusals before any order was touched (bad body, token, venue unreachable, listing failed) are the envelope's own
error, as for a single cancel. Idempotency as the batch: only complete answers are kept for a key.
Audit: one row per order touched (endpoint `transactions/cancel/all`); the shared upstream requests (the listing,
the native cancel-all) are counted on the first row. With no order touched, one row for the request.

`POST /api/v1/transactions/cancel/after`, body `{"authToken", "type", "timeoutSeconds"}` (0 disarms): the venue's
own timer, answered with the venue's view of it; 400 `cancelAfterNotSupported` where the venue has none.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.attempt import Attempt
from ordergate.api.auth import require_client
from ordergate.api.extensions import _DEFINITE, _BatchAttempt, _Incomplete, _item, _ok_body
from ordergate.api.idempotency import idempotent
from ordergate.api.parsing import UnencodableBody, read_json_object
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderSide
from ordergate.domain.killswitch import (
    MAX_CANCEL_AFTER_S,
    KillRequest,
    Touched,
    cancel_after,
    cancel_listed,
    kill_adapter,
    native_cancel_all,
    open_orders,
    uses_native,
)
from ordergate.domain.orders import CancelAck, OrderSnapshot
from ordergate.gateway import Gateway
from ordergate.store.audit import AuditRecord
from ordergate.store.clients import Scope
from ordergate.venues.transport import UpstreamTrace, current_trace

router = APIRouter()

CANCEL_ALL_PATH = "/api/v1/transactions/cancel/all"
CANCEL_AFTER_PATH = "/api/v1/transactions/cancel/after"
ALL_ENDPOINT = "transactions/cancel/all"
AFTER_ENDPOINT = "transactions/cancel/after"


def _field_error(field: str, why: str, error_type: ErrorType = ErrorType.invalidField) -> GatewayError:
    return GatewayError(error_type, f"{field} {why}.", error_data={"fields": {field: why}})


def parse_kill(data: dict[str, Any]) -> KillRequest:
    token, kind = data.get("authToken"), data.get("type")
    for name, value in (("authToken", token), ("type", kind)):
        if value is None or value == "":
            raise _field_error(name, "is required", ErrorType.missingField)
        if not isinstance(value, str):
            raise _field_error(name, "must be a string")
    try:
        integration = IntegrationType(kind)
    except ValueError:
        raise _field_error("type", "is not a known integration type") from None
    pair, side = data.get("symbolPair"), data.get("side")
    if pair is not None and (not isinstance(pair, str) or len(pair) > 32):
        raise _field_error("symbolPair", "must be a string of at most 32 characters")
    if side is not None and side not in (OrderSide.buy.value, OrderSide.sell.value):
        raise _field_error("side", "must be 'buy' or 'sell'")
    assert isinstance(token, str)
    return KillRequest(token, integration, pair or None, OrderSide(side) if side else None)


async def _body(request: Request, gateway: Gateway, attempt: Attempt) -> dict[str, Any]:
    try:
        data = await read_json_object(request, gateway.settings.max_body_bytes)
    except UnencodableBody:
        raise _field_error("body", "contains a lone surrogate (\\ud800-\\udfff)") from None
    if isinstance(data.get("type"), str):
        attempt.integration_type = data["type"][:64]
    return data


def _answer(touched: Touched) -> Response:
    if isinstance(touched.outcome, CancelAck):
        return _ok_body(touched.order_id, touched.outcome.status.value)
    return envelope.error(touched.outcome)


def _record(attempt: Attempt, client_id: str, req: KillRequest, order_id: str, response: Response) -> AuditRecord:
    error_type = getattr(response, "error_type", "") or ""
    return AuditRecord(
        request_id=attempt.request_id,
        endpoint=ALL_ENDPOINT,
        client_id=client_id,
        integration_type=req.type.value,
        order_id=order_id[:256],
        status=ErrorType(error_type).info.status.value if error_type else "ok",
        error_type=error_type,
        http_status=response.status_code,
        upstream_status=None,
        upstream_requests=0,
        latency_ms=0.0,
    )


async def _kill(gateway: Gateway, attempt: _BatchAttempt, client_id: str, req: KillRequest) -> Response:
    started = time.perf_counter()
    shared = current_trace.get() or UpstreamTrace()  # the attempt's: listing or native cancel-all requests
    _, adapter = kill_adapter(gateway.cancels, req)
    rows: list[tuple[dict[str, Any], AuditRecord]] = []
    extra: dict[str, Any] = {"unnamedCancelled": 0, "truncated": False}
    if uses_native(adapter, req):
        result = await native_cancel_all(gateway.cancels, client_id, req)
        extra.update(method="native", how=result.how, unnamedCancelled=result.unnamed)
        for touched in result.touched:
            response = _answer(touched)
            record = _record(attempt, client_id, req, touched.order_id, response)
            record.upstream_status = shared.last_status
            rows.append((_item(response), record))
    else:
        orders, truncated = await open_orders(gateway.cancels, client_id, req)
        extra.update(method="listing", how="open orders listed (every page), each cancelled as a single cancel")
        extra["truncated"] = truncated

        async def one(order: OrderSnapshot, cancel: Callable[[], Awaitable[CancelAck]]) -> tuple[dict, AuditRecord]:
            trace = UpstreamTrace(venue=req.type.value)
            token = current_trace.set(trace)
            began = time.perf_counter()
            try:
                ack = await cancel()
                response = _ok_body(ack.order_id, ack.status.value)
            except GatewayError as exc:
                response = envelope.error(exc)
                if exc.upstream_status is not None:
                    trace.last_status = exc.upstream_status
            finally:
                current_trace.reset(token)
            record = _record(attempt, client_id, req, order.order_id, response)
            record.upstream_status, record.upstream_requests = trace.last_status, trace.requests
            record.latency_ms = round((time.perf_counter() - began) * 1000, 3)
            return _item(response), record

        rows = await cancel_listed(gateway.cancels, client_id, req, orders, one)
    if not rows:
        body = {"complete": True, "summary": {}, "results": [], "notCancelled": [], **extra}
        return envelope.ok(body, message="No open orders to cancel.", request_id=attempt.request_id)
    rows[0][1].upstream_requests += shared.requests
    for record in (r for _, r in rows):
        record.latency_ms = record.latency_ms or round((time.perf_counter() - started) * 1000, 3)
    attempt.itemized = True
    await asyncio.gather(*(gateway.audit.record(record) for _, record in rows))
    results = []
    for item, record in rows:
        item["orderId"] = record.order_id
        results.append(item)
    summary: dict[str, int] = {}
    for item in results:
        key = item["errorType"] or item["content"]["status"]
        summary[key] = summary.get(key, 0) + 1
    complete = all(item["httpStatus"] in _DEFINITE for item in results) and not extra["truncated"]
    not_cancelled = [item["orderId"] for item in results if item["status"] != "ok"]
    response = envelope.ok(
        {"complete": complete, "summary": summary, "results": results, "notCancelled": not_cancelled, **extra},
        message=f"{len(results)} orders touched; {len(not_cancelled)} not cancelled.",
        request_id=attempt.request_id,
    )
    if not complete:
        raise _Incomplete(response)
    return response


@router.post(CANCEL_ALL_PATH, include_in_schema=False)
async def cancel_all(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway

    async def work(attempt: Attempt) -> Response:
        assert isinstance(attempt, _BatchAttempt)
        client = await require_client(
            request, gateway.clients, Scope.write, gateway.client_limit, guard=gateway.source_guard, attempt=attempt
        )
        data = await _body(request, gateway, attempt)
        req = parse_kill(data)

        async def run() -> Response:
            return await _kill(gateway, attempt, client.id, req)

        try:
            return await idempotent(
                request, gateway.idempotency, client.id, ALL_ENDPOINT, data, attempt.request_id, run
            )
        except _Incomplete as incomplete:
            return incomplete.response

    return await _BatchAttempt(request, gateway.audit, ALL_ENDPOINT).run(work)


@router.post(CANCEL_AFTER_PATH, include_in_schema=False)
async def cancel_after_route(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway

    async def work(attempt: Attempt) -> Response:
        client = await require_client(
            request, gateway.clients, Scope.write, gateway.client_limit, guard=gateway.source_guard, attempt=attempt
        )
        data = await _body(request, gateway, attempt)
        req = parse_kill({k: v for k, v in data.items() if k in ("authToken", "type")})
        timeout = data.get("timeoutSeconds")
        if timeout is None:
            raise _field_error("timeoutSeconds", "is required", ErrorType.missingField)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or not 0 <= timeout <= MAX_CANCEL_AFTER_S:
            raise _field_error("timeoutSeconds", f"must be a whole number of seconds from 0 to {MAX_CANCEL_AFTER_S}")

        async def run() -> Response:
            timer = await cancel_after(gateway.cancels, client.id, req, timeout)
            content = {"armed": timeout > 0, "timeoutSeconds": timeout, **timer}
            message = f"Every open order is cancelled in {timeout} s unless armed again." if timeout else "Disarmed."
            return envelope.ok(content, message=message, request_id=attempt.request_id)

        return await idempotent(request, gateway.idempotency, client.id, AFTER_ENDPOINT, data, attempt.request_id, run)

    return await Attempt(request, gateway.audit, AFTER_ENDPOINT).run(work)
