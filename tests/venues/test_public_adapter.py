"""PublicAdapter over a real Transport against the simulator on a real socket: the access-token cache, the one
request per cancel, refused cancels, lookups and connecting."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType, OrderSide, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import Connected, ConnectStep
from ordergate.venues.catalog import SPECS
from ordergate.venues.public.adapter import PublicAdapter
from ordergate.venues.public.simulator import PublicSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.public]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[PublicSimulator, str]]:
    sim = PublicSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport(timeout_s=2.0)  # one per test: `requests_sent` counts only that test's requests
    await transport.start()
    yield transport
    await transport.close()


@pytest.fixture
def sim(served: tuple[PublicSimulator, str]) -> PublicSimulator:
    return served[0]


@pytest.fixture
def adapter(served: tuple[PublicSimulator, str], transport: Transport) -> PublicAdapter:
    return PublicAdapter(SPEC, served[1], transport)


def creds_of(account: SimAccount, account_id: str | None = None) -> Credentials:
    return Credentials(IntegrationType.public, "", account.secret, extras={"accountId": account_id or account.api_key})


def ref(order_id: str) -> OrderRef:
    return OrderRef(id=order_id, is_cryptocurrency=False)


async def test_first_use_of_a_secret_exchanges_it_then_every_cancel_is_one_request(
    adapter: PublicAdapter, sim: PublicSimulator, transport: Transport
) -> None:
    account = sim.new_account()
    first, _ = sim.place(account)
    ack = await adapter.cancel(creds_of(account), ref(first))
    assert (ack.status, transport.requests_sent) == (OrderStatus.inProgress, 2)  # the exchange, then the DELETE
    assert sim.count(f"token:{account.api_key}", "token") == 1

    for _ in range(3):
        order_id, _ = sim.place(account)
        before = transport.requests_sent
        assert (await adapter.cancel(creds_of(account), ref(order_id))).status is OrderStatus.inProgress
        assert transport.requests_sent - before == 1
        assert sim.status(order_id) is OrderStatus.cancelled
    assert sim.count(f"token:{account.api_key}", "token") == 1


async def test_concurrent_first_uses_share_one_exchange(adapter: PublicAdapter, sim: PublicSimulator) -> None:
    account = sim.new_account()
    orders = [sim.place(account)[0] for _ in range(10)]
    acks = await asyncio.gather(*(adapter.cancel(creds_of(account), ref(o)) for o in orders))
    assert {a.status for a in acks} == {OrderStatus.inProgress}
    assert sim.count(f"token:{account.api_key}", "token") == 1
    assert sim.count(account.api_key, "cancel") == 10


async def test_a_token_refused_mid_life_is_renewed_once_and_the_call_retried(
    adapter: PublicAdapter, sim: PublicSimulator
) -> None:
    account = sim.new_account()
    await adapter.get_order(creds_of(account), ref(str(uuid.uuid4())))  # caches a token
    sim.revoke(account)  # every token issued so far stops working
    order_id, _ = sim.place(account)
    refused = sim.errors["user_api_gateway.unauthorized"]
    ack = await adapter.cancel(creds_of(account), ref(order_id))
    assert ack.status is OrderStatus.inProgress and sim.status(order_id) is OrderStatus.cancelled
    # refused with the old token (a request that names no user), then accepted with the new one
    assert (sim.errors["user_api_gateway.unauthorized"] - refused, sim.count(account.api_key, "cancel")) == (1, 1)
    assert sim.count(f"token:{account.api_key}", "token") == 2


async def test_a_fresh_token_refused_is_not_retried(adapter: PublicAdapter, sim: PublicSimulator) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="auth"))
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds_of(account), ref(order_id))
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert sim.count(account.api_key, "cancel") == 1


async def test_tokens_are_renewed_in_the_background_before_they_expire(
    served: tuple[PublicSimulator, str], sim: PublicSimulator, transport: Transport
) -> None:
    now = [1000.0]
    adapter = PublicAdapter(SPEC, served[1], transport)
    adapter.tokens._clock = lambda: now[0]
    account = sim.new_account()
    await adapter.get_order(creds_of(account), ref(str(uuid.uuid4())))
    token_key = f"token:{account.api_key}"
    assert sim.count(token_key, "token") == 1

    now[0] += 50 * 60  # 10 minutes left of 60: still used, and renewed behind the call
    before = sim.count(account.api_key, "get")
    await adapter.get_order(creds_of(account), ref(str(uuid.uuid4())))
    assert sim.count(account.api_key, "get") == before + 1
    for _ in range(100):
        if sim.count(token_key, "token") == 2:
            break
        await asyncio.sleep(0.01)
    assert sim.count(token_key, "token") == 2

    now[0] += 30 * 60  # the renewed token has 30 minutes left: no further exchange
    await adapter.get_order(creds_of(account), ref(str(uuid.uuid4())))
    assert sim.count(token_key, "token") == 2
    now[0] += 60 * 60  # past every token's life: the call waits for a new one
    await adapter.get_order(creds_of(account), ref(str(uuid.uuid4())))
    assert sim.count(token_key, "token") == 3


async def test_wrong_secret_is_auth_failed_and_never_logged(
    adapter: PublicAdapter, sim: PublicSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account)
    wrong = "wrong-" + account.secret
    caplog.set_level(logging.DEBUG)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(
            Credentials(IntegrationType.public, "", wrong, extras={"accountId": account.api_key}), ref(order_id)
        )
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert wrong not in caught.value.message and wrong not in caplog.text
    assert sim.status(order_id) is OrderStatus.inProgress
    assert wrong not in repr(adapter.tokens.__dict__)  # only keyed digests are kept


async def test_refused_cancel_of_a_filled_order_is_409_after_one_lookup(
    adapter: PublicAdapter, sim: PublicSimulator
) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.fill(order_id)
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds_of(account), ref(order_id))
    assert caught.value.error_type is ErrorType.orderNotCancelable
    assert caught.value.error_data == {"orderStatus": "success", "orderId": order_id}
    assert (sim.count(account.api_key, "cancel"), sim.count(account.api_key, "get")) == (1, 1)


async def test_refused_cancel_of_an_order_being_cancelled_is_in_progress(
    adapter: PublicAdapter, sim: PublicSimulator
) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.set_status(order_id, "PENDING_CANCEL")
    ack = await adapter.cancel(creds_of(account), ref(order_id))
    assert (ack.order_id, ack.status) == (order_id, OrderStatus.inProgress)


async def test_unknown_order_is_left_to_the_cancel_services_lookup(
    adapter: PublicAdapter, sim: PublicSimulator
) -> None:
    account = sim.new_account()
    with pytest.raises(UnknownOrderAtVenue):
        await adapter.cancel(creds_of(account), ref(str(uuid.uuid4())))
    assert await adapter.get_order(creds_of(account), ref(str(uuid.uuid4()))) is None


async def test_lookup_reads_public_order_fields(adapter: PublicAdapter, sim: PublicSimulator) -> None:
    account = sim.new_account()
    order_id, _ = sim.place(account, volume="4", price="187.5")
    sim.fill(order_id, "1")
    snapshot = await adapter.get_order(creds_of(account), ref(order_id))
    assert snapshot is not None
    assert (snapshot.status, snapshot.venue_status, snapshot.amount, snapshot.filled) == (
        OrderStatus.partiallyFilled,
        "PARTIALLY_FILLED",
        4.0,
        1.0,
    )
    assert (snapshot.side, snapshot.symbol, snapshot.payment_symbol, snapshot.price) == (
        OrderSide.buy,
        "AAPL",
        "USD",
        187.5,
    )
    assert (snapshot.order_type, snapshot.time_in_force, snapshot.value) == ("limit", "goodForDay", 187.5)
    sim.set_status(order_id, "QUEUED_CANCELLED")
    assert (await adapter.get_order(creds_of(account), ref(order_id))).status is OrderStatus.cancelled


@pytest.mark.parametrize("bad", ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "a\r\nb", "9" * 10_000])
async def test_ids_that_are_not_public_uuids_never_reach_public(
    adapter: PublicAdapter, sim: PublicSimulator, transport: Transport, bad: str
) -> None:
    account = sim.new_account()
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(creds_of(account), ref(bad))
    assert caught.value.error_type is ErrorType.invalidField
    with pytest.raises(GatewayError):
        await adapter.cancel(creds_of(account, account_id="../x"), ref(str(uuid.uuid4())))
    assert transport.requests_sent == 0


async def test_connect_answers_one_account_per_brokerage_account(
    adapter: PublicAdapter, sim: PublicSimulator, transport: Transport
) -> None:
    account = sim.new_account(accounts=2)
    numbers = sim.accounts_of(account)
    creds = Credentials(IntegrationType.public, "", account.secret)
    done = await adapter.connect(creds, ConnectStep())
    assert isinstance(done, Connected)
    assert [a.account_id for a in done.accounts] == numbers
    assert [a.extras for a in done.accounts] == [{"accountId": n} for n in numbers]
    assert done.credentials.secret == account.secret
    assert transport.requests_sent == 2  # the exchange and the account list

    picked = await adapter.connect(Credentials(IntegrationType.public, numbers[1], account.secret), ConnectStep())
    assert isinstance(picked, Connected) and [a.account_id for a in picked.accounts] == [numbers[1]]
    assert transport.requests_sent == 3  # the cached token served the second connect

    with pytest.raises(GatewayError) as caught:
        await adapter.connect(Credentials(IntegrationType.public, "5NOTMINE1", account.secret), ConnectStep())
    assert caught.value.error_type is ErrorType.invalidField

    # the token /authenticate obtained serves the first cancel: one request
    order_id, _ = sim.place(account)
    before = transport.requests_sent
    await adapter.cancel(creds_of(account), ref(order_id))
    assert transport.requests_sent - before == 1
