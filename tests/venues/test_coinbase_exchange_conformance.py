"""Coinbase Exchange (Mesh `coinbasePro`) on the conformance kit, plus the purge it alone has."""

from __future__ import annotations

from typing import Any

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.coinbase_exchange.constants import RATE_LIMIT_RETRY_AFTER_S
from ordergate.venues.coinbase_exchange.simulator import CoinbaseExchangeSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.conftest import UPSTREAM_TIMEOUT_S
from tests.venues.kit import VenueConformance


class TestCoinbaseExchange(VenueConformance):
    integration = IntegrationType.coinbasePro
    cancel_op = "DeleteOrder"
    lookup_op = "GetOrder"
    rate_limit_retry_after = str(RATE_LIMIT_RETRY_AFTER_S)  # no header is documented: one token refills in 1/15 s
    # Coinbase deletes orders cancelled without fills; kit scenarios whose lookup must find one use a partly filled one.
    purges_cancelled_orders = True
    # Coinbase Exchange documents no legal/regional refusal, and no lockout or ban: excess requests are a 429.
    has_restricted_answer = False
    has_ban_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return CoinbaseExchangeSimulator()

    async def test_repeated_cancel_of_a_purged_order_is_404_not_found(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        assert kit.sim.describe(order_id)["purged"] is True
        body = kit.expect(await kit.cancel(account, order_id, extra), 404, "orderNotFound")
        assert body["errorData"] == {"orderId": order_id}
        assert "cancelled without any fill" in body["message"]  # the client learns why there is no record
        # The cancel said NotFound, so the order was looked up before answering.
        counts = kit.sim.count(account.api_key, self.cancel_op), kit.sim.count(account.api_key, self.lookup_op)
        assert counts == (2, 1)

    @pytest.mark.parametrize(
        "fault", [{"kind": "delay_after", "seconds": UPSTREAM_TIMEOUT_S * 2}, {"kind": "http_error", "process": True}]
    )
    async def test_lost_or_failed_answer_for_an_order_our_cancel_purged_is_504(self, kit: Any, fault: Any) -> None:
        # Coinbase no longer shows the order: our cancel most likely removed it, but "never placed" looks the same.
        # Neither ok, nor 404 ("no such order"), nor 502 ("did not take effect") would be true; 504 says so.
        account, order_id, extra = kit.fault(**fault)
        kit.expect(await kit.cancel(account, order_id, extra), 504, "cancelOutcomeUnknown")
        assert kit.sim.status(order_id).value == "cancelled"
        assert kit.sim.count(account.api_key, self.cancel_op) == 1

    async def test_details_of_a_purged_order_is_404(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        kit.expect(await kit.details(account, order_id, extra), 404, "orderNotFound")

    async def test_cancel_without_symbol_pair_works_too(self, kit: Any) -> None:
        account = kit.sim.new_account()
        order_id, _ = kit.sim.place(account)
        resp = await kit.cancel(account, order_id, {})
        assert resp.json()["content"] == {"orderId": order_id, "status": "cancelled"}

    async def test_wrong_symbol_pair_leaves_the_order_open(self, kit: Any) -> None:
        # Coinbase looks the order up in the named product's book only; the lookup finds it open, one retry is made.
        account = kit.sim.new_account()
        order_id, _ = kit.sim.place(account)
        kit.expect(await kit.cancel(account, order_id, {"symbolPair": "ETH-USD"}), 502, "institutionUnavailable")
        assert kit.sim.status(order_id).value == "inProgress"
        assert kit.sim.count(account.api_key, self.cancel_op) == 2
