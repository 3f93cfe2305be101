"""E*TRADE on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.etrade.constants import RATE_LIMIT_DEFAULT_S
from ordergate.venues.etrade.simulator import ETradeSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestETrade(VenueConformance):
    integration = IntegrationType.eTrade
    cancel_op = "cancel"
    lookup_op = "get"
    # CancelOrderResponse (message 5011 "being processed") only acknowledges.
    acknowledges_only = True
    # E*TRADE publishes no v1 rate limit or Retry-After, so a 429 waits the adapter's cautious minute.
    rate_limit_retry_after = str(RATE_LIMIT_DEFAULT_S)
    # No lockout or legal/regional block is documented for the v1 API.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return ETradeSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        """The access token with another token's secret: E*TRADE sees a bad signature for a known token."""
        return SimAccount(account.api_key, ETradeSimulator().new_account().secret, account.passphrase, account.extras)
