"""OKX and OkCoin (OKX's v5 protocol at OKX US, where Okcoin's accounts moved) on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.okx.simulator import OkxSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestOkx(VenueConformance):
    integration = IntegrationType.okx
    cancel_op = "cancel-order"
    lookup_op = "order"
    rate_limit_retry_after = "2"  # OKX sends no header; its limits count per 2-second window
    ban_retry_after = None  # 50100 "API frozen, please contact customer service": OKX names no time to come back
    # sCode "0" only means OKX accepted the cancel request; the order state is the proof (docs, "Cancel order").
    acknowledges_only = True

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return OkxSimulator()


class TestOkCoin(TestOkx):
    integration = IntegrationType.okCoin
