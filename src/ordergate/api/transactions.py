"""`POST /api/v1/transactions/cancel`: parse → service → envelope. Thin on purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.attempt import Attempt
from ordergate.api.auth import require_client
from ordergate.api.idempotency import idempotent
from ordergate.api.models import TransactionsB2BBrokerOrderRequest, TransactionsBrokerBaseRequest
from ordergate.api.parsing import UnencodableBody, read_json_object, validate
from ordergate.domain.cancel import CancelRequest
from ordergate.domain.details import feature_list, order_details, render_order
from ordergate.domain.orders import OrderRef
from ordergate.gateway import Gateway
from ordergate.store.clients import Scope

router = APIRouter()


def _order_ref(body: TransactionsB2BBrokerOrderRequest) -> OrderRef:
    return OrderRef(
        id=body.id,
        is_cryptocurrency=body.isCryptocurrency,
        side=body.side,
        symbol_pair=body.symbolPair,
        mfa_code=body.mfaCode,
    )


async def _read(request: Request, gateway: Gateway, attempt: Attempt, scope: Scope) -> tuple[str, dict]:
    """Client auth first (as Mesh does), then the body; the audit row learns what it can as it goes."""
    client = await require_client(
        request, gateway.clients, scope, gateway.client_limit, guard=gateway.source_guard, attempt=attempt
    )
    try:
        data = await read_json_object(request, gateway.settings.max_body_bytes)
    except UnencodableBody as exc:
        _learn(attempt, exc.data)
        raise
    _learn(attempt, data)
    return client.id, data


def _learn(attempt: Attempt, data: dict) -> None:
    if isinstance(data.get("type"), str):
        attempt.integration_type = data["type"][:64]
    if isinstance(data.get("id"), str):
        attempt.order_id = data["id"]


def get_gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


@router.post("/api/v1/transactions/cancel", include_in_schema=False)
async def cancel(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client_id, data = await _read(request, gateway, attempt, Scope.write)

        async def run() -> Response:
            body = validate(TransactionsB2BBrokerOrderRequest, data)
            ack = await gateway.cancels.cancel(client_id, CancelRequest(body.authToken, body.type, _order_ref(body)))
            return envelope.ok(
                {"orderId": ack.order_id, "status": ack.status.value},
                message="Order cancelled." if ack.status.value == "cancelled" else "Cancel request accepted.",
                request_id=attempt.request_id,
            )

        return await idempotent(
            request, gateway.idempotency, client_id, "transactions/cancel", data, attempt.request_id, run
        )

    return await Attempt(request, gateway.audit, "transactions/cancel").run(work)


@router.post("/api/v1/transactions/details", include_in_schema=False)
async def details(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client_id, data = await _read(request, gateway, attempt, Scope.read)
        body = validate(TransactionsB2BBrokerOrderRequest, data)
        snapshot = await order_details(
            gateway.registry, gateway.sealer, client_id, body.type, body.authToken, _order_ref(body)
        )
        content = render_order(snapshot, body.type, body.isCryptocurrency)
        return envelope.ok(content, request_id=attempt.request_id)

    return await Attempt(request, gateway.audit, "transactions/details").run(work)


@router.post("/api/v1/transactions/featureList", include_in_schema=False)
async def features(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client_id, data = await _read(request, gateway, attempt, Scope.read)
        body = validate(TransactionsBrokerBaseRequest, data)
        content = feature_list(gateway.registry, gateway.sealer, client_id, body.type, body.authToken, gateway.health)
        return envelope.ok(content, request_id=attempt.request_id)

    return await Attempt(request, gateway.audit, "transactions/featureList").run(work)
