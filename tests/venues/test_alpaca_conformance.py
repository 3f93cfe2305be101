"""Alpaca on the conformance kit."""

from collections.abc import Iterator

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.alpaca.simulator import SYMBOLIC_RESET_S, AlpacaSimulator
from ordergate.venues.simkit import SimulatorBase
from tests.support.servers import serve_asgi
from tests.venues.kit import VenueConformance


class TestAlpaca(VenueConformance):
    integration = IntegrationType.alpaca
    cancel_op = "cancel"
    lookup_op = "get"
    # A 204 is Alpaca's "accepted"; the GET that follows reports cancelled (or inProgress while pending_cancel).
    # Alpaca's 429 says when its window resets (X-Ratelimit-Reset, read against its Date header).
    rate_limit_retry_after = str(SYMBOLIC_RESET_S)
    # Alpaca documents no lockout/ban and no legal/regional block on the Trading API; refusals are 403 40310000.
    has_ban_answer = False
    has_restricted_answer = False

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        return AlpacaSimulator()

    # The simulator stamps its own Date (Reset is measured against it); uvicorn's would be a second, stale one.
    @pytest.fixture(scope="class")
    @classmethod
    def venue(cls) -> Iterator[tuple[SimulatorBase, str]]:
        sim = cls.make_simulator()
        with serve_asgi(sim.app, date_header=False) as url:
            yield sim, url
