"""BtcTurkDirect on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.btcturk.simulator import BtcTurkSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestBtcTurk(VenueConformance):
    integration = IntegrationType.btcTurkDirect
    cancel_op = "cancel"
    lookup_op = "lookup"
    rate_limit_retry_after = "55"  # BtcTurk's own Retry-After header (its documented example)
    # BtcTurk confirms only receipt of a cancel (finalised over WebSocket), so an ack is `inProgress`.
    acknowledges_only = True
    # BtcTurk documents no ban and no regional-block answer; neither is simulated.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BtcTurkSimulator()
