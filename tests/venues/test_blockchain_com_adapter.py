"""BlockchainComAdapter over a real Transport against the simulator on a real socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.blockchain_com.adapter import BlockchainComAdapter
from ordergate.venues.blockchain_com.simulator import BlockchainComSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.blockchainCom]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[BlockchainComSimulator, str]]:
    sim = BlockchainComSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
def sim(served: tuple[BlockchainComSimulator, str]) -> BlockchainComSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[BlockchainComSimulator, str], transport: Transport) -> BlockchainComAdapter:
    return BlockchainComAdapter(SPEC, served[1], transport)


def account(sim: BlockchainComSimulator, *, can_trade: bool = True) -> Credentials:
    acct = sim.new_account(can_trade=can_trade)
    return Credentials(IntegrationType.blockchainCom, acct.api_key, acct.secret)


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=True)


async def test_cancel_is_one_request_and_only_acknowledged(
    sim: BlockchainComSimulator, adapter: BlockchainComAdapter
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.secret)
    sent = adapter.transport.requests_sent
    ack = await adapter.cancel(creds, ref(oid))
    assert (ack.order_id, ack.status, ack.upstream_status) == (oid, OrderStatus.inProgress, 200)
    assert adapter.transport.requests_sent - sent == 1 and sim.count(creds.api_key, "cancel") == 1


@pytest.mark.parametrize("state", ["filled", "cancelled", "never placed", "another account's"])
async def test_final_or_unknown_orders_need_a_lookup(
    sim: BlockchainComSimulator, adapter: BlockchainComAdapter, state: str
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.secret if state != "another account's" else sim.new_account().secret)
    if state == "filled":
        sim.fill(oid)
    elif state == "cancelled":
        await adapter.cancel(creds, ref(oid))
    elif state == "never placed":
        oid = "9" + oid[1:]
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds, ref(oid))


async def test_lookup(sim: BlockchainComSimulator, adapter: BlockchainComAdapter) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.secret, symbol="ETH-USD", side="SELL", quantity="2", price="3000")
    sim.fill(oid, "0.5")
    snap = await adapter.get_order(creds, ref(oid))
    assert snap is not None
    assert (snap.status, snap.venue_status, snap.amount, snap.filled) == (
        OrderStatus.partiallyFilled, "PART_FILLED", 2.0, 0.5,
    )  # fmt: skip
    assert (snap.side, snap.symbol, snap.payment_symbol, snap.symbol_pair, snap.price) == (
        OrderSide.sell, "ETH", "USD", "ETH-USD", 3000.0,
    )  # fmt: skip
    assert (snap.order_type, snap.time_in_force) == ("limit", "goodTillCanceled")
    assert await adapter.get_order(creds, ref("7777777777")) is None


@pytest.mark.parametrize(
    ("error", "kind", "retry"),
    [
        ("auth", ErrorType.institutionAuthFailed, None),
        ("permission", ErrorType.institutionPermissionDenied, None),
        ("unavailable", ErrorType.institutionUnavailable, None),
        ("rate_limit", ErrorType.rateLimited, 1),
    ],
)
async def test_error_answers(
    sim: BlockchainComSimulator, adapter: BlockchainComAdapter, error: str, kind: ErrorType, retry: int | None
) -> None:
    creds = account(sim)
    oid = sim.place_order(creds.secret)
    sim.inject(Fault("venue_error", "cancel", api_key=creds.api_key, error=error))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds, ref(oid))
    assert (caught.value.error_type, caught.value.retry_after) == (kind, retry)
    assert creds.secret not in str(caught.value)
    assert sim.status(oid) is OrderStatus.inProgress


@pytest.mark.parametrize("bad", ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n2", "1" * 10_000, "0"])
async def test_ids_of_another_shape_never_reach_blockchain_com(
    sim: BlockchainComSimulator, adapter: BlockchainComAdapter, bad: str
) -> None:
    creds = account(sim)
    sent = adapter.transport.requests_sent
    for call in (adapter.cancel, adapter.get_order):
        with pytest.raises(GatewayError) as caught:
            await call(creds, ref(bad))
        assert caught.value.error_type is ErrorType.invalidField
    assert adapter.transport.requests_sent == sent


async def test_verify_credentials(sim: BlockchainComSimulator, adapter: BlockchainComAdapter) -> None:
    creds = account(sim)
    info = await adapter.verify_credentials(creds, None)
    assert info.account_id.startswith("blockchain-com-") and creds.secret not in info.account_id
    assert sim.count(creds.api_key, "fees") == 1
    unlabelled = await adapter.verify_credentials(Credentials(IntegrationType.blockchainCom, "", creds.secret), None)
    assert unlabelled.account_id == info.account_id
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(Credentials(IntegrationType.blockchainCom, creds.api_key, "f" * 64), None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
