"""bitFlyer on the conformance kit.

bitFlyer's cancel answers 200 whatever the order's state, so the adapter reads the order before (cancels only an
ACTIVE one) and after (CANCELED → `cancelled`, still ACTIVE → `inProgress`): three requests on the happy path.
"""

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.bitflyer.constants import ORDER_ID_SHAPE, ORDERING_LIMITED_S
from ordergate.venues.bitflyer.simulator import SYMBOLIC_PERIOD_S, BitflyerSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.venues.kit import VenueConformance, _Kit


class TestBitflyer(VenueConformance):
    integration = IntegrationType.bitFlyer
    cancel_op = "cancelchildorder"
    lookup_op = "getchildorders"
    rate_limit_retry_after = str(SYMBOLIC_PERIOD_S)  # x-ratelimit-period: the seconds left in bitFlyer's window
    ban_retry_after = str(ORDERING_LIMITED_S)  # -508 "ordering has been limited": the documented one-hour penalty
    has_restricted_answer = False  # bitFlyer documents no legal/regional refusal of its own

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return BitflyerSimulator()

    async def test_unknown_order_is_404_after_a_lookup(self, kit: _Kit) -> None:
        # The kit's made-up id swaps letters too, which breaks bitFlyer's JRF/JOR prefix: that id is refused with 400
        # before any request (test_unknown_shapes_are_refused_before_sending). Same scenario, a JRF id never issued.
        account = kit.sim.new_account()
        real_id, extra = kit.sim.place(account)
        foreign_id, _ = kit.sim.place(kit.sim.new_account())
        never = real_id[:-6] + ("000000" if real_id[-6:] != "000000" else "000001")
        for order_id in (foreign_id, never, "JOR" + never[3:]):
            kit.expect(await kit.cancel(account, order_id, extra), 404, "orderNotFound")
        assert kit.sim.count(account.api_key, self.lookup_op) >= 1
        assert kit.sim.count(account.api_key, self.cancel_op) == 0
        assert kit.sim.status(foreign_id).value == "inProgress"

    async def test_unknown_shapes_are_refused_before_sending(self, kit: _Kit) -> None:
        account = kit.sim.new_account()
        real_id, extra = kit.sim.place(account)
        swapped = "QQQ" + real_id[3:]
        for order_id in (swapped, "-1", "..", "a/b", "1?x=1", "%2e%2e", real_id + "\n", real_id + "#x", "J" * 10_000):
            body = kit.expect(await kit.cancel(account, order_id, extra), 400, "invalidField")
            assert list(body["errorData"]["fields"]) == ["id"], order_id
        assert kit.sim.count_key(account.api_key) == 0
        assert ORDER_ID_SHAPE[1].startswith("JRF")
