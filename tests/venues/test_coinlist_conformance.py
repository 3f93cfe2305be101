"""CoinList on the conformance kit, plus what its asynchronous cancel and its error shapes add."""

from __future__ import annotations

from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.coinlist.constants import RATE_LIMIT_RETRY_AFTER_S
from ordergate.venues.coinlist.simulator import CoinlistSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestCoinlist(VenueConformance):
    integration = IntegrationType.coinlist
    cancel_op = "CancelOrder"
    lookup_op = "GetOrder"
    rate_limit_retry_after = str(RATE_LIMIT_RETRY_AFTER_S)  # no Retry-After is documented
    acknowledges_only = True  # "Cancel order request received.": effected in the next auction
    # CoinList documents no legal/regional refusal and no ban answer for its API.
    has_restricted_answer = False
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return CoinlistSimulator()

    async def test_a_cancel_still_settling_is_in_progress_and_then_cancelled(self, kit: Any) -> None:
        account, order_id, extra = kit.fault("pending", seconds=0.05)
        resp = await kit.cancel(account, order_id, extra)
        assert resp.json()["content"] == {"orderId": order_id, "status": "inProgress"}
        await kit.settled(order_id)
        details = (await kit.details(account, order_id, extra)).json()["content"]
        assert details["status"] == "cancelled"

    async def test_bad_status_for_a_filled_order_is_looked_up_once(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.fill(order_id)
        body = kit.expect(await kit.cancel(account, order_id, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "success"
        assert (kit.sim.count(account.api_key, self.cancel_op), kit.sim.count(account.api_key, self.lookup_op)) == (
            1,
            1,
        )
        assert kit.sim.errors["ORDER_REJECT_BAD_STATUS"] >= 1

    async def test_frozen_order_is_502_and_stays_open(self, kit: Any) -> None:
        account, order_id, extra = kit.fault("venue_error", error="ORDER_REJECT_FROZEN_ORDER")
        kit.expect(await kit.cancel(account, order_id, extra), 502, "institutionUnavailable")
        assert kit.sim.status(order_id).value == "inProgress"

    async def test_maintenance_is_502(self, kit: Any) -> None:
        account, order_id, extra = kit.fault("venue_error", error="DENIED_MAINTENANCE")
        kit.expect(await kit.cancel(account, order_id, extra), 502, "institutionUnavailable")
