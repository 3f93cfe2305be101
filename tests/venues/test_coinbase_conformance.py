"""Coinbase Advanced Trade on the conformance kit, once per way of authenticating: CDP keys (JWT per request; EC
keys here, Ed25519 keys take the same path and are covered by the adapter, oracle, wire and authenticate tests) and
OAuth access tokens."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.coinbase.simulator import CoinbaseSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestCoinbaseEs256(VenueConformance):
    integration = IntegrationType.coinbase
    cancel_op = "batch_cancel"
    lookup_op = "get_order"
    # Coinbase sends no Retry-After; x-ratelimit-reset names the next whole second of its per-second bucket.
    rate_limit_retry_after = "1"
    # batch_cancel's success means "the cancel request was submitted successfully": an acknowledgement.
    acknowledges_only = True
    # Advanced Trade documents neither a key lockout nor a legal/regional-block answer for its REST API.
    has_ban_answer = False
    has_restricted_answer = False
    kind = "ec"

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return CoinbaseSimulator(default_kind=cls.kind)


class TestCoinbaseOAuth(TestCoinbaseEs256):
    kind = "oauth"

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        """An access token Coinbase never issued (or has revoked)."""
        return SimAccount(account.api_key, "revoked-" + account.secret, extras=account.extras)
