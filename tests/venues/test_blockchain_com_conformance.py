"""Blockchain.com on the conformance kit."""

import secrets

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.blockchain_com.simulator import BlockchainComSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestBlockchainCom(VenueConformance):
    integration = IntegrationType.blockchainCom
    cancel_op = "cancel"
    lookup_op = "lookup"
    rate_limit_retry_after = "1"  # no Retry-After from Blockchain.com: the adapter's documented fallback
    # The DELETE answers 200 with no order state: only an acknowledgement.
    acknowledges_only = True
    # Blockchain.com documents no ban and no regional-block answer; neither is simulated.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BlockchainComSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        return SimAccount(account.api_key, secrets.token_hex(32))
