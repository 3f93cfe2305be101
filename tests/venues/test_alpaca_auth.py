"""Connecting Alpaca accounts: which environment (paper, live, an override) each credential is found in, what the
token remembers, and where later requests go. Two simulators play api.alpaca.markets and paper-api."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator

import pytest

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.venues.alpaca.adapter import AlpacaAdapter
from ordergate.venues.alpaca.simulator import AlpacaSimulator
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault, SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi


@dataclasses.dataclass
class Venue:
    live: AlpacaSimulator
    paper: AlpacaSimulator
    live_url: str
    paper_url: str


@pytest.fixture(scope="module")
def venue() -> Iterator[Venue]:
    live, paper = AlpacaSimulator(paper=False), AlpacaSimulator(paper=True)
    with serve_asgi(live.app, date_header=False) as live_url, serve_asgi(paper.app, date_header=False) as paper_url:
        yield Venue(live, paper, live_url, paper_url)


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport(timeout_s=2.0)
    await transport.start()
    yield transport
    await transport.close()


def adapter_for(venue: Venue, transport: Transport, base_url: str | None = None, testnet: bool = False):
    """As the registry builds it: the spec's URLs are the two environments, base_url what the registry chose."""
    spec = dataclasses.replace(
        SPECS[IntegrationType.alpaca], production_url=venue.live_url, testnet_url=venue.paper_url
    )
    adapter = AlpacaAdapter(spec, base_url or (venue.paper_url if testnet else venue.live_url), transport)
    adapter.testnet = testnet
    return adapter


def connect_creds(account: SimAccount, hint: str | None = None) -> Credentials:
    return Credentials(IntegrationType.alpaca, account.api_key, account.secret, passphrase=hint)


def calls(sim: AlpacaSimulator, account: SimAccount) -> int:
    return sim.count_key(account.api_key)


async def test_paper_key_is_found_on_paper_after_live_refuses_it(venue: Venue, transport: Transport) -> None:
    adapter = adapter_for(venue, transport)
    account = venue.paper.new_account()

    info = await adapter.verify_credentials(connect_creds(account), None)

    assert info.extras == {"auth": "key", "paper": True}
    assert info.account_id.startswith("PA") and info.account_name == "Alpaca (paper)"
    assert (calls(venue.live, account), calls(venue.paper, account)) == (1, 1)

    # The token remembers paper: the cancel goes there, in one request.
    order_id, _ = venue.paper.place(account)
    token_creds = Credentials(IntegrationType.alpaca, account.api_key, account.secret, extras=info.extras)
    await adapter.cancel(token_creds, OrderRef(order_id, False))
    assert (calls(venue.live, account), venue.paper.count(account.api_key, "cancel")) == (1, 1)


async def test_live_key_is_one_request(venue: Venue, transport: Transport) -> None:
    account = venue.live.new_account()
    info = await adapter_for(venue, transport).verify_credentials(connect_creds(account), None)
    assert (info.extras, info.account_name) == ({"auth": "key", "paper": False}, "Alpaca (live)")
    assert (calls(venue.live, account), calls(venue.paper, account)) == (1, 0)


async def test_environment_hint_pins_the_only_place_asked(venue: Venue, transport: Transport) -> None:
    adapter = adapter_for(venue, transport)
    account = venue.paper.new_account()
    assert (await adapter.verify_credentials(connect_creds(account, " Paper "), None)).extras["paper"] is True
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(connect_creds(account, "live"), None)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert (calls(venue.live, account), calls(venue.paper, account)) == (1, 1)


async def test_unknown_hint_is_refused_before_any_request(venue: Venue, transport: Transport) -> None:
    account = venue.paper.new_account()
    with pytest.raises(GatewayError) as caught:
        await adapter_for(venue, transport).verify_credentials(connect_creds(account, "sandbox"), None)
    assert caught.value.error_type is ErrorType.invalidField
    assert set(caught.value.error_data["fields"]) == {"authToken"}
    assert transport.requests_sent == 0


async def test_key_known_nowhere_is_auth_failed_after_both(venue: Venue, transport: Transport) -> None:
    account = venue.paper.new_account()
    wrong = SimAccount(account.api_key, "x" * 40)
    with pytest.raises(GatewayError) as caught:
        await adapter_for(venue, transport).verify_credentials(connect_creds(wrong), None)
    assert (caught.value.error_type, caught.value.upstream_status) == (ErrorType.institutionAuthFailed, 401)
    assert (calls(venue.live, account), calls(venue.paper, account)) == (1, 1)


async def test_refusal_other_than_401_is_final(venue: Venue, transport: Transport) -> None:
    account = venue.live.new_account()
    venue.live.inject(Fault("venue_error", "account", api_key=account.api_key, error="permission"))
    with pytest.raises(GatewayError) as caught:
        await adapter_for(venue, transport).verify_credentials(connect_creds(account), None)
    assert caught.value.error_type is ErrorType.institutionPermissionDenied
    assert calls(venue.paper, account) == 0


async def test_oauth_token_is_verified_and_used_as_bearer(venue: Venue, transport: Transport) -> None:
    adapter = adapter_for(venue, transport)
    account = venue.paper.new_account()
    token = venue.paper.issue_token(account)

    info = await adapter.verify_credentials(Credentials(IntegrationType.alpaca, "oauth", token), None)

    assert info.extras == {"auth": "oauth", "paper": True}
    order_id, _ = venue.paper.place(account)
    creds = Credentials(IntegrationType.alpaca, "oauth", token, extras=info.extras)
    await adapter.cancel(creds, OrderRef(order_id, False))
    assert venue.paper.count(account.api_key, "cancel") == 1


async def test_testnet_deployment_only_talks_to_paper(venue: Venue, transport: Transport) -> None:
    adapter = adapter_for(venue, transport, testnet=True)
    account = venue.paper.new_account()
    assert (await adapter.verify_credentials(connect_creds(account), None)).extras["paper"] is True
    order_id, _ = venue.paper.place(account)
    # Even a token sealed as live goes to paper in a testnet deployment.
    creds = Credentials(IntegrationType.alpaca, account.api_key, account.secret, extras={"paper": False})
    await adapter.cancel(creds, OrderRef(order_id, False))
    assert (calls(venue.live, account), venue.paper.count(account.api_key, "cancel")) == (0, 1)


async def test_override_receives_everything_and_paper_stays_unknown(venue: Venue, transport: Transport) -> None:
    proxy = AlpacaSimulator()  # ORDERGATE_BASE_URL_ALPACA pointing somewhere else, e.g. a proxy or the sandbox
    account = proxy.new_account()
    with serve_asgi(proxy.app, date_header=False) as proxy_url:
        adapter = adapter_for(venue, transport, base_url=proxy_url)
        info = await adapter.verify_credentials(connect_creds(account), None)
        assert info.extras == {"auth": "key"}  # not known, so not claimed; the override decides anyway
        hinted = await adapter.verify_credentials(connect_creds(account, "live"), None)
        assert hinted.extras == {"auth": "key", "paper": False}
        order_id, _ = proxy.place(account)
        await adapter.cancel(
            Credentials(IntegrationType.alpaca, account.api_key, account.secret, extras={"paper": True}),
            OrderRef(order_id, False),
        )
    assert (proxy.count(account.api_key, "account"), proxy.count(account.api_key, "cancel")) == (2, 1)
    assert (calls(venue.live, account), calls(venue.paper, account)) == (0, 0)


async def test_unreachable_venue_at_connect_is_institution_unavailable(venue: Venue, transport: Transport) -> None:
    account = venue.live.new_account()
    adapter = adapter_for(venue, transport, base_url="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(GatewayError) as caught:
        await adapter.verify_credentials(connect_creds(account), None)
    assert caught.value.error_type is ErrorType.institutionUnavailable
