"""Interactive Brokers (Client Portal Gateway) on the conformance kit."""

from __future__ import annotations

import secrets

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.ibkr.constants import PENALTY_BOX_S
from ordergate.venues.ibkr.simulator import GATEWAY, IbkrSimulator
from ordergate.venues.simkit import SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance, _Kit


class TestIbkr(VenueConformance):
    integration = IntegrationType.interactiveBrokers
    cancel_op = "cancel"
    lookup_op = "status"
    acknowledges_only = True  # "Request was submitted"
    # No Retry-After on IBKR's 429: the penalty box lasts 10 minutes.
    rate_limit_retry_after = str(PENALTY_BOX_S)
    # The penalty box is IBKR's only lockout, and it is the 429 above; no legal/regional answer is documented.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return IbkrSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        # No secret exists: the token's only credential is the account id, so "wrong" is an account the
        # gateway's login does not hold.
        other = "DU" + str(1_000_000 + secrets.randbelow(9_000_000))
        return SimAccount(other, "", extras={"account": other})

    async def test_unknown_order_is_404_after_a_lookup(self, kit: _Kit) -> None:
        # The kit's scenario, counted where IBKR can count it: the status lookup names no account (it is the
        # gateway's), so the simulator counts it under GATEWAY rather than under the token's account.
        account = kit.sim.new_account()
        real_id, extra = kit.sim.place(account)
        foreign_id, _ = kit.sim.place(kit.sim.new_account())
        before = kit.sim.count(GATEWAY, self.lookup_op)
        for order_id in (foreign_id, str(int(real_id) + 7919)):
            kit.expect(await kit.cancel(account, order_id, extra), 404, "orderNotFound")
        assert kit.sim.count(GATEWAY, self.lookup_op) - before == 2
        assert kit.sim.status(foreign_id).value == "inProgress"
