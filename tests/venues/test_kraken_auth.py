"""Kraken signing against published and independently computed vectors; nonce ordering under concurrency."""

from __future__ import annotations

import asyncio
import base64
import itertools

import krakenex
import pytest
from kraken.spot import User

from ordergate.venues.kraken.adapter import build_body
from ordergate.venues.kraken.auth import NonceGate, sign

B64S = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()

# Kraken's own documented example (docs.kraken.com, "Authentication"), also in crypto-venues.md §Kraken.
KRAKEN_DOC_SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
KRAKEN_DOC_BODY = b"nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
KRAKEN_DOC_SIGN = "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="

# crypto-venues.md Appendix A (ccxt 4.5.90 with a frozen clock, recomputed from the recipe).
APPENDIX_A = [
    (
        1700000000000,
        None,
        b"nonce=1700000000000&txid=OABCDE-FGHIJ-KLMNOP",
        "vF6fbGw9cnhmlAb0AIDnti3u8CrwS4vue5KciY7lcEuA/S77XVqZqxVXquKcYU5yLs15Qlv9ScHO1fAtDrqiqA==",
    ),
    (
        1700000000001,
        "123456",
        b"nonce=1700000000001&txid=OABCDE-FGHIJ-KLMNOP&otp=123456",
        "GX3jeAVnHVwCMDMPQ+wDYm7OiLgm2Kx1ao31Rfi2xB8PjZgEkafLaENhpulEOTHarpEFLngrOMn0oRuJ5b5FnA==",
    ),
]


def test_kraken_documented_add_order_example() -> None:
    assert sign("/0/private/AddOrder", KRAKEN_DOC_BODY, 1616492376594, KRAKEN_DOC_SECRET) == KRAKEN_DOC_SIGN


@pytest.mark.parametrize(("nonce", "otp", "body", "expected"), APPENDIX_A)
def test_appendix_a_cancel_vectors_from_the_adapter_body(
    nonce: int, otp: str | None, body: bytes, expected: str
) -> None:
    built = build_body(nonce, [("txid", "OABCDE-FGHIJ-KLMNOP")], otp)
    assert built == body
    assert sign("/0/private/CancelOrder", built, nonce, B64S) == expected


def test_signature_matches_both_independent_sdks() -> None:
    # Neither SDK shares code with ordergate; both sign what they send, so equality pins the recipe.
    data = {"nonce": 1700000000002, "txid": "OABCDE-FGHIJ-KLMNOP", "otp": "12 34&5"}
    body = build_body(data["nonce"], [("txid", data["txid"])], data["otp"])
    ours = sign("/0/private/CancelOrder", body, data["nonce"], B64S)
    assert ours == krakenex.API("key", B64S)._sign(dict(data), "/0/private/CancelOrder")
    sdk = User(key="key", secret=B64S)
    assert ours == sdk._get_kraken_signature("/0/private/CancelOrder", body.decode(), data["nonce"])


def test_sign_rejects_a_secret_that_is_not_base64() -> None:
    with pytest.raises(ValueError):
        sign("/0/private/Balance", b"nonce=1", 1, "not base64!")


async def test_nonces_are_issued_and_used_in_order_under_concurrency() -> None:
    gate = NonceGate()
    used: list[int] = []

    async def request(i: int) -> None:
        async with gate.hold("key-A") as next_nonce:
            nonce = next_nonce()
            # The "send" takes a varying number of loop turns, so without the lock later requests would
            # overtake earlier ones.
            for _ in range(i * 7 % 5):
                await asyncio.sleep(0)
            used.append(nonce)

    await asyncio.gather(*(request(i) for i in range(500)))
    assert len(used) == 500
    assert all(a < b for a, b in itertools.pairwise(used))


async def test_nonces_increase_even_when_the_clock_stalls_or_goes_back() -> None:
    ticks = iter([1_000, 1_000, 999, 5, 2_000])
    gate = NonceGate(clock=lambda: next(ticks))
    issued = []
    for _ in range(5):
        async with gate.hold("key-A") as next_nonce:
            issued.append(next_nonce())
    assert issued == [1_000, 1_001, 1_002, 1_003, 2_000]


async def test_keys_are_independent() -> None:
    gate = NonceGate(clock=lambda: 7)
    async with gate.hold("key-A") as a, gate.hold("key-B") as b:
        assert (a(), b()) == (7, 7)


async def test_table_is_bounded_but_never_evicts_a_key_in_use() -> None:
    gate = NonceGate(max_keys=2)
    release = asyncio.Event()
    entered: list[str] = []

    async def hold(name: str, wait: bool) -> None:
        async with gate.hold(name):
            entered.append(name)
            if wait:
                await release.wait()

    first = asyncio.create_task(hold("busy", wait=True))
    await asyncio.sleep(0)
    for name in ("k1", "k2", "k3", "k4"):
        await hold(name, wait=False)
    assert len(gate) <= 3  # two idle keys plus the one in use

    second = asyncio.create_task(hold("busy", wait=False))
    for _ in range(5):
        await asyncio.sleep(0)
    # Had "busy" been evicted, the second holder would have got a fresh lock and entered already.
    assert entered.count("busy") == 1
    release.set()
    await asyncio.gather(first, second)
    assert entered.count("busy") == 2
    assert len(gate) <= 2
