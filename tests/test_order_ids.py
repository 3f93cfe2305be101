"""Every venue declares the shape of its order ids (constants.ORDER_ID_SHAPE) and the gateway refuses any other id
with 400 before a token is opened or a request is built: ids go into URL paths and bodies, and some venues read
special ids as "every order" (Kraken: an integer is a userref; Interactive Brokers: -1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ordergate.domain.orders import Credentials
from ordergate.venues.catalog import SPECS
from ordergate.venues.kraken.simulator import KrakenSimulator
from tests.conftest import CANCEL, gateway_harness
from tests.support.servers import serve_asgi

HOSTILE_IDS = ["-1", "", "..", "../x", "a/b", "1?x=1", "%2e%2e", "1#x", "1\r\nX-Injected: 1", "1\n", "7" * 10_240]
VENUE_TYPES = sorted((s.type for s in SPECS.values() if s.cancel_supported), key=lambda t: t.value)


class _Recorder:
    """Stands where every venue would be: any request that reaches it is a failure of the check."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        self.seen.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 500, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[_Recorder, str]]:
    rec = _Recorder()
    with serve_asgi(rec) as url:
        yield rec, url


def test_every_venue_with_an_adapter_declares_its_order_id_shape() -> None:
    for spec in SPECS.values():
        if spec.cancel_supported:
            assert spec.order_id is not None, spec.type
            assert spec.order_id.admits(spec.order_id.example), spec.type
            for hostile in HOSTILE_IDS:
                assert not spec.order_id.admits(hostile), (spec.type, hostile)


@pytest.mark.parametrize("integration", VENUE_TYPES, ids=lambda t: t.value)
async def test_hostile_order_ids_never_reach_the_venue(
    tmp_path: Path, recorder: tuple[_Recorder, str], integration
) -> None:
    rec, url = recorder
    before = len(rec.seen)
    async with gateway_harness(tmp_path, KrakenSimulator(), url, base_urls={t: url for t in VENUE_TYPES}) as gw:
        headers = await gw.client()
        token = gw.gateway.sealer.seal(
            headers["X-Client-Id"], Credentials(integration, "key-1", "c2VjcmV0", "pass", {})
        )
        for path in (CANCEL, "/api/v1/transactions/details"):
            for order_id in HOSTILE_IDS:
                body = {
                    "authToken": token,
                    "type": integration.value,
                    "id": order_id,
                    "isCryptocurrency": True,
                    "symbolPair": "BTC_USDT",
                }
                resp = await gw.http.post(
                    path, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"}
                )
                assert resp.status_code == 400, (order_id, resp.text)
                envelope = resp.json()
                assert envelope["status"] == "badRequest"
                assert "id" in envelope["errorData"]["fields"], envelope
    assert rec.seen[before:] == []
