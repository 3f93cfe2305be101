"""Bitstamp on the conformance kit, plus what it alone has: one "Order not found" for every final or unknown order."""

from __future__ import annotations

from typing import Any

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bitstamp.constants import RATE_LIMIT_RETRY_AFTER_S
from ordergate.venues.bitstamp.simulator import BitstampSimulator
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase
from tests.venues.kit import VenueConformance


class TestBitstamp(VenueConformance):
    integration = IntegrationType.bitstamp
    cancel_op = "cancel_order"
    lookup_op = "order_status"
    rate_limit_retry_after = str(RATE_LIMIT_RETRY_AFTER_S)  # no header is documented
    # Bitstamp's lockout is a frozen account (API0006): no end time, so no Retry-After.
    ban_retry_after = None
    list_details_may_differ = {
        "price": "order_status reports transactions, not the order's limit price",
        "orderType": "order_status does not say limit or market; open_orders does (type 0/1 with a price)",
        "value": "open_orders has no fills' prices; order_status sums its transactions",
    }

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BitstampSimulator()

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        return SimAccount(account.api_key, "x" * 32)

    async def test_filled_order_costs_one_cancel_and_one_lookup(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.fill(order_id)
        body = kit.expect(await kit.cancel(account, order_id, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "success"
        counts = kit.sim.count(account.api_key, self.cancel_op), kit.sim.count(account.api_key, self.lookup_op)
        assert counts == (1, 1)

    async def test_details_of_a_partly_filled_open_order(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account, volume="2", price="25000")
        kit.sim.fill(order_id, "0.5")
        content = (await kit.details(account, order_id, extra)).json()["content"]
        assert (content["status"], content["amount"], content["symbol"], content["paymentSymbol"]) == (
            "partiallyFilled",
            0.5,
            "BTC",
            "USD",
        )

    async def test_matching_engine_timeout_is_resolved_by_a_lookup(self, kit: Any) -> None:
        # 500.016 "Timeout on matching engine": the cancel may or may not have happened; the order is still open,
        # so one more cancel is sent.
        account, order_id, extra = kit.fault("venue_error", error="500.016")
        resp = await kit.cancel(account, order_id, extra)
        assert resp.status_code == 200, resp.text
        assert kit.sim.count(account.api_key, self.cancel_op) == 2
        assert kit.sim.status(order_id).value == "cancelled"

    async def test_an_error_inside_http_200_is_not_success(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        halt = "200:Order cancelattion failed due to trade halt."  # sic, Bitstamp's spelling
        kit.sim.inject(Fault("venue_error", self.cancel_op, api_key=account.api_key, error=halt))
        kit.expect(await kit.cancel(account, order_id, extra), 502, "institutionUnavailable")
        assert kit.sim.status(order_id).value == "inProgress"
