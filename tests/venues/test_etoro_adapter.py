"""The eToro adapter against its simulator: answers the kit does not reach."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.catalog import SPECS
from ordergate.venues.etoro.adapter import EtoroAdapter
from ordergate.venues.etoro.simulator import EtoroSimulator
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[EtoroSimulator, str]]:
    sim = EtoroSimulator(write_limit=3)
    with serve_asgi(sim.app) as url:
        yield sim, url


def _adapter(url: str, transport: Transport) -> EtoroAdapter:
    return EtoroAdapter(SPECS[IntegrationType.etoro], url, transport)


def _creds(account: SimAccount) -> Credentials:
    return Credentials(IntegrationType.etoro, account.api_key, account.secret, account.passphrase, account.extras)


@pytest.mark.parametrize(
    "bad", ["-1", "", "..", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\n", "0", "01", "9223372036854775808", "9" * 10_000]
)
async def test_ids_eToro_never_issued_are_refused_before_sending(
    served: tuple[EtoroSimulator, str], transport: Transport, bad: str
) -> None:
    sim, url = served
    account = sim.new_account()
    with pytest.raises(GatewayError) as caught:
        await _adapter(url, transport).cancel(_creds(account), OrderRef(bad, False))
    assert caught.value.error_type is ErrorType.invalidField
    assert sim.count_key(account.api_key) == 0


async def test_the_shared_write_quota_answers_429_with_retry_after(
    served: tuple[EtoroSimulator, str], transport: Transport
) -> None:
    sim, url = served
    account = sim.new_account()
    ids = [sim.place(account)[0] for _ in range(4)]
    adapter = _adapter(url, transport)
    for oid in ids[:3]:
        assert (await adapter.cancel(_creds(account), OrderRef(oid, False))).status.value == "cancelled"
    with pytest.raises(GatewayError) as caught:
        await adapter.cancel(_creds(account), OrderRef(ids[3], False))
    assert caught.value.error_type is ErrorType.rateLimited
    assert 1 <= (caught.value.retry_after or 0) <= 60
    assert sim.status(ids[3]).value == "inProgress"


async def test_filled_and_rejected_orders_cost_no_write(
    served: tuple[EtoroSimulator, str], transport: Transport
) -> None:
    sim, url = served
    account = sim.new_account()
    oid, _ = sim.place(account)
    sim.fill(oid)
    with pytest.raises(GatewayError) as caught:
        await _adapter(url, transport).cancel(_creds(account), OrderRef(oid, False))
    assert (caught.value.error_type, caught.value.error_data["orderStatus"]) == (
        ErrorType.orderNotCancelable,
        "success",
    )
    assert sim.count(account.api_key, "cancel") == 0


async def test_a_404_from_the_cancel_is_left_to_a_lookup(
    served: tuple[EtoroSimulator, str], transport: Transport
) -> None:
    sim, url = served
    account = sim.new_account()
    oid, _ = sim.place(account)
    sim.inject(Fault("venue_error", "cancel", api_key=account.api_key, error="404:Order was not found."))
    with pytest.raises(UnknownOrderAtVenue):
        await _adapter(url, transport).cancel(_creds(account), OrderRef(oid, False))


async def test_an_info_answer_for_another_order_is_not_trusted(
    served: tuple[EtoroSimulator, str], transport: Transport
) -> None:
    sim, url = served
    account = sim.new_account()
    oid, _ = sim.place(account)
    sim.inject(Fault("garbage", "info", api_key=account.api_key))
    with pytest.raises(GatewayError) as caught:
        await _adapter(url, transport).cancel(_creds(account), OrderRef(oid, False))
    assert caught.value.error_type is ErrorType.institutionUnavailable
    assert sim.count(account.api_key, "cancel") == 0


async def test_errors_never_quote_the_keys(served: tuple[EtoroSimulator, str], transport: Transport) -> None:
    sim, url = served
    account = sim.new_account()
    oid, _ = sim.place(account)
    sim.inject(Fault("venue_error", "info", api_key=account.api_key, error=f"400:bad key {account.secret}"))
    with pytest.raises(GatewayError) as caught:
        await _adapter(url, transport).cancel(_creds(account), OrderRef(oid, False))
    assert account.secret not in caught.value.message and "<redacted>" in caught.value.message
