"""HTX (Huobi) on the conformance kit, plus the answers only HTX has (order-state in a refused cancel)."""

from __future__ import annotations

from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.huobi.constants import RATE_LIMIT_WINDOW_S
from ordergate.venues.huobi.simulator import FORGET_CANCELLED_S, HuobiSimulator
from ordergate.venues.simkit import Fault, SimulatorBase
from tests.venues.kit import VenueConformance


class TestHuobi(VenueConformance):
    integration = IntegrationType.huobi
    cancel_op = "submitcancel"
    lookup_op = "order"
    # From X-HB-RateLimit-Requests-Expire: the simulator ends the window 2 s after the refusal.
    rate_limit_retry_after = str(RATE_LIMIT_WINDOW_S)
    # submitcancel "only submits the cancel request": an accepted cancel is `inProgress`.
    acknowledges_only = True
    # HTX documents neither a regional refusal nor a ban answer for the REST API.
    has_restricted_answer = False
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return HuobiSimulator()

    async def test_filled_order_is_refused_with_its_order_state_and_looked_up(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.fill(order_id)
        body = kit.expect(await kit.cancel(account, order_id, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "success"
        assert kit.sim.errors["order-orderstate-error"] >= 1
        assert (kit.sim.count(account.api_key, self.cancel_op), kit.sim.count(account.api_key, self.lookup_op)) == (
            1,
            1,
        )

    async def test_a_cancel_already_in_progress_is_acknowledged(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.inject(Fault("pending", self.cancel_op, api_key=account.api_key, seconds=60))
        first = await kit.cancel(account, order_id, extra)
        assert first.json()["content"] == {"orderId": order_id, "status": "inProgress"}
        assert kit.sim.describe(order_id)["state"] == "canceling"
        second = await kit.cancel(account, order_id, extra)  # HTX: order-state 10 (cancelling)
        assert second.json()["content"] == {"orderId": order_id, "status": "inProgress"}
        assert kit.sim.count(account.api_key, self.cancel_op) == 2 and kit.sim.count(account.api_key, "order") == 0

    async def test_an_order_cancelled_long_ago_is_409_not_404(self, kit: Any) -> None:
        # HTX forgets orders cancelled more than 2 h ago (lookup: base-record-invalid), but its cancel answer still
        # says the order existed (order-state -1). That is never "no such order".
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        kit.sim.age(order_id, FORGET_CANCELLED_S + 60)
        body = kit.expect(await kit.cancel(account, order_id, extra), 409, "orderNotCancelable")
        assert body["errorData"] == {"orderStatus": "cancelled", "orderId": order_id}
        assert "2 hours" in body["message"]

    async def test_a_filled_order_closed_long_ago_is_409_success(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.fill(order_id)
        kit.sim.age(order_id, FORGET_CANCELLED_S + 60)
        body = kit.expect(await kit.cancel(account, order_id, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "success"

    async def test_details_of_a_partly_cancelled_order(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account, volume="2", price="30000")
        kit.sim.fill(order_id, "0.5")
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        content = (await kit.details(account, order_id, extra)).json()["content"]
        assert (content["status"], content["amount"]) == ("cancelled", 0.5)
