"""Bitfinex signing against the reference's golden vector and both independent clients; nonce order per key."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime

import bfxapi.rest._interface.middleware as bfx_middleware
import ccxt
import pytest

from ordergate.venues.bitfinex.adapter import compact
from ordergate.venues.bitfinex.auth import sign, signed_headers
from ordergate.venues.nonces import NonceGate

CANCEL = "/v2/auth/w/order/cancel"
# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe): key KEY, secret SECRET.
APPENDIX_A = "61aac31645ff597bc3511f2ada910fb2df67e422adeeb19b129ace411779e1837e5f371e296729cae88796c40aa7b127"


def test_appendix_a_vector_from_the_adapter_body() -> None:
    body = compact({"id": 123456789})
    assert body == b'{"id":123456789}'
    assert sign("SECRET", CANCEL, 1700000000000, body) == APPENDIX_A


def test_ccxt_signs_the_same_request_identically() -> None:
    exchange = ccxt.bitfinex({"apiKey": "KEY", "secret": "SECRET"})
    exchange.incrementing_nonce = lambda: 1700000000000
    signed = exchange.sign("auth/w/order/cancel", ["private"], "POST", {"id": 123456789})
    assert signed["body"] == '{"id":123456789}'
    ours = signed_headers("KEY", "SECRET", CANCEL, 1700000000000, signed["body"].encode())
    assert {k: v for k, v in signed["headers"].items() if k != "Content-Type"} == {
        k: v for k, v in ours.items() if k != "Content-Type"
    }


def test_the_official_sdk_signs_the_same_request_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):  # noqa: ANN001, ANN206 - datetime's own signature
            return datetime.fromtimestamp(1700000000.123456, tz)

    monkeypatch.setattr(bfx_middleware, "datetime", Frozen)
    middleware = bfx_middleware.Middleware("http://unused/v2", "KEY", "SECRET")
    body = '{"id": 123456789}'  # the SDK's json.dumps spacing: the signature covers whatever bytes are sent
    theirs = middleware._Middleware__get_authentication_headers("auth/w/order/cancel", body)
    assert theirs["bfx-nonce"] == "1700000000123456"  # microseconds, like ordergate's nonces
    ours = signed_headers("KEY", "SECRET", CANCEL, 1700000000123456, body.encode())
    assert theirs == {k: v for k, v in ours.items() if k != "Content-Type"}


def test_an_empty_body_signs_path_and_nonce_only() -> None:
    # The SDK leaves the body out of the message when there is none; an empty body is the same bytes.
    assert sign("S", "/v2/auth/r/orders", 5, b"") == sign("S", "/v2/auth/r/orders", "5", b"")


async def test_nonces_are_issued_and_used_in_order_under_concurrency() -> None:
    gate = NonceGate()
    used: list[int] = []

    async def request(i: int) -> None:
        async with gate.hold("key-A") as next_nonce:
            nonce = next_nonce()
            for _ in range(i * 7 % 5):  # a varying "send": without the lock later requests would overtake
                await asyncio.sleep(0)
            used.append(nonce)

    await asyncio.gather(*(request(i) for i in range(300)))
    assert len(used) == 300 and all(a < b for a, b in itertools.pairwise(used))


async def test_nonces_increase_when_the_clock_stalls_or_goes_back_and_keys_are_independent() -> None:
    ticks = iter([1_000, 1_000, 999, 2_000, 7])
    gate = NonceGate(clock=lambda: next(ticks))
    issued = []
    for _ in range(4):
        async with gate.hold("key-A") as next_nonce:
            issued.append(next_nonce())
    assert issued == [1_000, 1_001, 1_002, 2_000]
    async with gate.hold("key-B") as other:
        assert other() == 7


async def test_the_table_is_bounded() -> None:
    gate = NonceGate(max_keys=2)
    for name in ("k1", "k2", "k3", "k4"):
        async with gate.hold(name) as next_nonce:
            next_nonce()
    assert len(gate) == 2
