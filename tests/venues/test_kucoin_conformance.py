"""KuCoin (classic and high-frequency accounts) and KuCoinDirect on the conformance kit."""

import uuid

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.kucoin.simulator import KucoinSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestKuCoin(VenueConformance):
    """Classic accounts: `DELETE /api/v1/orders/{orderId}`, no symbol."""

    integration = IntegrationType.kuCoin
    cancel_op = "cancel_order"
    lookup_op = "get_order"
    rate_limit_retry_after = "13"  # the injected 429000 carries gw-ratelimit-reset: 12345 (milliseconds)
    ban_retry_after = None  # 411100 "User are frozen" names no duration, so no Retry-After is invented
    # KuCoin's cancel endpoints "only send cancellation requests"; the order's state is known from a lookup.
    acknowledges_only = True

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return KucoinSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        # KuCoin secrets are UUID-shaped text; the account kind stays what the token would say.
        return SimAccount(account.api_key, str(uuid.uuid4()), account.passphrase, account.extras)


class TestKuCoinHf(TestKuCoin):
    """High-frequency ("Pro") accounts: `DELETE /api/v1/hf/orders/{orderId}?symbol=`; `place` hands the kit the
    symbolPair, and the adapter asks for it (400 missingField) only because the token says HF."""

    cancel_op = "cancel_hf_order"
    lookup_op = "get_hf_order"

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return KucoinSimulator(hf_accounts=True)


class TestKuCoinDirect(TestKuCoin):
    integration = IntegrationType.kuCoinDirect
