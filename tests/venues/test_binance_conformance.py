"""Binance.US, Binance and Binance (Direct) on the conformance kit."""

import secrets
import string

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.binance.simulator import BinanceSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestBinanceInternational(VenueConformance):
    integration = IntegrationType.binanceInternational
    cancel_op = "cancel"
    lookup_op = "query"
    rate_limit_retry_after = "30"  # the simulator's 429 Retry-After header, passed on as sent
    ban_retry_after = "120"  # the 418 Retry-After header; Binance's shortest IP ban is 2 minutes

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BinanceSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        # Binance secrets are 64 letters and digits, used as text.
        alphabet = string.ascii_letters + string.digits
        return SimAccount(account.api_key, "".join(secrets.choice(alphabet) for _ in range(64)))


class TestBinanceInternationalDirect(TestBinanceInternational):
    integration = IntegrationType.binanceInternationalDirect


class TestBinanceUs(TestBinanceInternational):
    integration = IntegrationType.binanceUs
