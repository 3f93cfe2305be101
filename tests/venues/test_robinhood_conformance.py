"""Robinhood (crypto half: the Crypto Trading API) on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.robinhood.simulator import RobinhoodSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestRobinhoodCrypto(VenueConformance):
    integration = IntegrationType.robinhood
    cancel_op = "cancel"
    lookup_op = "lookup"
    rate_limit_retry_after = "13"  # the simulator's 429 carries Retry-After: 13 (DRF-style throttle answer)
    # The cancel's 200 only says "Cancel request was submitted": an ack is `inProgress`.
    acknowledges_only = True
    # Robinhood documents no ban and no regional-block answer for this API; neither is simulated.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return RobinhoodSimulator()
