"""Gemini on the conformance kit, plus what its cancel answer alone does (already-cancelled orders succeed)."""

from __future__ import annotations

from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.gemini.constants import NONCE_TIME, RATE_LIMIT_RETRY_AFTER_S
from ordergate.venues.gemini.simulator import GeminiSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance


class TestGemini(VenueConformance):
    integration = IntegrationType.gemini
    cancel_op = "CancelOrder"
    lookup_op = "OrderStatus"
    rate_limit_retry_after = str(RATE_LIMIT_RETRY_AFTER_S)  # no header documented: 10 requests/s free up fast
    # Gemini documents no legal/regional refusal and no lockout: excess requests are a 429.
    has_restricted_answer = False
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return GeminiSimulator()

    async def test_already_cancelled_order_is_409_cancelled(self, kit: Any) -> None:
        # Gemini answers a repeated cancel of an order the account cancelled exactly like the first one ("the
        # message will succeed but have no effect"), so that is `ok`/cancelled (true, and confirmed by Gemini).
        # An order Gemini cancelled itself carries its own reason: that proves it was cancelled before, hence 409.
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        again = await kit.cancel(account, order_id, extra)
        assert again.status_code == 200, again.text
        assert again.json()["content"] == {"orderId": order_id, "status": "cancelled"}

        auto, _ = kit.sim.place(account)
        kit.sim.exchange_cancel(auto, "ImmediateOrCancelWouldPost")
        body = kit.expect(await kit.cancel(account, auto, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "cancelled"
        assert "ImmediateOrCancelWouldPost" in body["message"]
        assert kit.sim.count(account.api_key, self.lookup_op) == 0  # the cancel answer said it all

    async def test_time_based_nonce_key_cancels(self, kit: Any) -> None:
        account = kit.sim.new_account(nonce_kind=NONCE_TIME)
        order_id, extra = kit.sim.place(account)
        resp = await kit.cancel(account, order_id, extra)
        assert resp.status_code == 200, resp.text
        assert kit.sim.status(order_id).value == "cancelled"

    async def test_a_session_key_used_elsewhere_with_higher_nonces_is_auth_failed(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim._accounts[account.api_key].last_nonce = 10**19  # another program ran the key's nonce far ahead
        body = kit.expect(await kit.cancel(account, order_id, extra), 401, "institutionAuthFailed")
        assert "separate API key" in body["message"]
        assert kit.sim.status(order_id).value == "inProgress"
