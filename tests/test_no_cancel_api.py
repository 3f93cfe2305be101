"""Integrations without a public cancel API get a definite, typed answer decided from the type alone."""

from __future__ import annotations

import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.venues.catalog import NO_CANCEL_API, SPECS
from tests.conftest import CANCEL, GatewayHarness

AUTHENTICATE = "/api/v1/authenticate"
NO_API = sorted(NO_CANCEL_API, key=lambda t: t.value)


def test_the_five_integrations_without_a_cancel_api_are_data() -> None:
    assert {t.value for t in NO_API} == {"stash", "vanguard", "acorns", "robinhoodConnect", "tdAmeritrade"}
    assert all(not SPECS[t].cancel_supported and SPECS[t].no_cancel_api for t in NO_API)
    assert "Schwab" in SPECS[IntegrationType.tdAmeritrade].no_cancel_api


@pytest.mark.parametrize("integration", NO_API, ids=lambda t: t.value)
async def test_cancel_details_and_authenticate_say_why(gw: GatewayHarness, integration: IntegrationType) -> None:
    headers = await gw.client()
    total_before = gw.sim.total_requests
    # A token that would not open: the answer must not depend on it.
    order = {"authToken": "not-a-token", "type": integration.value, "id": "123", "isCryptocurrency": False}
    for path, body in (
        (CANCEL, order),
        ("/api/v1/transactions/details", order),
        (AUTHENTICATE + "?userId=user-1", {"type": integration.value, "username": "u", "password": "p"}),
    ):
        resp = await gw.http.post(path, json=body, headers=headers)
        assert resp.status_code == 400, resp.text
        envelope = resp.json()
        assert envelope["errorType"] == "cancelNotSupported"
        assert envelope["displayMessage"] == SPECS[integration].no_cancel_api
        assert envelope["errorData"] == {"type": integration.value}
    assert gw.sim.total_requests == total_before
