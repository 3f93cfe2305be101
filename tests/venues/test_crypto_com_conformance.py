"""Crypto.com Exchange v1 (Mesh `cryptoCom`) on the conformance kit.

The cancel needs no extra field, so every kit cancel is Crypto.com's one-request cancel by order_id.
"""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.crypto_com.simulator import CryptoComSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestCryptoCom(VenueConformance):
    integration = IntegrationType.cryptoCom
    cancel_op = "private/cancel-order"
    lookup_op = "private/get-order-detail"
    # 42901 TOO_MANY_REQUESTS carries no header; the documented cancel window is 100 ms, rounded up to a second.
    rate_limit_retry_after = "1"
    # 202 ACCOUNT_IS_SUSPENDED is Crypto.com's only lockout answer and has no documented duration.
    ban_retry_after = None
    # "This call is asynchronous, so the response is simply a confirmation of the request."
    acknowledges_only = True
    has_restricted_answer = False  # no regional/legal block answer is documented

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return CryptoComSimulator()
