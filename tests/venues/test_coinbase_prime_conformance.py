"""Coinbase Prime on the conformance kit."""

from __future__ import annotations

import secrets
from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.coinbase_prime.constants import RATE_LIMIT_RETRY_AFTER_S
from ordergate.venues.coinbase_prime.simulator import CoinbasePrimeSimulator
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestCoinbasePrime(VenueConformance):
    integration = IntegrationType.coinbasePrime
    cancel_op = "CancelOrder"
    lookup_op = "GetOrder"
    rate_limit_retry_after = str(RATE_LIMIT_RETRY_AFTER_S)  # the documented 30 s wait after a 429
    # Prime's cancel answer `{"id": …}` is an acknowledgement: the order is routed to several venues.
    acknowledges_only = True
    # Coinbase Prime documents no legal/regional refusal, and no lockout: too many requests are a 429 and a 30 s wait.
    has_restricted_answer = False
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return CoinbasePrimeSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        # Prime's secret is used as raw text, so any other text is a wrong one.
        return SimAccount(account.api_key, secrets.token_urlsafe(48), account.passphrase, account.extras)

    async def test_cancel_settles_later_and_details_follow(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.inject(Fault("pending", self.cancel_op, api_key=account.api_key, seconds=0.05))
        resp = await kit.cancel(account, order_id, extra)
        assert resp.json()["content"] == {"orderId": order_id, "status": "inProgress"}
        await kit.settled(order_id)
        assert (await kit.details(account, order_id, extra)).json()["content"]["status"] == "cancelled"
