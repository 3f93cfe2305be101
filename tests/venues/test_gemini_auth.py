"""Gemini signing against the reference's Appendix A vector and ccxt; nonce sequencing under concurrency."""

from __future__ import annotations

import asyncio

import ccxt

from ordergate.venues.gemini.auth import TimeNonces, encode_payload, headers, sign
from ordergate.venues.nonces import NonceGate

# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe).
PAYLOAD = {"request": "/v1/order/cancel", "nonce": "1700000000000", "order_id": 106817811}
PAYLOAD_B64 = "eyJyZXF1ZXN0IjoiL3YxL29yZGVyL2NhbmNlbCIsIm5vbmNlIjoiMTcwMDAwMDAwMDAwMCIsIm9yZGVyX2lkIjoxMDY4MTc4MTF9"
SIGNATURE = "15f8557f8f2d02865dfb76af5751b100e799f0963b6fdd158b0267494472890709b765545b23e9ccbf5475fdbc9639cd"


def test_appendix_a_cancel_vector() -> None:
    assert encode_payload(PAYLOAD) == PAYLOAD_B64
    assert sign(PAYLOAD_B64, "SECRET") == SIGNATURE


def test_signature_matches_ccxt_for_the_same_nonce() -> None:
    exchange = ccxt.gemini({"apiKey": "account-KEY", "secret": "another secret"})
    exchange.nonce = lambda: 1700000000123
    signed = exchange.sign("v1/order/status", ["private"], "POST", {"order_id": 987654321})
    ours = encode_payload({"request": "/v1/order/status", "nonce": "1700000000123", "order_id": 987654321})
    assert signed["headers"]["X-GEMINI-PAYLOAD"] == ours
    assert signed["headers"]["X-GEMINI-SIGNATURE"] == sign(ours, "another secret")


def test_headers_carry_the_documented_names_and_no_secret() -> None:
    got = headers("account-KEY", PAYLOAD_B64, SIGNATURE)
    assert got == {
        "Content-Type": "text/plain",
        "Cache-Control": "no-cache",
        "X-GEMINI-APIKEY": "account-KEY",
        "X-GEMINI-PAYLOAD": PAYLOAD_B64,
        "X-GEMINI-SIGNATURE": SIGNATURE,
    }


async def test_one_keys_nonces_are_issued_and_used_in_order_under_concurrency() -> None:
    queue = NonceGate()
    used: list[int] = []

    async def request(i: int) -> None:
        async with queue.hold("account-A") as next_nonce:
            nonce = next_nonce()
            for _ in range(i * 7 % 5):  # a "send" of varying length: without the lock, later ones overtake
                await asyncio.sleep(0)
            used.append(nonce)

    await asyncio.gather(*(request(i) for i in range(50)))
    assert used == sorted(used) and len(set(used)) == 50


async def test_idle_keys_are_evicted_beyond_the_bound() -> None:
    queue = NonceGate(max_keys=3)
    for i in range(10):
        async with queue.hold(f"account-{i}") as next_nonce:
            next_nonce()
    assert len(queue._states) == 3


def test_time_nonces_are_milliseconds_and_unique() -> None:
    nonces = TimeNonces(clock=lambda: 1700000000.0)
    assert [nonces.next() for _ in range(3)] == [1700000000000, 1700000000001, 1700000000002]
