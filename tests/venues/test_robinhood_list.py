"""RobinhoodAdapter.list_orders, both halves, over a real Transport against the simulator on a real socket: the crypto
API's `GET /api/v1/crypto/trading/orders/` and the app's `GET /orders/`, each paged by Robinhood's own cursor."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest

from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.base import OrderQuery
from ordergate.venues.catalog import SPECS
from ordergate.venues.robinhood.adapter import RobinhoodAdapter
from ordergate.venues.robinhood.constants import KIND, KIND_EQUITIES
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi
from tests.venues import broker_listing as checks


class Clock:
    """Real time (the crypto API checks signature timestamps against it) plus an offset tests move forward."""

    offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[RobinhoodSimulator, str, Clock]]:
    clock = Clock()
    sim = RobinhoodSimulator(clock=clock)
    with serve_asgi(sim.app) as url:
        yield sim, url, clock


@pytest.fixture(params=["crypto", "equities", "crypto, venue pages of 2", "equities, venue pages of 2"])
def book(request: pytest.FixtureRequest, served: tuple[RobinhoodSimulator, str, Clock],
         transport: Transport) -> Iterator[checks.Book]:  # fmt: skip
    sim, url, clock = served
    clock.offset = 0.0  # each test's account is new: its orders are later than one another, within the 30 s window
    sim.page_size = 2 if "pages of 2" in request.param else 100
    crypto = request.param.startswith("crypto")
    sim.kit_half = "crypto" if crypto else KIND_EQUITIES
    account = sim.new_account()
    creds = Credentials(IntegrationType.robinhood, account.api_key, account.secret, extras=dict(account.extras))
    adapter = RobinhoodAdapter(SPECS[IntegrationType.robinhood], url, transport)

    def place() -> str:
        clock.offset += 1
        return sim.place(account)[0]

    def fill(order_id: str) -> None:
        clock.offset += 1
        sim.fill(order_id)

    async def cancel(order_id: str) -> None:
        await adapter.cancel(creds, OrderRef(order_id, is_cryptocurrency=crypto))

    def created(order_id: str) -> int:
        stamp = sim.describe(order_id)["created_at"]
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())

    yield checks.Book(
        adapter, creds, place, fill, cancel, lambda: transport.requests_sent, created, venue_page=sim.page_size
    )
    sim.page_size, sim.kit_half = 100, "crypto"


async def test_an_empty_account(book: checks.Book) -> None:
    await checks.empty_account(book)


async def test_one_page(book: checks.Book) -> None:
    await checks.one_page(book)


async def test_several_pages_reach_every_order_once_newest_first(book: checks.Book) -> None:
    await checks.several_pages(book)


async def test_statuses(book: checks.Book) -> None:
    await checks.statuses(book)


async def test_since(book: checks.Book) -> None:
    await checks.since(book)


async def test_a_login_lists_only_the_tokens_account(
    served: tuple[RobinhoodSimulator, str, Clock], transport: Transport
) -> None:
    sim, url, _ = served
    login = sim.equities.add_login(f"two-{uuid.uuid4().hex[:6]}@example.com", "pw-123456", verification=None,
                                   accounts=2)  # fmt: skip
    with sim._lock:
        session = sim.equities._issue(login.username, str(uuid.uuid4()))
    mine = sim.equities.place_for(login.accounts[0])
    sim.equities.place_for(login.accounts[1])
    extras = {KIND: KIND_EQUITIES, "account_number": login.accounts[0], "device_token": session.device,
              "account_url": f"https://api.robinhood.com/accounts/{login.accounts[0]}/"}  # fmt: skip
    creds = Credentials(IntegrationType.robinhood, session.access, session.refresh, extras=extras)
    adapter = RobinhoodAdapter(SPECS[IntegrationType.robinhood], url, transport)
    page = await adapter.list_orders(creds, OrderQuery(count=100))
    assert [o.order_id for o in page.orders] == [mine]


async def test_a_cursor_from_elsewhere_is_refused(book: checks.Book) -> None:
    with pytest.raises(GatewayError) as caught:
        await book.adapter.list_orders(book.creds, OrderQuery(count=2, cursor={"cursor": 5, "skip": 0}))
    assert caught.value.error_type.value == "invalidField"
