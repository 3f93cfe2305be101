"""The E*TRADE adapter against the simulator: both ways to connect, idle and expired tokens, lookups, hosts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.domain.integrations import IntegrationType, OrderStatus
from ordergate.domain.orders import Credentials, OrderRef
from ordergate.settings import Settings
from ordergate.venues.base import ChallengeIssued, Connected, ConnectStep
from ordergate.venues.catalog import SPECS
from ordergate.venues.etrade.adapter import ETradeAdapter, seconds_to_eastern_midnight
from ordergate.venues.etrade.simulator import ETradeSimulator
from ordergate.venues.simkit import SimAccount
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

SPEC = SPECS[IntegrationType.eTrade]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ETradeSimulator, str]]:
    sim = ETradeSimulator()
    with serve_asgi(sim.app) as url:
        yield sim, url


def _adapter(url: str, transport: Transport, settings: Settings | None = None) -> ETradeAdapter:
    adapter = ETradeAdapter(SPEC, url, transport)
    adapter.settings = settings
    return adapter


def _creds(account: SimAccount) -> Credentials:
    return Credentials(IntegrationType.eTrade, account.api_key, account.secret, account.passphrase, account.extras)


def _ref(order_id: str) -> OrderRef:
    return OrderRef(order_id, is_cryptocurrency=False)


async def test_three_legged_connect_with_the_users_consumer_key(served, transport: Transport) -> None:
    sim, url = served
    adapter = _adapter(url, transport)
    key, secret = sim.demo_consumer
    user = Credentials(IntegrationType.eTrade, key, secret)
    issued = await adapter.connect(user, ConnectStep())
    assert isinstance(issued, ChallengeIssued) and issued.status == "challengeIssued"
    request_token = issued.state["requestToken"]
    assert issued.redirect_link.startswith(f"{url}/e/t/etws/authorize?key={key}&token=")
    assert (issued.state["consumer"], issued.state["consumerKey"], issued.expires_in_seconds) == ("user", key, 300)

    wrong = await _failure(adapter.connect(user, ConnectStep(challenge_code="WRONG", state=issued.state)))
    assert wrong.error_type is ErrorType.institutionAuthFailed and "verification code" in wrong.message

    verifier = sim.authorize(request_token)
    done = await adapter.connect(
        Credentials(IntegrationType.eTrade, "", ""), ConnectStep(verifier, verifier, issued.state)
    )
    assert isinstance(done, Connected)
    assert sorted(a.extras["accountIdKey"] for a in done.accounts) == sorted(sim.accounts_of(sim.demo_user))
    assert done.credentials.passphrase == f"{key}:{secret}"
    assert sim.token_state(done.credentials.api_key) == "active"
    assert 0 < done.expires_in_seconds <= 24 * 3600
    # the request token is spent: the same verifier again is refused
    again = await _failure(adapter.connect(user, ConnectStep(challenge_code=verifier, state=issued.state)))
    assert again.error_type is ErrorType.institutionAuthFailed
    # a challenge belongs to its consumer key
    other = Credentials(IntegrationType.eTrade, "f" * 32, "0" * 64)
    mismatch = await _failure(adapter.connect(other, ConnectStep(challenge_code=verifier, state=issued.state)))
    assert mismatch.error_type is ErrorType.invalidField


async def test_the_deployments_consumer_key_and_an_access_token_in_hand(served, transport: Transport) -> None:
    sim, url = served
    key, secret = sim.demo_consumer
    settings = Settings(etrade_consumer_key=SecretStr(key), etrade_consumer_secret=SecretStr(secret))
    assert key not in repr(settings) and secret not in repr(settings)
    adapter = _adapter(url, transport, settings)
    issued = await adapter.connect(Credentials(IntegrationType.eTrade, "", ""), ConnectStep())
    assert issued.state["consumer"] == "operator" and "consumerSecret" not in issued.state
    token, token_secret = sim.issue_access_token(key, sim.demo_user)
    done = await adapter.connect(Credentials(IntegrationType.eTrade, "", "", f"{token}:{token_secret}"), ConnectStep())
    assert isinstance(done, Connected) and done.credentials.passphrase is None  # the gateway's key is not sealed
    creds = Credentials(IntegrationType.eTrade, token, token_secret, None, dict(done.accounts[0].extras))
    order_id, _ = sim.place(SimAccount(token, token_secret, extras=dict(done.accounts[0].extras)))
    ack = await adapter.cancel(creds, _ref(order_id))
    assert ack.status is OrderStatus.inProgress and sim.status(order_id) is OrderStatus.cancelled

    bare = _adapter(url, transport)
    missing = await _failure(bare.connect(Credentials(IntegrationType.eTrade, "", ""), ConnectStep()))
    assert missing.error_type is ErrorType.missingField and set(missing.error_data["fields"]) == {
        "username",
        "password",
    }
    gone = await _failure(bare.cancel(creds, _ref(order_id)))
    assert gone.error_type is ErrorType.institutionAuthFailed
    half = await _failure(adapter.connect(Credentials(IntegrationType.eTrade, key, ""), ConnectStep()))
    assert half.error_data["fields"] == {"password": "required with the other"}
    malformed = await _failure(adapter.connect(Credentials(IntegrationType.eTrade, "", "", "no-colon"), ConnectStep()))
    assert malformed.error_type is ErrorType.invalidField


async def test_an_idle_token_is_renewed_once_and_the_cancel_sent_again(served, transport: Transport) -> None:
    sim, url = served
    adapter = _adapter(url, transport)
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.idle(account.api_key)
    ack = await adapter.cancel(_creds(account), _ref(order_id))
    assert ack.status is OrderStatus.inProgress and sim.status(order_id) is OrderStatus.cancelled
    assert (sim.count(account.api_key, "renew"), sim.count(account.api_key, "cancel")) == (1, 2)
    assert sim.token_state(account.api_key) == "active"


async def test_an_expired_token_asks_to_reconnect(served, transport: Transport) -> None:
    sim, url = served
    adapter = _adapter(url, transport)
    account = sim.new_account()
    order_id, _ = sim.place(account)
    sim.expire(account.api_key)
    failed = await _failure(adapter.cancel(_creds(account), _ref(order_id)))
    assert failed.error_type is ErrorType.institutionAuthFailed and "midnight US Eastern" in failed.message
    assert failed.display_message == "Please reconnect your E*TRADE account."
    assert (sim.count(account.api_key, "renew"), sim.count(account.api_key, "cancel")) == (1, 1)
    assert sim.status(order_id) is OrderStatus.inProgress


async def test_lookup_reads_the_order_and_refusals_go_to_it(served, transport: Transport) -> None:
    sim, url = served
    adapter = _adapter(url, transport)
    account = sim.new_account()
    order_id, _ = sim.place(account, volume="4", price="12.5")
    sim.fill(order_id, "1")
    snapshot = await adapter.get_order(_creds(account), _ref(order_id))
    assert snapshot is not None
    assert (snapshot.status, snapshot.venue_status, snapshot.amount, snapshot.filled) == (
        OrderStatus.partiallyFilled,
        "OPEN",
        4.0,
        1.0,
    )
    assert (snapshot.symbol, snapshot.side.value, snapshot.price, snapshot.order_type) == ("AAPL", "buy", 12.5, "limit")
    assert snapshot.time_in_force == "goodForDay" and snapshot.created_at
    assert await adapter.get_order(_creds(account), _ref("987654321987")) is None
    for bad in ("-1", "0", "1.5", "a/b", "1?x=1", "9" * 19):
        refused = await _failure(adapter.cancel(_creds(account), _ref(bad)))
        assert refused.error_type is ErrorType.invalidField
    no_account = Credentials(IntegrationType.eTrade, account.api_key, account.secret, account.passphrase, {})
    assert (await _failure(adapter.cancel(no_account, _ref(order_id)))).error_type is ErrorType.invalidAuthToken


def test_hosts_live_sandbox_and_override() -> None:
    transport = Transport(timeout_s=1)
    live = ETradeAdapter(SPEC, "https://api.etrade.com", transport).hosts()
    sandbox = ETradeAdapter(SPEC, "https://apisb.etrade.com", transport).hosts()
    override = ETradeAdapter(SPEC, "http://127.0.0.1:9/sandbox/etrade/", transport).hosts()
    assert live == ("https://api.etrade.com", "https://api.etrade.com", "https://us.etrade.com/e/t/etws/authorize")
    assert sandbox == ("https://apisb.etrade.com", "https://api.etrade.com", "https://us.etrade.com/e/t/etws/authorize")
    base = "http://127.0.0.1:9/sandbox/etrade"
    assert override == (base, base, base + "/e/t/etws/authorize")


def test_tokens_end_at_midnight_eastern() -> None:
    eastern = ZoneInfo("America/New_York")
    assert seconds_to_eastern_midnight(datetime(2026, 3, 7, 23, 0, tzinfo=eastern)) == 3600
    # 8 March 2026 is a daylight-saving day: 23 hours from its midnight to the next
    assert seconds_to_eastern_midnight(datetime(2026, 3, 8, 0, 0, tzinfo=eastern)) == 23 * 3600


async def _failure(call) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        await call
    return caught.value
