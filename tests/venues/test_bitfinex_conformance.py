"""Bitfinex and BitfinexDirect on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bitfinex.simulator import BitfinexSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestBitfinex(VenueConformance):
    integration = IntegrationType.bitfinex
    cancel_op = "cancel"
    lookup_op = "orders"
    rate_limit_retry_after = "60"  # no header from Bitfinex: the documented 10-60 s block, at its longest
    # Bitfinex only submits a cancel ("waiting for confirmation"), so an ack is `inProgress`.
    acknowledges_only = True
    # Bitfinex documents no lockout/ban and no regional-block answer; neither is simulated.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BitfinexSimulator()


class TestBitfinexDirect(TestBitfinex):
    integration = IntegrationType.bitfinexDirect
