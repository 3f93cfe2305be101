"""The asyncio client (httpx.AsyncClient): the same calls as Client, awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from ordergate.client import _core
from ordergate.client._core import AuthResult, BatchResult, CancelOrder, CancelResult, RetryPolicy
from ordergate.client.errors import OrdergateError


class AsyncClient:
    """`AsyncClient(base_url, client_id, client_secret)`: Mesh's calls against ordergate, with its extensions.

    Every call that changes something sends an Idempotency-Key (generated, or yours) and reuses it on its retries.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        timeout: httpx.Timeout | float = _core.DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=_core.client_headers(client_id, client_secret),
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: _core.Call) -> tuple[dict[str, Any], httpx.Response]:
        attempt = 1
        while True:
            try:
                resp = await self._http.post(call.path, json=call.body, params=call.params, headers=call.headers())
                return _core.read(resp, call), resp
            except httpx.HTTPError as exc:
                error: OrdergateError = _core.transport_error(exc, call)
            except OrdergateError as exc:
                error = exc
            wait = self.retry.delay(error, attempt)
            if wait is None:
                raise error
            await asyncio.sleep(wait)
            attempt += 1

    async def authenticate(
        self,
        type: str,
        username: str | None = None,
        password: str | None = None,
        *,
        passphrase: str | None = None,
        mfa_code: str | None = None,
        user_id: str = "ordergate-client",
        idempotency_key: str | None = None,
    ) -> AuthResult:
        call = _core.auth_call(
            type,
            username,
            password,
            passphrase=passphrase,
            mfa_code=mfa_code,
            user_id=user_id,
            key=idempotency_key,
        )
        return _core.auth_result((await self._send(call))[0])

    async def cancel(
        self,
        auth_token: str,
        type: str,
        id: str,
        *,
        is_cryptocurrency: bool = True,
        side: str | None = None,
        symbol_pair: str | None = None,
        mfa_code: str | None = None,
        idempotency_key: str | None = None,
    ) -> CancelResult:
        order = CancelOrder(auth_token, type, id, is_cryptocurrency, side, symbol_pair, mfa_code)
        body, resp = await self._send(_core.cancel_call(order, idempotency_key))
        return _core.cancel_result(body, resp)

    async def cancel_batch(
        self,
        orders: Sequence[CancelOrder],
        *,
        wait_seconds: float | None = None,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        call = _core.batch_call(orders, wait_seconds, idempotency_key)
        body, resp = await self._send(call)
        return _core.batch_result(body, orders, call, resp.headers.get("x-request-id"))

    async def details(
        self, auth_token: str, type: str, id: str, *, is_cryptocurrency: bool = True, symbol_pair: str | None = None
    ) -> dict[str, Any]:
        """Mesh's B2BBrokerOrder: the order as the venue reports it now."""
        order = CancelOrder(auth_token, type, id, is_cryptocurrency, symbol_pair=symbol_pair)
        return (await self._send(_core.Call(_core.DETAILS, order.to_json(), None)))[0]["content"]

    async def cancel_all(
        self,
        auth_token: str,
        type: str,
        *,
        symbol_pair: str | None = None,
        side: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Kill switch: cancel every open order of the account (of `symbol_pair` / `side` when given). The content
        names each order touched (`results`: single-cancel envelopes with `orderId`) and lists `notCancelled`."""
        call = _core.cancel_all_call(auth_token, type, symbol_pair, side, idempotency_key)
        return (await self._send(call))[0]["content"]

    async def list_orders(
        self,
        auth_token: str,
        type: str,
        *,
        count: int | None = None,
        statuses: list[str] | None = None,
        since: int | None = None,
        cursor: str | None = None,
        symbol_pair: str | None = None,
    ) -> dict[str, Any]:
        """One page of `/transactions/list` (`{transactions, cursor, total, earliestTimestamp}`); pass the answer's
        `cursor` back, with the same other arguments, for the next page."""
        call = _core.Call(
            _core.LIST_ORDERS,
            _core.list_body(auth_token, type, count, statuses, since, cursor, symbol_pair),
            None,
            feature="list_orders",
        )
        return (await self._send(call))[0]["content"]
