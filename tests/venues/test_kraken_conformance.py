"""Kraken and KrakenDirect on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestKraken(VenueConformance):
    integration = IntegrationType.kraken
    cancel_op = "CancelOrder"
    lookup_op = "QueryOrders"
    rate_limit_retry_after = "5"  # Kraken sends no header: the documented decay time
    ban_retry_after = "900"  # "Temporary lockout" lasts about 15 minutes

    # Kraken documents no error for a geo-blocked account; its edge's answer is unknown, so not simulated.
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return KrakenSimulator()


class TestKrakenDirect(TestKraken):
    integration = IntegrationType.krakenDirect
