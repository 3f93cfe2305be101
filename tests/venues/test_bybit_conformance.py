"""Bybit and BybitDirect on the conformance kit (bybitDirectMobile is the same adapter; test_bybit_adapter.py
checks that the registry routes it there).

The kit's cancels carry what `place()` returns ({"symbolPair": "BTCUSDT"}), so its happy path is Bybit's
one-request cancel; the two-request path without symbolPair is in test_bybit_adapter.py.
"""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bybit.simulator import RATE_LIMIT_RESET_MS, BybitSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestBybit(VenueConformance):
    integration = IntegrationType.bybit
    cancel_op = "cancel"
    lookup_op = "realtime"
    rate_limit_retry_after = str(RATE_LIMIT_RESET_MS // 1000)  # from X-Bapi-Limit-Reset-Timestamp
    ban_retry_after = "600"  # retCode 10009 "IP has been banned.": Bybit's documented 10-minute IP block
    # Bybit only accepts a cancel ("order creation/cancellation is asynchronous"), so an ack is `inProgress`.
    acknowledges_only = True

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BybitSimulator()


class TestBybitDirect(TestBybit):
    integration = IntegrationType.bybitDirect
