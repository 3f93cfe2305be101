"""Issue 11: venue redirects are never followed (a cancel answered 3xx is a definite 502, nothing reaches the
redirect target) and venue answers are capped in size, decompressed size included."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ordergate.domain.errors import ErrorType
from ordergate.domain.integrations import IntegrationType
from ordergate.venues.kraken.simulator import KrakenSimulator
from ordergate.venues.transport import ResponseTooLarge, Transport, VenueRedirected
from tests.conftest import gateway_harness
from tests.support.servers import serve_asgi


class Recorder:
    def __init__(self, answer: Response) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._answer = answer

    async def handle(self, request: Request) -> Response:
        self.seen.append((request.method, request.url.path, dict(request.headers)))
        return self._answer

    def app(self) -> Starlette:
        methods = ["GET", "POST", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.handle, methods=methods)])


@pytest.fixture
def elsewhere() -> Iterator[tuple[Recorder, str]]:
    target = Recorder(Response('{"error":[],"result":{"count":1}}', media_type="application/json"))
    with serve_asgi(target.app()) as url:
        yield target, url


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirected_cancel_is_a_definite_502_and_nothing_follows_it(
    tmp_path: Path, kraken: tuple[KrakenSimulator, str], elsewhere: tuple[Recorder, str], status: int
) -> None:
    target, target_url = elsewhere
    redirector = Recorder(Response(status_code=status, headers={"Location": f"{target_url}/0/private/CancelOrder"}))
    sim, _ = kraken
    with serve_asgi(redirector.app()) as redirect_url:
        async with gateway_harness(tmp_path, sim, redirect_url, base_urls={IntegrationType.kraken: redirect_url}) as gw:
            headers = await gw.client()
            key, secret = gw.account()
            resp = await gw.cancel(
                headers,
                authToken=gw.seal(headers, key, secret),
                type="kraken",
                id="OABCDE-FGHIJ-KLMNOP",
                isCryptocurrency=True,
            )
            row = (await gw.gateway.audit.tail(1))[0]
    assert resp.status_code == 502, resp.text
    assert resp.json()["errorType"] == ErrorType.institutionUnavailable.value
    assert "redirect" in resp.json()["message"]
    assert target.seen == []  # neither the signed request nor the API key went to the other host
    assert len(redirector.seen) == 1  # one cancel, no lookup, no second cancel
    assert row.upstream_status == status and row.upstream_requests == 1


async def test_transport_refuses_to_follow_and_never_resends(elsewhere: tuple[Recorder, str]) -> None:
    target, target_url = elsewhere
    redirector = Recorder(Response(status_code=307, headers={"Location": f"{target_url}/v2/orders/1"}))
    transport = Transport(timeout_s=2)
    with serve_asgi(redirector.app()) as url:
        try:
            with pytest.raises(VenueRedirected):
                await transport.send("DELETE", f"{url}/v2/orders/1", headers={"APCA-API-SECRET-KEY": "s3cret"})
        finally:
            await transport.close()
    assert target.seen == [] and [m for m, _, _ in redirector.seen] == ["DELETE"]


@pytest.mark.parametrize("shape", ["declared", "chunked", "gzip bomb"])
async def test_venue_answers_are_capped(shape: str) -> None:
    big = b"[" + b"0," * 300_000 + b"0]"  # 600 kB of JSON
    if shape == "gzip bomb":
        answer = Response(gzip.compress(big * 4), headers={"Content-Encoding": "gzip"}, media_type="application/json")
    elif shape == "chunked":
        from starlette.responses import StreamingResponse

        async def parts():  # no Content-Length: only counting what arrives can stop it
            for _ in range(4):
                yield big

        answer = StreamingResponse(parts(), media_type="application/json")
    else:
        answer = Response(big * 4, media_type="application/json")
    venue = Recorder(answer)
    transport = Transport(timeout_s=2, max_response_bytes=1 << 20)
    with serve_asgi(venue.app()) as url:
        try:
            with pytest.raises(ResponseTooLarge):
                await transport.send("GET", f"{url}/x")
            small = Transport(timeout_s=2, max_response_bytes=4 << 20)
            try:
                if shape != "chunked":  # a streaming answer is consumed once
                    assert len((await small.send("GET", f"{url}/x")).body) == len(big) * 4
            finally:
                await small.close()
        finally:
            await transport.close()
