"""`POST /api/v1/transactions/list`: client auth (read scope) → body → one page of orders → envelope.

Kept apart from api/transactions.py (the cancel hot path): listing is read-only, not idempotency-keyed, and
served through FastAPI's ordinary routing.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.attempt import Attempt
from ordergate.api.auth import require_client
from ordergate.api.models import TransactionsB2BBrokerOrderListRequest
from ordergate.api.parsing import UnencodableBody, read_json_object, validate
from ordergate.domain.listing import ListRequest, list_orders
from ordergate.gateway import Gateway
from ordergate.store.clients import Scope

PATH = "/api/v1/transactions/list"
router = APIRouter()


def _list_request(body: TransactionsB2BBrokerOrderListRequest) -> ListRequest:
    return ListRequest(
        auth_token=body.authToken,
        type=body.type,
        count=body.count,
        statuses=frozenset(body.statuses) if body.statuses else None,
        since=body.from_,
        cursor=body.cursor or None,
        symbol_pair=body.symbolPair or None,
    )


@router.post(PATH, include_in_schema=False)
async def list_transactions(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway

    async def work(attempt: Attempt) -> Response:
        client = await require_client(
            request, gateway.clients, Scope.read, gateway.client_limit, guard=gateway.source_guard, attempt=attempt
        )
        try:
            data = await read_json_object(request, gateway.settings.max_body_bytes)
        except UnencodableBody as exc:
            _learn(attempt, exc.data)
            raise
        _learn(attempt, data)
        body = validate(TransactionsB2BBrokerOrderListRequest, data)
        content = await list_orders(gateway.registry, gateway.sealer, client.id, _list_request(body))
        return envelope.ok(content, request_id=attempt.request_id)

    return await Attempt(request, gateway.audit, "transactions/list").run(work)


def _learn(attempt: Attempt, data: dict) -> None:
    # The audit row records the integration type; a listing names no order.
    value = next((v for k, v in data.items() if isinstance(k, str) and k.lower() == "type"), None)
    if isinstance(value, str):
        attempt.integration_type = value[:64]
