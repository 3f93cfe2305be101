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
    # The acknowledgement is followed by a lookup (see the adapter): an order the engine has already cancelled is
    # reported `cancelled`; one still PENDING_CANCEL is `inProgress` (test below).
    rate_limit_retry_after = str(RATE_LIMIT_WINDOW_S)  # no header; served again from the next calendar minute
    # CEX.IO documents no legal/regional refusal and no lockout beyond the per-minute 429.
    has_restricted_answer = False
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return CexIoSimulator()

    async def test_already_cancelled_order_is_409_cancelled(self, kit: Any) -> None:
        # CEX.IO acknowledges a repeated cancel like the first one; the lookup that follows tells "cancelled well
        # before this request" (409) from "cancelled moments ago, perhaps by this very request" (ok/cancelled).
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        again = await kit.cancel(account, order_id, extra)
        assert again.status_code == 200, again.text
        assert again.json()["content"] == {"orderId": order_id, "status": "cancelled"}

        earlier, _ = kit.sim.place(account)
        assert (await kit.cancel(account, earlier, extra)).status_code == 200
        kit.sim.age(earlier, seconds=120)  # cancelled two minutes ago, by the account or in CEX.IO's web terminal
        body = kit.expect(await kit.cancel(account, earlier, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "cancelled"

    async def test_unknown_and_finished_orders_are_refused_after_the_acknowledgement(self, kit: Any) -> None:
        # CEX.IO acknowledges these cancels with the same `ok` as a real one and refuses them later, over its
        # WebSocket; the lookup after the acknowledgement is what decides.
        account = kit.sim.new_account()
        filled, extra = kit.sim.place(account)
        kit.sim.fill(filled)
        before = len(kit.sim.cancel_rejects)
        kit.expect(await kit.cancel(account, filled, extra), 409, "orderNotCancelable")
        kit.expect(await kit.cancel(account, "987654321", extra), 404, "orderNotFound")
        reasons = [r["cancelRejectReason"] for r in kit.sim.cancel_rejects[before:]]
        assert reasons == ["too_late_to_cancel", "unknown_order"]

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
