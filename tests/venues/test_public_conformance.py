"""Public.com on the conformance kit."""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.public.simulator import SYMBOLIC_RETRY_AFTER_S, PublicSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestPublic(VenueConformance):
    integration = IntegrationType.public
    cancel_op = "cancel"
    lookup_op = "get"
    # Public's DELETE answers "cancellation request submitted": the order is cancelled asynchronously.
    acknowledges_only = True
    rate_limit_retry_after = str(SYMBOLIC_RETRY_AFTER_S)
    # Public documents neither a lockout nor a legal/regional block on its API.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return PublicSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        """The same account (its id is in the token) with an API secret Public never issued."""
        wrong = super().wrong_secret(account)
        return SimAccount(wrong.api_key, wrong.secret, wrong.passphrase, dict(account.extras))
