"""OKX v5 REST: cancel one order, look one order up, verify a key (also used for Mesh's `okCoin`).

OKX answers most failures with HTTP 200 and a non-zero `code`; a cancel that fails carries `code: "1"` and the
reason in `data[].sCode`. So the body decides, per item, and the HTTP status only matters when the body is not
an OKX answer. An accepted cancel (`sCode: "0"`) is reported as `inProgress`: OKX documents that it "only means
that your cancellation request has been accepted", the order state being the proof.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from enum import Enum
from typing import Any
from urllib.parse import urlencode

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderPage, OrderQuery
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.okx.auth import signed_headers
from ordergate.venues.okx.constants import (
    CANCEL_BATCH_MAX,
    CANCEL_BATCH_PATH,
    CANCEL_PATH,
    ERROR_MAP,
    HISTORY_PATH,
    LIST_INST_TYPE,
    LIST_LIMIT_MAX,
    LIVE_STATES,
    ORDER_PATH,
    ORDER_TYPE_MAP,
    PENDING_PATH,
    RATE_LIMIT_WINDOW_S,
    RETRY_AFTER_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.okx.symbols import split_inst_id, to_inst_id
from ordergate.venues.transport import OutcomeUnknown

# OKX order ids are decimal numbers and client order ids alphanumerics; anything else cannot name an order, and
# keeping ids to these characters means the signed query string is exactly what goes on the wire.
_ORDER_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")
_REGIONAL = re.compile(r"country|region|laws and regulations|jurisdiction", re.I)


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


def cancel_body(inst_id: str, ord_id: str) -> bytes:
    """The JSON sent (and signed) for a cancel: compact, instId first, as OKX's own example."""
    return json.dumps({"instId": inst_id, "ordId": ord_id}, separators=(",", ":")).encode()


def lookup_path(inst_id: str, ord_id: str) -> str:
    return ORDER_PATH + "?" + urlencode([("instId", inst_id), ("ordId", ord_id)])


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("okx", api_key)


def cancel_batch_body(orders: Sequence[tuple[str, str]]) -> bytes:
    return json.dumps([{"instId": i, "ordId": o} for i, o in orders], separators=(",", ":")).encode()


class OkxAdapter(Adapter):
    max_batch = CANCEL_BATCH_MAX

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # OKX keys have no one-time codes; an mfaCode sent along is simply not used.
        _, data = await self._call(creds, "GET", VERIFY_PATH, b"", _Op.verify)
        config = data[0] if data and isinstance(data[0], dict) else {}
        uid = str(config.get("uid") or "")
        return AccountInfo(
            account_id=f"okx-{uid}" if uid.isdigit() else account_fingerprint(creds.api_key),
            account_name=self.spec.name,
        )

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        inst_id = _checked(order)
        status, data = await self._call(creds, "POST", CANCEL_PATH, cancel_body(inst_id, order.id), _Op.cancel)
        item = data[0] if data and isinstance(data[0], dict) else None
        if item is None or str(item.get("sCode")) != "0":
            raise GatewayError(
                ErrorType.institutionUnavailable, "OKX's cancel answer has no result", upstream_status=status
            )
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def cancel_batch(self, creds: Credentials, orders: Sequence[OrderRef]) -> list[CancelAck | Exception]:
        """One cancel-batch-orders; each `data` item is read as the single cancel reads its one item."""
        self._require_passphrase(creds, _Op.cancel)
        body = cancel_batch_body([(_checked(order), order.id) for order in orders])
        resp, data, payload = await self._send(creds, "POST", CANCEL_BATCH_PATH, body)
        code = str(payload["code"])
        items = [d for d in data if isinstance(d, dict)]
        if code not in ("0", "1", "2") or len(items) != len(orders):
            # A request-level refusal (auth, rate limit, parameters) or an unreadable answer: as for one order.
            if code != "0":
                raise _venue_failure(_Op.cancel, resp, code, str(payload.get("msg") or ""), creds)
            raise _http_failure(resp.status, resp.headers)
        if resp.status >= 400:
            raise _http_failure(resp.status, resp.headers)
        outcomes: list[CancelAck | Exception] = []
        for order, item in zip(orders, items, strict=True):
            s_code = str(item.get("sCode"))
            if str(item.get("ordId")) != order.id:
                why = "OKX's batch answer names another order at this position"
                outcomes.append(GatewayError(ErrorType.institutionUnavailable, why, upstream_status=resp.status))
            elif s_code == "0":
                outcomes.append(CancelAck(order.id, OrderStatus.inProgress, resp.status))
            else:
                outcomes.append(_venue_failure(_Op.cancel, resp, s_code, str(item.get("sMsg") or ""), creds))
        return outcomes

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        inst_id = _checked(order)
        try:
            status, data = await self._call(creds, "GET", lookup_path(inst_id, order.id), b"", _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        entry = data[0] if data and isinstance(data[0], dict) else None
        if entry is None:
            raise GatewayError(
                ErrorType.institutionUnavailable, "OKX's order answer has no order", upstream_status=status
            )
        return _snapshot(order.id, entry)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """orders-pending, then orders-history, each paged by `after` (the last ordId handed out). A page that ends
        one phase with room left goes on into the next: at most one request per phase per page."""
        inst_id = to_inst_id(query.symbol_pair) if query.symbol_pair else None
        cursor, orders = query.cursor or {}, []
        for phase in _phases(query):
            room = query.count - len(orders)
            if room <= 0:
                return OrderPage(tuple(orders), cursor if cursor.get("phase") == phase else {"phase": phase})
            after = cursor.get("after") if cursor.get("phase") == phase else None
            params = _list_params(query, phase, inst_id, after, min(room, LIST_LIMIT_MAX))
            path = (PENDING_PATH if phase == "open" else HISTORY_PATH) + "?" + urlencode(params)
            _, data = await self._call(creds, "GET", path, b"", _Op.listing)
            entries = [e for e in data if isinstance(e, dict)]
            orders += [_snapshot(str(e.get("ordId")), e) for e in entries if _keeps(query, phase, e)]
            last = str(entries[-1].get("ordId") or "") if entries else ""
            if len(entries) >= min(room, LIST_LIMIT_MAX) and _ORDER_ID.match(last):
                return OrderPage(tuple(orders), {"phase": phase, "after": last})
            cursor = {}
        return OrderPage(tuple(orders), None)

    async def _call(
        self, creds: Credentials, method: str, request_path: str, body: bytes, op: _Op
    ) -> tuple[int, list[Any]]:
        self._require_passphrase(creds, op)
        resp, data, payload = await self._send(creds, method, request_path, body)
        # A failed item sits under code "1" (or "2"), and has been seen under code "0" too: items are read first.
        failed = next((d for d in data if isinstance(d, dict) and str(d.get("sCode", "0")) != "0"), None)
        if failed is not None:
            raise _venue_failure(op, resp, str(failed.get("sCode")), str(failed.get("sMsg") or ""), creds)
        # 2021-era answers carried the code as a number, hence str().
        if str(payload["code"]) != "0":
            raise _venue_failure(op, resp, str(payload["code"]), str(payload.get("msg") or ""), creds)
        if resp.status >= 400:
            raise _http_failure(resp.status, resp.headers)
        return resp.status, data

    def _require_passphrase(self, creds: Credentials, op: _Op) -> None:
        if not creds.passphrase:
            if op is _Op.verify:  # POST /authenticate: the passphrase travels in its authToken field
                raise GatewayError(
                    ErrorType.missingField,
                    f"{self.spec.name} API keys have a passphrase: send it as authToken",
                    error_data={"fields": {"authToken": "the API key's passphrase"}},
                )
            # A token sealed without it (e.g. `ordergate tokens seal` without --passphrase) can never sign.
            raise GatewayError(
                ErrorType.invalidAuthToken,
                f"This authToken holds no {self.spec.name} passphrase; reconnect the account with it.",
                display_message="Please reconnect the account.",
            )

    async def _send(
        self, creds: Credentials, method: str, request_path: str, body: bytes
    ) -> tuple[Any, list[Any], dict[str, Any]]:
        """Signed request → (response, `data`, the whole answer); a body that is not an OKX answer raises."""
        headers = signed_headers(
            api_key=creds.api_key,
            secret=creds.secret,
            passphrase=creds.passphrase,
            method=method,
            request_path=request_path,
            body=body,
            demo=self.testnet,
        )
        resp = await self.transport.send(method, self.base_url + request_path, headers=headers, body=body or None)
        payload = _json_object(resp.body)
        if payload is None or payload.get("code") is None:
            raise _http_failure(resp.status, resp.headers)
        listed = payload.get("data")
        return resp, listed if isinstance(listed, list) else [], payload


def _phases(query: OrderQuery) -> list[str]:
    wanted = query.statuses
    needed = [
        phase
        for phase, statuses in (("open", OPEN_STATUSES), ("history", _FINAL_STATUSES))
        if wanted is None or wanted & statuses
    ]
    current = (query.cursor or {}).get("phase")
    return needed[needed.index(current) :] if current in needed else needed


_FINAL_STATUSES = frozenset(STATUS_MAP[state] for state in STATUS_MAP if state not in LIVE_STATES)


def _list_params(query: OrderQuery, phase: str, inst_id: str | None, after: Any, limit: int) -> list[tuple[str, str]]:
    params = [("instType", LIST_INST_TYPE)] + ([("instId", inst_id)] if inst_id else [])
    # OKX filters by one state; a Mesh status that several OKX states mean is filtered here instead.
    states = {s for s in STATUS_MAP if (s in LIVE_STATES) == (phase == "open")}
    if query.statuses is not None:
        wanted = {s for s in states if STATUS_MAP[s] in query.statuses}
        if len(wanted) == 1:
            params.append(("state", next(iter(wanted))))
    if phase == "history" and query.since is not None:
        params.append(("begin", str(query.since * 1000)))
    if isinstance(after, str) and _ORDER_ID.match(after):
        params.append(("after", after))
    params.append(("limit", str(limit)))
    return params


def _keeps(query: OrderQuery, phase: str, entry: dict[str, Any]) -> bool:
    if query.since is not None and (_number(entry.get("cTime")) or 0) < query.since * 1000:
        return False
    if str(entry.get("state")) in LIVE_STATES and phase != "open":
        return False
    return query.statuses is None or _snapshot(str(entry.get("ordId")), entry).status in query.statuses


def _checked(order: OrderRef) -> str:
    if not _ORDER_ID.match(order.id or ""):
        raise GatewayError(
            ErrorType.invalidField,
            "An OKX order id is the number OKX assigned (ordId), e.g. 590908157585625111",
            error_data={"fields": {"id": "an OKX ordId: digits (or letters and digits)"}},
        )
    return to_inst_id(order.symbol_pair)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _header_seconds(headers: Any) -> int | None:
    value = str(headers.get("Retry-After", "")).strip()
    return max(1, int(value)) if value.isdigit() else None


def _venue_failure(op: _Op, resp: Any, code: str, msg: str, creds: Credentials) -> Exception:
    text = _scrub(msg, creds)
    message = f"OKX answered {code} {text}".rstrip()
    kind = ERROR_MAP.get(code)
    if kind is None:
        return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
    if kind is Ambiguous.unknownOrder:
        if op in (_Op.verify, _Op.listing):
            return GatewayError(ErrorType.institutionRejected, message, upstream_status=resp.status)
        return UnknownOrderAtVenue(resp.status, f"{code} {text}")
    if kind is Ambiguous.outcomeUnknown:
        if op is _Op.cancel:
            return OutcomeUnknown(f"OKX {code}")
        return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
    if kind is Ambiguous.blocked:
        kind = ErrorType.institutionRestricted if _REGIONAL.search(msg) else ErrorType.institutionLocked
    assert isinstance(kind, ErrorType)
    retry = None
    if kind is ErrorType.rateLimited:
        retry = _header_seconds(resp.headers) or RETRY_AFTER_S.get(code, RATE_LIMIT_WINDOW_S)
    return GatewayError(kind, message, retry_after=retry, upstream_status=resp.status)


def _http_failure(status: int, headers: Any) -> GatewayError:
    # No OKX body: an edge error page. A 5xx does not prove the engine ignored the request; the cancel service
    # looks the order up after institutionUnavailable, which covers that.
    if status == 429:
        retry = _header_seconds(headers) or RATE_LIMIT_WINDOW_S
        return GatewayError(ErrorType.rateLimited, "OKX answered HTTP 429", retry_after=retry, upstream_status=429)
    return GatewayError(
        ErrorType.institutionUnavailable, f"OKX answered HTTP {status} without an OKX answer", upstream_status=status
    )


def _seconds(ms: Any) -> int | None:
    value = _number(ms)
    return int(value // 1000) if value else None


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    state = str(entry.get("state") or "")
    filled = _number(entry.get("accFillSz"))
    status = STATUS_MAP.get(state, OrderStatus.unknown)
    if state in LIVE_STATES and filled:
        status = OrderStatus.partiallyFilled
    inst_id = str(entry.get("instId") or "")
    base, quote = split_inst_id(inst_id)
    side = str(entry.get("side") or "")
    ord_type = str(entry.get("ordType") or "")
    avg = _number(entry.get("avgPx"))
    fee = _number(entry.get("fee"))
    # `sz` is in the quote currency for spot market buys (tgtCcy quote_ccy); only base-currency sizes are amounts.
    amount = _number(entry.get("sz")) if entry.get("tgtCcy") != "quote_ccy" else None
    return OrderSnapshot(
        order_id,
        status,
        state,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=inst_id or None,
        price=_number(entry.get("px")) or avg,
        fee=abs(fee) if fee is not None else None,  # OKX signs fees negative (paid)
        value=avg * filled if avg is not None and filled is not None else None,
        order_type=ORDER_TYPE_MAP.get(ord_type),
        time_in_force=TIME_IN_FORCE_MAP.get(ord_type),
        created_at=_seconds(entry.get("cTime")),
        updated_at=_seconds(entry.get("uTime")) or _seconds(entry.get("cTime")),
    )
