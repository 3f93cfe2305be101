"""The venue conformance kit: every venue's test module subclasses `VenueConformance` and fills a few hooks.

Each scenario runs through the gateway's HTTP API (in-process) against the venue's simulator (a real socket) and
asserts both the Mesh answer and the simulator's ground truth. To add a venue:

    class TestMyVenue(VenueConformance):
        integration = IntegrationType.myVenue
        cancel_op = "cancel"            # the simulator's operation name for the venue's cancel request
        lookup_op = "query"             # ... and for the order lookup
        rate_limit_retry_after = "7"    # what Retry-After the gateway passes on for simkit's `rate_limit`
        ban_retry_after = "120"         # ... and for `ban`

        @classmethod
        def make_simulator(cls) -> SimulatorBase:
            return MyVenueSimulator()

The simulator implements simkit.SimulatorBase's kit API (new_account, place, fill, status, render_venue_error, and
optionally backdate for the listing's `from` scenario).
`place` returns the extra request fields the venue needs to cancel or to list the order (e.g. {"symbolPair":
"BTCUSDT"}); the kit checks that dropping each Mesh-required one gives 400 missingField naming it.

Venues in `catalog.LISTS_ORDERS` also run the `/transactions/list` scenarios (skipped elsewhere): orders placed in
succession are expected back newest first, open orders before history (the scenarios close the oldest ones, so both
orders agree), in full pages of `count` until the last. What a venue cannot do is catalog data the scenarios read:
`lists_history` False (open orders only: closed ones are not expected, and asking for closed statuses must be refused
with `listingNotSupported`), `list_required_fields` (a history listing without them is 400 missingField).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from ordergate.domain.integrations import IntegrationType
from ordergate.domain.orders import Credentials
from ordergate.venues.catalog import SPECS
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase
from tests.conftest import CANCEL, UPSTREAM_TIMEOUT_S, GatewayHarness, gateway_harness
from tests.support.servers import serve_asgi

DETAILS = "/api/v1/transactions/details"
# What `/transactions/list` and `/transactions/details` must always agree on for one order: what it is and where it
# stands. A venue may declare other fields in which its two answers legitimately differ (list_details_may_differ).
LIST_DETAILS_MUST_AGREE = frozenset(
    {"id", "status", "symbol", "paymentSymbol", "amount", "createdTimestamp", "brokerType", "assetType"}
)  # fmt: skip
LIST = "/api/v1/transactions/list"


class VenueConformance:
    integration: ClassVar[IntegrationType]
    cancel_op: ClassVar[str]
    lookup_op: ClassVar[str]
    rate_limit_retry_after: ClassVar[str | None] = None
    ban_retry_after: ClassVar[str | None] = None
    # True when the venue only acknowledges a cancel (content.status `inProgress` on the happy path).
    acknowledges_only: ClassVar[bool] = False
    # False where the venue has no documented answer for a legal/regional block (the scenario is skipped).
    has_restricted_answer: ClassVar[bool] = True
    has_ban_answer: ClassVar[bool] = True  # False where the venue documents no lockout/ban answer (scenario skipped)
    # True where the venue deletes the record of an order cancelled without fills (Coinbase Exchange): scenarios that
    # need a lookup to find the cancelled order use a partly filled one, whose record survives; the subclass tests
    # the purge itself.
    purges_cancelled_orders: ClassVar[bool] = False
    # Fields of Mesh's order that one of the venue's two answers (its order lookup, its listing) does not report,
    # each with why: there `/transactions/list` and `/transactions/details` may differ by one of them being null or
    # `unknown`, never by two different values, and never in LIST_DETAILS_MUST_AGREE.
    list_details_may_differ: ClassVar[dict[str, str]] = {}

    @classmethod
    def make_simulator(cls) -> SimulatorBase:
        raise NotImplementedError

    def wrong_secret(self, account: SimAccount) -> SimAccount:
        """The same key with a secret the venue will not accept."""
        return SimAccount(account.api_key, base64.b64encode(secrets.token_bytes(64)).decode(), account.passphrase)

    # -- fixtures --------------------------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def venue(cls) -> Iterator[tuple[SimulatorBase, str]]:
        sim = cls.make_simulator()
        with serve_asgi(sim.app) as url:
            yield sim, url

    @pytest.fixture
    async def kit(self, tmp_path: Path, venue: tuple[SimulatorBase, str]) -> AsyncIterator[_Kit]:
        sim, url = venue
        async with gateway_harness(tmp_path, sim, url, base_urls={self.integration: url}) as gw:  # type: ignore[arg-type]
            yield _Kit(self, gw, sim, await gw.client())

    # -- scenarios -------------------------------------------------------------------------------------
    async def test_cancel_open_order_with_one_upstream_request(self, kit: _Kit) -> None:
        account = kit.sim.new_account()  # never seen by the gateway before
        order_id, extra = kit.sim.place(account)
        resp = await kit.cancel(account, order_id, extra)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert (body["status"], body["errorType"]) == ("ok", "")
        expected = "inProgress" if self.acknowledges_only else "cancelled"
        assert body["content"] == {"orderId": order_id, "status": expected}
        if not self.acknowledges_only:
            assert kit.sim.status(order_id).value == "cancelled"
        assert kit.sim.count_key(account.api_key) == SPECS[self.integration].requests_per_cancel

    async def test_partially_filled_order_is_cancelled_and_details_show_the_fill(self, kit: _Kit) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account, volume="2")
        kit.sim.fill(order_id, "0.5")
        details = await kit.details(account, order_id, extra)
        assert details.status_code == 200, details.text
        assert (details.json()["content"]["status"], details.json()["content"]["amount"]) == ("partiallyFilled", 0.5)
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        after = (await kit.details(account, order_id, extra)).json()["content"]
        assert after["amount"] == 0.5
        assert after["status"] in ({"cancelled", "inProgress"} if self.acknowledges_only else {"cancelled"})

    async def test_filled_order_is_409_success(self, kit: _Kit) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.sim.fill(order_id)
        body = kit.expect(await kit.cancel(account, order_id, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "success"

    async def test_already_cancelled_order_is_409_cancelled(self, kit: _Kit) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        if self.purges_cancelled_orders:
            kit.sim.fill(order_id, "0.5")
        assert (await kit.cancel(account, order_id, extra)).status_code == 200
        await kit.settled(order_id)
        body = kit.expect(await kit.cancel(account, order_id, extra), 409, "orderNotCancelable")
        assert body["errorData"]["orderStatus"] == "cancelled"

    async def test_unknown_order_is_404_after_a_lookup(self, kit: _Kit) -> None:
        account = kit.sim.new_account()
        real_id, extra = kit.sim.place(account)
        other = kit.sim.new_account()
        foreign_id, _ = kit.sim.place(other)
        for order_id in (foreign_id, _unknown_like(real_id)):
            kit.expect(await kit.cancel(account, order_id, extra), 404, "orderNotFound")
        assert kit.sim.count(account.api_key, self.lookup_op) >= 1
        assert kit.sim.status(foreign_id).value == "inProgress"

    async def test_rejected_signature_is_institution_auth_failed(self, kit: _Kit) -> None:
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        kit.expect(await kit.cancel(self.wrong_secret(account), order_id, extra), 401, "institutionAuthFailed")
        assert kit.sim.status(order_id).value == "inProgress"

    async def test_rejected_key_is_institution_auth_failed(self, kit: _Kit) -> None:
        account, order_id, extra = kit.fault("venue_error", error="auth")
        kit.expect(await kit.cancel(account, order_id, extra), 401, "institutionAuthFailed")

    async def test_key_without_trade_permission(self, kit: _Kit) -> None:
        trader = kit.sim.new_account(can_trade=False)
        order_id, extra = kit.sim.place(trader)
        kit.expect(await kit.cancel(trader, order_id, extra), 403, "institutionPermissionDenied")
        assert kit.sim.status(order_id).value == "inProgress"

    async def test_rate_limit_is_429_with_the_venues_retry_after(self, kit: _Kit) -> None:
        account, order_id, extra = kit.fault("venue_error", error="rate_limit")
        resp = await kit.cancel(account, order_id, extra)
        kit.expect(resp, 429, "rateLimited")
        assert resp.headers.get("retry-after") == self.rate_limit_retry_after
        assert kit.sim.status(order_id).value == "inProgress"

    async def test_ban_is_423_locked(self, kit: _Kit) -> None:
        if not self.has_ban_answer:
            pytest.skip(f"{self.integration.value} documents no lockout/ban answer")
        account, order_id, extra = kit.fault("venue_error", error="ban")
        resp = await kit.cancel(account, order_id, extra)
        kit.expect(resp, 423, "institutionLocked")
        assert resp.headers.get("retry-after") == self.ban_retry_after

    async def test_restricted_location_is_451(self, kit: _Kit) -> None:
        if not self.has_restricted_answer:
            pytest.skip(f"{self.integration.value} documents no legal/regional-block answer")
        account, order_id, extra = kit.fault("venue_error", error="restricted")
        kit.expect(await kit.cancel(account, order_id, extra), 451, "institutionRestricted")

    @pytest.mark.parametrize("status", [500, 502, 503])
    async def test_venue_error_page_is_502(self, kit: _Kit, status: int) -> None:
        account, order_id, extra = kit.fault("http_error", status=status)
        kit.expect(await kit.cancel(account, order_id, extra), 502, "institutionUnavailable")
        assert kit.sim.status(order_id).value == "inProgress"

    async def test_read_timeout_after_the_venue_cancelled_is_ok(self, kit: _Kit) -> None:
        account, order_id, extra = kit.fault("delay_after", seconds=UPSTREAM_TIMEOUT_S * 2)
        if self.purges_cancelled_orders:
            kit.sim.fill(order_id, "0.5")
        resp = await kit.cancel(account, order_id, extra)
        assert resp.status_code == 200, resp.text
        assert kit.sim.status(order_id).value == "cancelled"
        assert kit.sim.count(account.api_key, self.cancel_op) == 1

    async def test_lost_answer_with_the_order_still_open_is_retried_once(self, kit: _Kit) -> None:
        account, order_id, extra = kit.fault("reset")
        resp = await kit.cancel(account, order_id, extra)
        assert resp.status_code == 200, resp.text
        assert kit.sim.count(account.api_key, self.cancel_op) == 2

    async def test_lost_answers_with_the_order_still_open_is_504(self, kit: _Kit) -> None:
        account, order_id, extra = kit.fault("reset")
        kit.sim.inject(Fault("reset", self.cancel_op, api_key=account.api_key))
        kit.expect(await kit.cancel(account, order_id, extra), 504, "cancelOutcomeUnknown")
        assert kit.sim.status(order_id).value == "inProgress"

    async def test_each_required_field_is_named_when_missing(self, kit: _Kit) -> None:
        required = {f.value for f in SPECS[self.integration].required_fields}
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        assert required <= set(extra), "place() must return every field the venue requires"
        for name in sorted(required):
            body = kit.expect(
                await kit.cancel(account, order_id, {k: v for k, v in extra.items() if k != name}), 400, "missingField"
            )
            assert set(body["errorData"]["fields"]) == {name}
        assert kit.sim.count_key(account.api_key) == 0

    async def test_concurrent_cancels_on_one_key_all_succeed(self, kit: _Kit) -> None:
        account = kit.sim.new_account()
        budget = SPECS[self.integration].key_budget
        n = min(30, budget[1]) if budget else 30  # within the venue's documented burst for one key
        placed = [kit.sim.place(account) for _ in range(n)]
        for oid, _ in placed if self.purges_cancelled_orders else ():  # a lookup after a timeout must find them
            kit.sim.fill(oid, "0.5")
        responses = await asyncio.gather(*(kit.cancel(account, oid, extra) for oid, extra in placed))
        assert [r.status_code for r in responses] == [200] * n
        assert kit.sim.count(account.api_key, self.cancel_op) == n

    # -- /transactions/list ------------------------------------------------------------------------------
    def _lists(self) -> None:
        if not SPECS[self.integration].lists_orders:
            pytest.skip(f"{self.integration.value} does not list orders (catalog.LISTS_ORDERS)")

    async def test_list_empty_account(self, kit: _Kit) -> None:
        self._lists()
        account = kit.sim.new_account()
        _, extra = kit.sim.place(kit.sim.new_account())  # the pair a venue that lists per instrument needs
        content = kit.listed(await kit.list_orders(account, extra))
        assert content == {"transactions": [], "cursor": None, "total": 0, "earliestTimestamp": 0}

    async def test_list_one_page_in_the_details_shape(self, kit: _Kit) -> None:
        self._lists()
        history = SPECS[self.integration].lists_history
        account = kit.sim.new_account()
        placed = [kit.sim.place(account, volume="2") for _ in range(3)]
        kit.sim.fill(placed[0][0])
        extra = placed[0][1]
        content = kit.listed(await kit.list_orders(account, extra))
        listed = content["transactions"]
        expected = placed if history else placed[1:]  # a venue without history lists the open ones only
        assert [t["id"] for t in listed] == [oid for oid, _ in expected][::-1]
        assert [t["status"] for t in listed] == ["inProgress", "inProgress", "success"][: len(expected)]
        assert (content["cursor"], content["total"]) == (None, len(expected))
        assert content["earliestTimestamp"] == min(t["createdTimestamp"] for t in listed) > 0
        details = (await kit.details(account, expected[0][0], extra)).json()["content"]
        # One status map and one rendering serve both endpoints: every field agrees but those the venue declares
        # one of its answers lacks (with why), and those can never be what says what the order is and where it stands.
        differ = set(self.list_details_may_differ)
        assert not differ & LIST_DETAILS_MUST_AGREE and set(listed[-1]) == set(details)
        assert {k: v for k, v in listed[-1].items() if k not in differ} == {
            k: v for k, v in details.items() if k not in differ
        }
        for name in differ:
            pair = (listed[-1][name], details[name])
            assert pair[0] == pair[1] or None in pair or "unknown" in pair, f"{name}: {pair} contradict each other"

    async def test_list_several_pages_reach_every_order_once(self, kit: _Kit) -> None:
        self._lists()
        history = SPECS[self.integration].lists_history
        account = kit.sim.new_account()
        placed = [kit.sim.place(account) for _ in range(5)]
        for oid, _ in placed[:2]:  # history: the oldest two
            kit.sim.fill(oid)
        pages, cursor = [], None
        while True:
            content = kit.listed(await kit.list_orders(account, placed[0][1], count=2, cursor=cursor))
            pages.append(content)
            cursor = content["cursor"]
            if cursor is None:
                break
            assert isinstance(cursor, str) and account.api_key not in cursor
            assert len(pages) < 10, "the cursor never ends"
        expected = placed if history else placed[2:]
        seen = [t["id"] for page in pages for t in page["transactions"]]
        open_first = [oid for oid, _ in placed[2:]][::-1]
        if history and not SPECS[self.integration].history_newest_first:
            # Open orders newest first, then the history walked forward in time: still each order exactly once.
            assert seen == open_first + [oid for oid, _ in placed[:2]]
        else:
            assert seen == [oid for oid, _ in expected][::-1]
        assert [len(p["transactions"]) for p in pages] == ([2, 2, 1] if history else [2, 1])
        assert pages[-1]["total"] == len(expected)

    async def test_list_open_only_is_one_upstream_request(self, kit: _Kit) -> None:
        self._lists()
        account = kit.sim.new_account()
        (done, extra), (partial, _), (resting, _) = [kit.sim.place(account, volume="2") for _ in range(3)]
        kit.sim.fill(done)
        kit.sim.fill(partial, "0.5")
        before = kit.sim.count_key(account.api_key)
        content = kit.listed(await kit.list_orders(account, extra, statuses=["inProgress", "partiallyFilled"]))
        assert [t["id"] for t in content["transactions"]] == [resting, partial]
        assert [t["status"] for t in content["transactions"]] == ["inProgress", "partiallyFilled"]
        assert kit.sim.count_key(account.api_key) - before == 1
        if SPECS[self.integration].lists_history:
            content = kit.listed(await kit.list_orders(account, extra, statuses=["success"]))
            assert [t["id"] for t in content["transactions"]] == [done]
            return
        # The venue keeps no history: the answer says so instead of an empty list that would read "none filled".
        before = kit.sim.count_key(account.api_key)
        refused = kit.expect(await kit.list_orders(account, extra, statuses=["success"]), 400, "listingNotSupported")
        assert set(refused["errorData"]["listable"]) == {"inProgress", "partiallyFilled"}
        assert kit.sim.count_key(account.api_key) == before

    async def test_list_names_each_required_field_when_missing(self, kit: _Kit) -> None:
        self._lists()
        required = {f.value for f in SPECS[self.integration].list_required_fields}
        if not required:
            pytest.skip(f"{self.integration.value} lists its history without extra fields")
        account = kit.sim.new_account()
        order_id, extra = kit.sim.place(account)
        assert required <= set(extra), "place() must return every field the venue's listing requires"
        for name in sorted(required):
            resp = await kit.gw.http.post(
                LIST, json={k: v for k, v in kit.list_body(account, extra).items() if k != name}, headers=kit.headers
            )
            assert set(kit.expect(resp, 400, "missingField")["errorData"]["fields"]) == {name}
        assert kit.sim.count_key(account.api_key) == 0
        # Open orders are listed without them.
        body = {k: v for k, v in kit.list_body(account, extra, statuses=["inProgress"]).items() if k not in required}
        listed = kit.listed(await kit.gw.http.post(LIST, json=body, headers=kit.headers))
        assert [t["id"] for t in listed["transactions"]] == [order_id]

    async def test_list_from(self, kit: _Kit) -> None:
        self._lists()
        account = kit.sim.new_account()
        (old, extra), (new, _) = kit.sim.place(account), kit.sim.place(account)
        future = int(time.time()) + 10 * 86_400
        assert kit.listed(await kit.list_orders(account, extra, **{"from": future}))["transactions"] == []
        assert {t["id"] for t in kit.listed(await kit.list_orders(account, extra, **{"from": 0}))["transactions"]} == {
            old,
            new,
        }
        try:
            kit.sim.backdate(old, 7200)
        except NotImplementedError:
            return  # the simulator cannot age an order; the bounds above still had to hold
        recent = kit.listed(await kit.list_orders(account, extra, **{"from": int(time.time()) - 3600}))
        assert [t["id"] for t in recent["transactions"]] == [new]

    async def test_list_cursor_refused_with_another_accounts_token(self, kit: _Kit) -> None:
        self._lists()
        owner, other = kit.sim.new_account(), kit.sim.new_account()
        placed = [kit.sim.place(owner) for _ in range(3)]
        extra = placed[0][1]
        cursor = kit.listed(await kit.list_orders(owner, extra, count=1))["cursor"]
        assert isinstance(cursor, str)
        refused = kit.expect(await kit.list_orders(other, extra, count=1, cursor=cursor), 400, "invalidField")
        assert set(refused["errorData"]["fields"]) == {"cursor"}
        assert kit.sim.count_key(other.api_key) == 0
        other_query = kit.expect(await kit.list_orders(owner, extra, count=2, cursor=cursor), 400, "invalidField")
        assert set(other_query["errorData"]["fields"]) == {"cursor"}
        client_id = kit.headers["X-Client-Id"]
        challenge = kit.gw.gateway.sealer.seal_state(client_id, self.integration, {"v": 1, "n": 0, "c": {}})
        kit.expect(await kit.list_orders(owner, extra, count=1, cursor=challenge), 400, "invalidField")
        second = await kit.gw.client()
        stranger = await kit.gw.http.post(
            LIST, json=kit.list_body(owner, extra, count=1, cursor=cursor), headers=second
        )
        assert kit.expect(stranger, 400, "invalidField")["errorData"]["fields"].keys() == {"cursor"}
        assert kit.listed(await kit.list_orders(owner, extra, count=1, cursor=cursor))["transactions"]


class _Kit:
    def __init__(self, case: VenueConformance, gw: GatewayHarness, sim: SimulatorBase, headers: dict[str, str]):
        self.case, self.gw, self.sim, self.headers = case, gw, sim, headers

    def token(self, account: SimAccount) -> str:
        creds = Credentials(self.case.integration, account.api_key, account.secret, account.passphrase, account.extras)
        return self.gw.gateway.sealer.seal(self.headers["X-Client-Id"], creds)

    def _body(self, account: SimAccount, order_id: str, extra: dict[str, Any]) -> dict[str, Any]:
        return {
            "authToken": self.token(account),
            "type": self.case.integration.value,
            "id": order_id,
            "isCryptocurrency": True,
            **extra,
        }

    async def cancel(self, account: SimAccount, order_id: str, extra: dict[str, Any]) -> httpx.Response:
        return await self.gw.http.post(CANCEL, json=self._body(account, order_id, extra), headers=self.headers)

    def list_body(self, account: SimAccount, extra: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Mesh's list request; a venue's symbolPair (from place()) is passed on for venues that list per pair."""
        pair = {"symbolPair": extra["symbolPair"]} if "symbolPair" in extra else {}
        return {"authToken": self.token(account), "type": self.case.integration.value, **pair, **fields}

    async def list_orders(self, account: SimAccount, extra: dict[str, Any], **fields: Any) -> httpx.Response:
        return await self.gw.http.post(LIST, json=self.list_body(account, extra, **fields), headers=self.headers)

    @staticmethod
    def listed(resp: httpx.Response) -> dict[str, Any]:
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert (body["status"], body["errorType"]) == ("ok", ""), body
        assert set(body["content"]) == {"transactions", "cursor", "total", "earliestTimestamp"}
        return body["content"]

    async def details(self, account: SimAccount, order_id: str, extra: dict[str, Any]) -> httpx.Response:
        return await self.gw.http.post(DETAILS, json=self._body(account, order_id, extra), headers=self.headers)

    def fault(self, kind: str, **options: Any) -> tuple[SimAccount, str, dict[str, Any]]:
        """A fresh account with an open order and one fault queued on its next cancel request."""
        account = self.sim.new_account()
        order_id, extra = self.sim.place(account)
        self.sim.inject(Fault(kind, self.case.cancel_op, api_key=account.api_key, **options))  # type: ignore[arg-type]
        return account, order_id, extra

    async def settled(self, order_id: str) -> None:
        """Venues that only acknowledge finish the cancel shortly after; wait for the simulator to show it."""
        for _ in range(200):
            if self.sim.status(order_id).value == "cancelled":
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"order {order_id} never became cancelled")

    @staticmethod
    def expect(resp: httpx.Response, http: int, error_type: str) -> dict[str, Any]:
        assert resp.status_code == http, resp.text
        body = resp.json()
        assert body["errorType"] == error_type, body
        assert body["status"] != "ok" and body["content"] is None and body["message"]
        return body


def _unknown_like(order_id: str) -> str:
    """An id of the venue's shape that it never issued: the first character (a venue's prefix, such as Kraken's
    `O`) kept, every other one swapped for another of its class (digit, hex letter, other letter), case kept.

    Digits become 7s (3s for a 7). A numeric id must stay a signed 64-bit integer, as every numeric venue's id is
    one: where 7s would leave that range (a 19-digit id starting with 9), digits become 1s (2s for a 1) instead."""
    for digit, spare in (("7", "3"), ("1", "2")):
        swapped = order_id[:1] + "".join(_swap(c, digit, spare) for c in order_id[1:])
        if not swapped.isdigit() or int(swapped) < 2**63:
            break
    return swapped if swapped != order_id else order_id[:-1] + ("3" if order_id[-1:] != "3" else "7")


def _swap(c: str, digit: str, spare: str) -> str:
    if c.isdigit():
        return digit if c != digit else spare
    if c.lower() in "abcdef":
        other = "e" if c.lower() != "e" else "d"
        return other.upper() if c.isupper() else other
    if c.isalpha():
        other = "q" if c.lower() != "q" else "r"
        return other.upper() if c.isupper() else other
    return c
