"""The Webull adapter's paths the kit does not take: cancelling by Webull's own order_id (cancel by client order id,
one open-orders read, cancel again), finding a final order by its order_id in the history, a 200 without a
receipt, and a token without an account id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from ordergate.venues.webull.adapter import WebullAdapter
from ordergate.venues.webull.simulator import WebullSimulator
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[WebullSimulator, str]]:
    sim = WebullSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def adapter(served: tuple[WebullSimulator, str]) -> AsyncIterator[WebullAdapter]:
    transport = Transport(timeout_s=5)
    yield WebullAdapter(SPECS[IntegrationType.weBull], served[1], transport)
    await transport.close()


def _creds(sim: WebullSimulator) -> tuple[Credentials, str]:
    account = sim.new_account()
    return Credentials(
        IntegrationType.weBull, account.api_key, account.secret, extras=dict(account.extras)
    ), account.api_key


async def test_cancel_by_webull_order_id(adapter: WebullAdapter, served: tuple[WebullSimulator, str]) -> None:
    sim = served[0]
    creds, key = _creds(sim)
    coid, order_id = sim.place_order(key)
    ack = await adapter.cancel(creds, OrderRef(order_id, False))
    assert (ack.order_id, ack.status) == (order_id, OrderStatus.inProgress)
    assert sim.status(coid) is OrderStatus.cancelled
    assert (sim.count(key, "cancel"), sim.count(key, "open_orders")) == (2, 1)


async def test_final_order_by_order_id_is_found_in_the_history(
    adapter: WebullAdapter, served: tuple[WebullSimulator, str]
) -> None:
    sim = served[0]
    creds, key = _creds(sim)
    coid, order_id = sim.place_order(key)
    sim.fill(coid)
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, OrderRef(order_id, False))
    snapshot = await adapter.get_order(creds, OrderRef(order_id, False))
    assert snapshot is not None and snapshot.status is OrderStatus.success
    assert sim.count(key, "history") == 1
    assert await adapter.get_order(creds, OrderRef("9" * 18, False)) is None


async def test_a_200_without_a_receipt_is_not_success(
    adapter: WebullAdapter, served: tuple[WebullSimulator, str]
) -> None:
    sim = served[0]
    creds, key = _creds(sim)
    coid, _ = sim.place_order(key)
    sim.inject(Fault("garbage", "cancel", api_key=key))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, OrderRef(coid, False))
    assert caught.value.error_type is ErrorType.institutionUnavailable
    assert sim.status(coid) is OrderStatus.inProgress


async def test_a_token_without_account_id_is_refused_before_any_request(
    adapter: WebullAdapter, served: tuple[WebullSimulator, str]
) -> None:
    sim = served[0]
    creds, key = _creds(sim)
    bare = Credentials(IntegrationType.weBull, creds.api_key, creds.secret)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(bare, OrderRef("abc123", False))
    assert caught.value.error_type is ErrorType.invalidAuthToken
    assert sim.count_key(key) == 0


async def test_busy_order_is_not_read_as_unknown(adapter: WebullAdapter, served: tuple[WebullSimulator, str]) -> None:
    sim = served[0]
    creds, key = _creds(sim)
    coid, _ = sim.place_order(key)
    sim.inject(
        Fault(
            "venue_error",
            "cancel",
            api_key=key,
            error="TRADE_WEBULL_REQUEST_PROCESSING:The order is processing, please try later",
        )
    )
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, OrderRef(coid, False))
    assert caught.value.error_type is ErrorType.institutionUnavailable
    assert sim.count(key, "open_orders") == 0
