"""Gate.io on the conformance kit: one signed DELETE per cancel, `symbolPair` required (BTC_USDT)."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.gate_io.simulator import RATE_LIMIT_RESET_S, GateIoSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestGateIo(VenueConformance):
    integration = IntegrationType.gateIo
    cancel_op = "cancel"
    lookup_op = "get"
    # X-Gate-RateLimit-Reset-Timestamp, measured against Gate's X-Out-Time (both from the simulator's clock).
    rate_limit_retry_after = str(RATE_LIMIT_RESET_S)
    ban_retry_after = None  # ACCOUNT_LOCKED "Account is locked" names no time to come back
    has_restricted_answer = False  # Gate documents no label for a legal or regional block

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return GateIoSimulator()
