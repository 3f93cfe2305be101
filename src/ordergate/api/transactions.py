"""`POST /api/v1/transactions/cancel`: parse → service → envelope. Thin on purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from ordergate.api import envelope
from ordergate.api.attempt import Attempt
from ordergate.api.auth import require_client
from ordergate.api.models import TransactionsB2BBrokerOrderRequest
from ordergate.api.parsing import read_json_object, validate
from ordergate.domain.cancel import CancelRequest
from ordergate.domain.orders import OrderRef
from ordergate.gateway import Gateway
from ordergate.store.clients import Scope

router = APIRouter()


def get_gateway(request: Request) -> Gateway:
    return request.app.state.gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


@router.post("/api/v1/transactions/cancel", include_in_schema=False)
async def cancel(request: Request, gateway: GatewayDep) -> Response:
    async def work(attempt: Attempt) -> Response:
        client = await require_client(request, gateway.clients, Scope.write)
        attempt.client_id = client.id
        data = await read_json_object(request, gateway.settings.max_body_bytes)
        if isinstance(data.get("type"), str):
            attempt.integration_type = data["type"][:64]
        if isinstance(data.get("id"), str):
            attempt.order_id = data["id"]
        body = validate(TransactionsB2BBrokerOrderRequest, data)
        order = OrderRef(
            id=body.id,
            is_cryptocurrency=body.isCryptocurrency,
            side=body.side,
            symbol_pair=body.symbolPair,
            mfa_code=body.mfaCode,
        )
        ack = await gateway.cancels.cancel(client.id, CancelRequest(body.authToken, body.type, order))
        return envelope.ok(
            {"orderId": ack.order_id, "status": ack.status.value},
            message="Order cancelled." if ack.status.value == "cancelled" else "Cancel request accepted.",
            request_id=attempt.request_id,
        )

    return await Attempt(request, gateway.audit, "transactions/cancel").run(work)
