"""Webull (OpenAPI) on the conformance kit.

The kit's order ids are client order ids (what Webull cancels by), so its happy path is Webull's one-request cancel;
cancelling by Webull's own order_id (cancel, open-orders read, cancel again) is in test_webull_adapter.py.
"""

import secrets

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.simkit import SimAccount, SimulatorBase
from ordergate.venues.webull.constants import RATE_WINDOW_S
from ordergate.venues.webull.simulator import WebullSimulator
from tests.venues.kit import VenueConformance


class TestWebull(VenueConformance):
    integration = IntegrationType.weBull
    cancel_op = "cancel"
    lookup_op = "detail"
    rate_limit_retry_after = str(RATE_WINDOW_S)  # Webull sends no Retry-After; its cancel limits are per second
    ban_retry_after = None
    # Webull only accepts a cancel; the order reads CANCELLED once its engine has acted.
    acknowledges_only = True
    has_ban_answer = False  # Webull documents no lockout
    has_restricted_answer = False  # nor a regional block (an IP allow-list miss is a 401 UNAUTHORIZED)

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return WebullSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        # The token keeps its account id (sealed at /authenticate); only the secret is wrong.
        return SimAccount(account.api_key, secrets.token_hex(16), None, dict(account.extras))
