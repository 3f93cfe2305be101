"""CEX.IO on the conformance kit, plus what its acknowledgement-only cancel answer means for ordergate."""

from __future__ import annotations

from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.cex_io.constants import RATE_LIMIT_WINDOW_S
from ordergate.venues.cex_io.simulator import CexIoSimulator
from ordergate.venues.simkit import Fault, SimulatorBase
from tests.venues.kit import VenueConformance


class TestCexIo(VenueConformance):
    integration = IntegrationType.cexIo
    cancel_op = "do_cancel_my_order"
    lookup_op = "get_my_orders"
    acknowledges_only = True  # "acknowledgement message confirming that the cancellation request is accepted"
    rate_limit_retry_after = str(RATE_LIMIT_WINDOW_S)  # no header; served again from the next calendar minute
    # CEX.IO documents no legal/regional refusal and no lockout beyond the per-minute 429.
    has_restricted_answer = False
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return CexIoSimulator()

    async def test_unknown_and_finished_orders_never_reach_the_cancel(self, kit: Any) -> None:
        # CEX.IO would acknowledge these cancels with the same `ok` as a real one: the lookup decides instead.
        account = kit.sim.new_account()
        filled, extra = kit.sim.place(account)
        kit.sim.fill(filled)
        kit.expect(await kit.cancel(account, filled, extra), 409, "orderNotCancelable")
        kit.expect(await kit.cancel(account, "987654321", extra), 404, "orderNotFound")
        assert kit.sim.count(account.api_key, self.cancel_op) == 0

    async def test_a_cancel_still_pending_is_in_progress_then_cancelled(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.inject(Fault("pending", self.cancel_op, api_key=account.api_key, seconds=0.05))
        resp = await kit.cancel(account, order_id, extra)
        assert resp.status_code == 200, resp.text
        assert resp.json()["content"] == {"orderId": order_id, "status": "inProgress"}
        await kit.settled(order_id)
        details = (await kit.details(account, order_id, extra)).json()["content"]
        assert details["status"] == "cancelled"
