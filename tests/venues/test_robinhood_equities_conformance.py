"""Robinhood (equities half: the app's private API, a connected login's bearer and refresh token) on the kit."""

import secrets

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.robinhood.constants import KIND_EQUITIES
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestRobinhoodEquities(VenueConformance):
    integration = IntegrationType.robinhood
    cancel_op = "equities_cancel"
    lookup_op = "equities_lookup"
    rate_limit_retry_after = "13"  # the simulator's 429 carries Retry-After: 13 (DRF-style throttle answer)
    # The cancel's 200 `{}` only says Robinhood took the request: an ack is `inProgress`.
    acknowledges_only = True
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return RobinhoodSimulator(kit_half=KIND_EQUITIES)

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        """A bearer and refresh token Robinhood never issued (a login's session has no signing secret)."""
        return SimAccount(secrets.token_urlsafe(32), secrets.token_urlsafe(24), extras=dict(account.extras))
