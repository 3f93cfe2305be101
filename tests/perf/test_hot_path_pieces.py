"""Pieces of the lean cancel path (issue 16) that must say exactly what the slower code they replaced said."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ordergate import jsonfast, observability, tokens
from ordergate.domain.errors import GatewayError
from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.tokens import InvalidToken, TokenSealer, generate_key_spec, parse_token_keys
from ordergate.venues.bybit import auth as bybit_auth
from ordergate.venues.common import form_encode, keyed_mac, mac
from ordergate.venues.kraken import adapter as kraken_adapter
from ordergate.venues.kraken import auth as kraken_auth


@given(st.lists(st.tuples(st.sampled_from(["nonce", "txid", "otp", "a b"]), st.text(max_size=30)), max_size=4))
def test_form_encode_is_urlencode_byte_for_byte(fields: list[tuple[str, str]]) -> None:
    assert form_encode(fields) == urlencode(fields).encode()


def test_form_encode_takes_the_direct_path_for_order_ids() -> None:
    fields = [("nonce", "1733300000000000"), ("txid", "OQCLML-BW3P3-BUCMWZ")]
    assert form_encode(fields) == b"nonce=1733300000000000&txid=OQCLML-BW3P3-BUCMWZ"


class _CountingAead:
    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.decrypts = 0

    def encrypt(self, *args: object) -> bytes:
        return self.inner.encrypt(*args)  # type: ignore[attr-defined,no-any-return]

    def decrypt(self, *args: object) -> bytes:
        self.decrypts += 1
        return self.inner.decrypt(*args)  # type: ignore[attr-defined,no-any-return]


def _sealer() -> tuple[TokenSealer, _CountingAead]:
    sealer = TokenSealer(parse_token_keys(generate_key_spec("k1")))
    counting = sealer._keys["k1"] = _CountingAead(sealer._keys["k1"])  # type: ignore[assignment]
    return sealer, counting


def _creds() -> Credentials:
    return Credentials(IntegrationType.kraken, "key", "c2VjcmV0")


def test_an_opened_token_is_not_decrypted_again_while_cached() -> None:
    sealer, aead = _sealer()
    token = sealer.seal("client-a", _creds())
    first = sealer.open("client-a", IntegrationType.kraken, token)
    assert sealer.open("client-a", IntegrationType.kraken, token) is first
    assert aead.decrypts == 1


def test_the_cache_never_opens_a_token_for_another_client_type_or_spelling() -> None:
    sealer, _ = _sealer()
    token = sealer.seal("client-a", _creds())
    sealer.open("client-a", IntegrationType.kraken, token)
    with pytest.raises(InvalidToken):
        sealer.open("client-b", IntegrationType.kraken, token)
    with pytest.raises(InvalidToken):
        sealer.open("client-a", IntegrationType.krakenDirect, token)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(InvalidToken):
        sealer.open("client-a", IntegrationType.kraken, tampered)
    # Failures are not cached: the same wrong request fails the same way again.
    with pytest.raises(InvalidToken):
        sealer.open("client-b", IntegrationType.kraken, token)


def test_cached_tokens_expire_and_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    sealer, aead = _sealer()
    now = [1000.0]
    monkeypatch.setattr(tokens.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(tokens, "_OPENED_MAX", 10)
    token = sealer.seal("client-a", _creds())
    sealer.open("client-a", IntegrationType.kraken, token)
    now[0] += tokens._OPENED_TTL_S + 1
    sealer.open("client-a", IntegrationType.kraken, token)
    assert aead.decrypts == 2  # expired, opened again
    for i in range(50):
        sealer.open(f"client-{i}", IntegrationType.kraken, sealer.seal(f"client-{i}", _creds()))
        assert len(sealer._opened) <= 10


def test_counted_upstream_latencies_land_in_the_buckets_prometheus_would_use() -> None:
    from prometheus_client import generate_latest

    venue = "testVenueBuckets"
    for seconds in (0.005, 0.0051, 0.01, 0.3, 10.0, 11.0):
        observability.observe_upstream(venue, "200", seconds)
    observability.flush_metrics()
    text = generate_latest().decode()

    def bucket(le: str) -> float:
        found = re.search(
            rf'ordergate_upstream_request_seconds_bucket{{le="{re.escape(le)}",outcome="200",venue="{venue}"}} (\S+)',
            text,
        )
        assert found is not None, le
        return float(found.group(1))

    # Cumulative, with `le` inclusive as in prometheus_client's own observe().
    assert [bucket(le) for le in ("0.005", "0.01", "0.25", "0.5", "10.0", "+Inf")] == [1, 3, 3, 4, 5, 6]
    count = re.search(rf'ordergate_upstream_request_seconds_count{{outcome="200",venue="{venue}"}} (\S+)', text)
    assert count is not None and float(count.group(1)) == 6


def test_in_flight_and_request_counts_reach_the_metrics() -> None:
    from prometheus_client import generate_latest

    gauge = observability.in_flight("testEndpoint")
    gauge.inc()
    gauge.inc()
    gauge.dec()
    observability.count_request("testEndpoint", 200, "", "kraken")
    observability.flush_metrics()
    text = generate_latest().decode()
    assert 'ordergate_in_flight_requests{endpoint="testEndpoint"} 1.0' in text
    assert (
        'ordergate_requests_total{endpoint="testEndpoint",error_type="",http_status="200",venue="kraken"} 1.0' in text
    )


# --- round 4 ---------------------------------------------------------------------------------------------------

_JSON_TEXT = st.one_of(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=8,
    ).map(lambda v: json.dumps(v, separators=(",", ":"))),
    st.text(alphabet=' \t\n{}[]":,0123456789abtrufnl\\', max_size=20),
)


def _outcome(fn: Callable[[Any], Any], arg: Any) -> tuple[str, Any]:
    try:
        return "value", fn(arg)
    except Exception as exc:  # noqa: BLE001 - the kind and text of the error are what is compared
        return type(exc).__name__, str(exc)


@given(_JSON_TEXT, st.sampled_from(["", " ", "\n", "x", "{}"]), st.sampled_from(["", " ", "\t"]))
def test_fast_loads_answers_and_fails_exactly_as_the_decoder_does(text: str, after: str, before: str) -> None:
    decoder = json.JSONDecoder(object_pairs_hook=lambda pairs: ("pairs", pairs))
    text = before + text + after
    assert _outcome(jsonfast.fast_loads(decoder), text) == _outcome(decoder.decode, text)


@given(st.one_of(_JSON_TEXT.map(str.encode), st.binary(max_size=12)))
def test_loads_bytes_is_json_loads(body: bytes) -> None:
    assert _outcome(jsonfast.loads_bytes, body) == _outcome(json.loads, body)


def test_loads_bytes_keeps_json_loads_encoding_detection() -> None:
    for body in ('{"a":1}'.encode("utf-16-le"), b"\xef\xbb\xbf" + b'{"a":1}', '{"a":"\u00e9"}'.encode()):
        assert jsonfast.loads_bytes(body) == json.loads(body)


@given(st.binary(max_size=200), st.binary(max_size=300), st.sampled_from(["sha256", "sha512"]))
def test_a_keyed_mac_signs_as_hmac_digest_does(key: bytes, message: bytes, digest: str) -> None:
    keyed = keyed_mac(key, digest)
    assert mac(keyed, message) == hmac.digest(key, message, digest)
    assert mac(keyed, message + b"x") == hmac.digest(key, message + b"x", digest)  # the context is not consumed


def test_kraken_and_bybit_signatures_are_what_the_plain_recipes_give() -> None:
    secret = base64.b64encode(bytes(range(64))).decode()
    body = b"nonce=1733300000000000&txid=OQCLML-BW3P3-BUCMWZ"
    digest = hashlib.sha256(b"1733300000000000" + body).digest()
    plain = base64.b64encode(
        hmac.new(base64.b64decode(secret), b"/0/private/CancelOrder" + digest, hashlib.sha512).digest()
    )
    assert kraken_auth.sign("/0/private/CancelOrder", body, 1733300000000000, secret) == plain.decode()
    plain_bybit = hmac.new(b"s3cret", b"1700000000000KEY5000" + b"{}", hashlib.sha256).hexdigest()
    assert bybit_auth.sign("s3cret", 1700000000000, "KEY", 5000, b"{}") == plain_bybit
    assert bybit_auth.sign(bybit_auth.signing_mac("s3cret"), 1700000000000, "KEY", 5000, b"{}") == plain_bybit


@given(st.text(alphabet=st.sampled_from(list("-0123456789,\nOQ٣²a ")), max_size=8))
def test_kraken_multi_order_id_check_is_the_regex_it_replaced(order_id: str) -> None:
    refused = re.compile(r"^-?\d+$|,")
    try:
        kraken_adapter._require_single_order_id(order_id)
        accepted = True
    except GatewayError:
        accepted = False
    assert accepted == (bool(order_id) and refused.search(order_id) is None)


def test_none_is_still_stored_as_null_with_the_audit_adapter_registered() -> None:
    import ordergate.store.audit_sqlite  # noqa: F401 - registers the adapter

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a, b)")
    conn.execute("INSERT INTO t VALUES (?, ?)", (None, "x"))
    assert conn.execute("SELECT a IS NULL, typeof(a), b FROM t").fetchall() == [(1, "null", "x")]


def test_request_ids_are_128_random_bits_and_a_forked_child_draws_its_own() -> None:
    from ordergate.api import attempt

    ids = {attempt.new_request_id() for _ in range(1000)}  # crosses several refills of the pool
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first id must not be the parent's next one
        os.write(write, attempt.new_request_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child != attempt.new_request_id()


@given(st.text(max_size=12), st.text(max_size=24))
def test_bybit_cancel_body_is_json_dumps_byte_for_byte(symbol: str, order_id: str) -> None:
    from ordergate.venues.bybit.adapter import cancel_body

    expected = json.dumps({"category": "spot", "symbol": symbol, "orderId": order_id}, separators=(",", ":"))
    assert cancel_body(symbol, order_id) == expected.encode()
