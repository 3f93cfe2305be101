"""BitsoDirect on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bitso.simulator import BitsoSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestBitso(VenueConformance):
    integration = IntegrationType.bitsoDirect
    cancel_op = "cancel"
    lookup_op = "lookup"
    rate_limit_retry_after = "60"  # no header from Bitso: its documented one-minute lockout
    # Bitso documents no answer for its 24-hour block; it is not simulated.
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BitsoSimulator()
