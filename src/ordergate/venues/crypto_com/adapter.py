"""Crypto.com Exchange v1: cancel one order, look one order up, verify a key.

Every call is a signed JSON-RPC style POST to `<base>/<method>`. The body's `code` decides (0 is the only success);
Crypto.com sends errors with HTTP statuses that vary by code (NOT_FOUND with 200, NO_ACTIVE_ORDER with 500), so the
HTTP status matters only when there is no readable code. A cancel needs no instrument: one request. It is
asynchronous at Crypto.com ("the response is simply a confirmation of the request"), so an accepted cancel is
`inProgress`; lookups show `cancelled` once the engine has done it.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.crypto_com.auth import now_ms, signed_body
from ordergate.venues.crypto_com.constants import (
    CANCEL_METHOD,
    ERROR_MAP,
    HISTORY_METHOD,
    OPEN_ORDERS_METHOD,
    ORDER_ID_MAX,
    ORDER_ID_SHAPE,
    ORDER_METHOD,
    ORDER_TYPE_MAP,
    RETRY_AFTER_S,
    STATUS_MAP,
    TIME_IN_FORCE_MAP,
    VERIFY_METHOD,
    Ambiguous,
)
from ordergate.venues.crypto_com.listing import (
    OPEN,
    first_phase,
    history_page,
    history_params,
    open_page,
    wants_history,
)
from ordergate.venues.transport import OutcomeUnknown, Transport, UpstreamResponse

_ORDER_ID = re.compile(ORDER_ID_SHAPE[0])
# Codes that, on a lookup, mean "no such order for this key" (rather than a failure to look).
_LOOKUP_NOT_FOUND = frozenset({40401, 212})


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    list = "list"


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("cryptocom", api_key)


def _request_id() -> int:
    # Only echoed back; random so that concurrent requests of one key can be told apart in Crypto.com's logs.
    return 1 + secrets.randbelow(2**53)


class CryptoComAdapter(Adapter):
    def __init__(
        self,
        spec: VenueSpec,
        base_url: str,
        transport: Transport,
        *,
        clock: Callable[[], int] = now_ms,
        request_id: Callable[[], int] = _request_id,
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._clock = clock
        self._request_id = request_id

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Crypto.com keys have no per-request second factor; an mfaCode has nothing to be checked against.
        _, result = await self._call(creds, VERIFY_METHOD, {}, _Op.verify)
        master = result.get("master_account")
        uuid = master.get("uuid") if isinstance(master, dict) else None
        has_uuid = isinstance(uuid, str) and re.fullmatch(r"[0-9A-Za-z-]{8,64}", uuid) is not None
        return AccountInfo(
            account_id=f"cryptocom-{uuid}" if has_uuid else account_fingerprint(creds.api_key),
            account_name=self.spec.name,
        )

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        _require_order_id(order.id)
        status, result = await self._call(creds, CANCEL_METHOD, {"order_id": order.id}, _Op.cancel)
        if str(result.get("order_id")) != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Crypto.com's cancel acknowledgement does not name the order",
                upstream_status=status,
            )
        return CancelAck(order.id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        _require_order_id(order.id)
        try:
            status, result = await self._call(creds, ORDER_METHOD, {"order_id": order.id}, _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        if str(result.get("order_id")) != order.id:
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Crypto.com's order detail is about another order",
                upstream_status=status,
            )
        return _snapshot(order.id, result)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        instrument = _instrument(query.symbol_pair)
        phase = first_phase(query)
        orders: list[OrderSnapshot] = []
        if phase["phase"] == OPEN:
            _, result = await self._call(
                creds, OPEN_ORDERS_METHOD, {"instrument_name": instrument} if instrument else {}, _Op.list
            )
            orders, cursor = open_page(_rows(result), query, phase.get("offset", 0), query.count, _snapshot)
            if cursor is not None or not wants_history(query):
                return OrderPage(tuple(orders), cursor)
            phase = {"phase": "history"}
            if len(orders) == query.count:
                return OrderPage(tuple(orders), phase)
        params = history_params(query, phase.get("end"), query.count - len(orders), instrument)
        _, result = await self._call(creds, HISTORY_METHOD, params, _Op.list)
        history, cursor = history_page(_rows(result), query, params["limit"], _snapshot)
        return OrderPage((*orders, *history), cursor)

    async def _call(
        self, creds: Credentials, method: str, params: dict[str, Any], op: _Op
    ) -> tuple[int, dict[str, Any]]:
        body = signed_body(
            creds.api_key, creds.secret, method, params, request_id=self._request_id(), nonce=self._clock()
        )
        resp = await self.transport.send(
            "POST", f"{self.base_url}/{method}", headers={"Content-Type": "application/json"}, body=body
        )
        data = _json_object(resp.body)
        code = _code(data.get("code")) if data is not None else None
        if code is not None and code != 0:
            message = str(data.get("message") or "") if data else ""  # never `original`: it echoes key and sig
            raise self._venue_failure(op, resp, code, message, creds)
        if data is None or code is None:
            raise _http_failure(resp)
        result = data.get("result")
        if not isinstance(result, dict):
            raise GatewayError(
                ErrorType.institutionUnavailable,
                "Crypto.com's answer has code 0 but no result",
                upstream_status=resp.status,
            )
        return resp.status, result

    def _venue_failure(self, op: _Op, resp: UpstreamResponse, code: int, msg: str, creds: Credentials) -> Exception:
        text = _scrub(f"code {code}: {msg}", creds)
        message = f"Crypto.com answered {text}"
        kind = ERROR_MAP.get(code)
        if kind is None:
            return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
        if kind is Ambiguous.unknownOrder:
            if op is _Op.cancel or (op is _Op.lookup and code in _LOOKUP_NOT_FOUND):
                return UnknownOrderAtVenue(resp.status, text)
            return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
        if kind is Ambiguous.outcomeUnknown:
            if op is _Op.cancel:
                return OutcomeUnknown(text)
            return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=resp.status)
        if code in (40102, 10007):
            message += " (the gateway's clock or the network delay is off by more than 60 seconds)"
        if code in (40101, 10002) and op is not _Op.verify:
            message += " (a wrong key or secret; keys of the UAT sandbox and production differ)"
        retry = None
        if kind is ErrorType.rateLimited:
            retry = _retry_after_header(resp.headers) or RETRY_AFTER_S.get(code, 1)
        return GatewayError(kind, message, retry_after=retry, upstream_status=resp.status)


def _http_failure(resp: UpstreamResponse) -> GatewayError:
    status = resp.status
    if status == 401:
        return GatewayError(ErrorType.institutionAuthFailed, "Crypto.com answered HTTP 401", upstream_status=status)
    if status == 429:
        retry = _retry_after_header(resp.headers) or 1
        return GatewayError(
            ErrorType.rateLimited, "Crypto.com answered HTTP 429", retry_after=retry, upstream_status=429
        )
    # An error page in front of Crypto.com does not prove the engine ignored the request; the cancel service looks
    # the order up after institutionUnavailable, which covers that.
    detail = "" if _json_object(resp.body) is not None else " with an unreadable body"
    return GatewayError(
        ErrorType.institutionUnavailable, f"Crypto.com answered HTTP {status}{detail}", upstream_status=status
    )


def _require_order_id(order_id: str) -> None:
    if not _ORDER_ID.fullmatch(order_id) or int(order_id) > ORDER_ID_MAX:
        raise GatewayError(
            ErrorType.invalidField,
            "A Crypto.com order id is its order_id: a decimal number of at most 19 digits",
            error_data={"fields": {"id": f"a Crypto.com order_id such as {ORDER_ID_SHAPE[1]}"}},
        )


def _instrument(pair: str | None) -> str | None:
    if not pair:
        return None
    name = pair.strip().upper().replace("/", "_")
    if len(name) > 40 or not re.fullmatch(r"[A-Z0-9]+(?:[_-][A-Z0-9]+)*", name):
        raise GatewayError(
            ErrorType.invalidField,
            "symbolPair must name a Crypto.com instrument such as BTC_USDT (BTC/USDT is accepted)",
            error_data={"fields": {"symbolPair": "a Crypto.com instrument_name such as BTC_USDT"}},
        )
    return name


def _rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    data = result.get("data")
    if not isinstance(data, list):
        raise GatewayError(ErrorType.institutionUnavailable, "Crypto.com's order list is missing")
    return [row for row in data if isinstance(row, dict)]


def _code(value: Any) -> int | None:
    # The v1 OpenAPI types `code` as a string of digits; the older samples send a number. Both are the same code.
    if type(value) is int:
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,10}", value):
        return int(value)
    return None


def _retry_after_header(headers: Mapping[str, str]) -> int | None:
    value = next((str(v).strip() for k, v in headers.items() if k.lower() == "retry-after"), None)
    return int(value) if value and value.isdigit() and int(value) > 0 else None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _seconds(ms: Any) -> int | None:
    value = _number(ms)
    return int(value // 1000) if value else None


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    venue_status = str(entry.get("status") or "")
    filled = _number(entry.get("cumulative_quantity"))
    status = STATUS_MAP.get(venue_status, OrderStatus.unknown)
    if status is OrderStatus.inProgress and filled:
        status = OrderStatus.partiallyFilled
    instrument = str(entry.get("instrument_name") or "")
    base, _, quote = instrument.partition("_")  # spot pairs are BASE_QUOTE; derivatives (BTCUSD-PERP) have no "_"
    created = _seconds(entry.get("create_time"))
    fee = _number(entry.get("cumulative_fee"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        _number(entry.get("quantity")),
        filled,
        side={"BUY": OrderSide.buy, "SELL": OrderSide.sell}.get(str(entry.get("side"))),
        symbol=base if quote else None,
        payment_symbol=quote or None,
        symbol_pair=instrument or None,
        # Market orders carry no limit price; the average fill price is the better number then.
        price=_number(entry.get("limit_price")) or _number(entry.get("avg_price")) or None,
        fee=abs(fee) if fee is not None else None,
        value=_number(entry.get("cumulative_value")),
        order_type=ORDER_TYPE_MAP.get(str(entry.get("order_type") or "")),
        time_in_force=TIME_IN_FORCE_MAP.get(str(entry.get("time_in_force") or "")),
        created_at=created,
        updated_at=_seconds(entry.get("update_time")) or created,
    )
