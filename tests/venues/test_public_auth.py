"""Public's token exchange against its documentation: the request of public.com/api/docs "Get an access token"
(`{"validityInMinutes": 60, "secret": "YOUR_SECRET_KEY"}`), and the spec's documented error bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.venues.public.auth import TokenUnavailable, bearer, exchange_secret, token_request
from ordergate.venues.public.constants import RATE_LIMIT_WAIT_S
from ordergate.venues.transport import Transport
from tests.support.servers import serve_asgi

# spec.yaml, CreateAccessToken responses (examples "Invalid secret" and "Too many requests…").
INVALID_SECRET = {"errorCode": "user_api_auth.personal.invalid_secret", "message": "Invalid secret"}
TOO_MANY = {
    "errorCode": "user_api_auth.personal.too_many_requests",
    "message": "Too many requests. Please wait for a few minutes and try again.",
}


def test_the_request_is_the_documented_one() -> None:
    headers, body = token_request("YOUR_SECRET_KEY")
    assert json.loads(body) == {"validityInMinutes": 60, "secret": "YOUR_SECRET_KEY"}
    assert headers["Content-Type"] == "application/json" and "Authorization" not in headers
    assert bearer("YOUR_ACCESS_TOKEN")["Authorization"] == "Bearer YOUR_ACCESS_TOKEN"


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    transport = Transport(timeout_s=2.0)
    await transport.start()
    yield transport
    await transport.close()


def _answering(status: int, body: object, headers: dict[str, str] | None = None) -> Starlette:
    async def token(_request: Request) -> Response:
        if isinstance(body, bytes):
            return Response(body, status, headers)
        return JSONResponse(body, status, headers)

    return Starlette(routes=[Route("/userapiauthservice/personal/access-tokens", token, methods=["POST"])])


async def test_documented_answers(transport: Transport) -> None:
    with serve_asgi(_answering(200, {"accessToken": "eyJ.a.b"})) as url:
        assert await exchange_secret(transport, url, "YOUR_SECRET_KEY") == "eyJ.a.b"
    with serve_asgi(_answering(401, INVALID_SECRET)) as url:
        with pytest.raises(GatewayError) as caught:
            await exchange_secret(transport, url, "YOUR_SECRET_KEY")
        assert caught.value.error_type is ErrorType.institutionAuthFailed
        assert "YOUR_SECRET_KEY" not in caught.value.message
    with serve_asgi(_answering(429, TOO_MANY)) as url:
        with pytest.raises(GatewayError) as caught:
            await exchange_secret(transport, url, "YOUR_SECRET_KEY")
        assert (caught.value.error_type, caught.value.retry_after) == (ErrorType.rateLimited, RATE_LIMIT_WAIT_S)
    with serve_asgi(_answering(429, TOO_MANY, {"Retry-After": "42"})) as url:
        with pytest.raises(GatewayError) as caught:
            await exchange_secret(transport, url, "YOUR_SECRET_KEY")
        assert caught.value.retry_after == 42


@pytest.mark.parametrize(("status", "body"), [(502, b"<html>bad gateway</html>"), (200, b'{"accessTok')])
async def test_an_unusable_answer_means_nothing_was_sent(transport: Transport, status: int, body: bytes) -> None:
    # The request the token was for never left: the cancel service must not look for a cancel that never happened.
    with serve_asgi(_answering(status, body)) as url, pytest.raises(TokenUnavailable):
        await exchange_secret(transport, url, "YOUR_SECRET_KEY")


@pytest.mark.parametrize("secret", ["", "abc", "with space", "line\nbreak"])
async def test_secrets_public_cannot_have_issued_are_refused_unsent(transport: Transport, secret: str) -> None:
    with pytest.raises(GatewayError) as caught:
        await exchange_secret(transport, "http://127.0.0.1:9", secret)
    assert caught.value.error_type is ErrorType.institutionAuthFailed
    assert transport.requests_sent == 0
