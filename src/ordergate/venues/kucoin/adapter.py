"""KuCoin Spot REST: cancel one order, look one order up, verify a key (and learn whether the account is HF).

Classic accounts cancel with `DELETE /api/v1/orders/{id}`; high-frequency ("Pro") accounts with
`DELETE /api/v1/hf/orders/{id}?symbol=`, so an HF token needs `symbolPair`. Which kind an account is comes from
`GET /api/v1/hf/accounts/opened` at authenticate and is sealed into the token as `extras["hf"]`.

KuCoin answers `{"code": "...", "msg": "..."}` and only `"200000"` means success, often with HTTP 200 either way,
so the body's code decides and the HTTP status only matters when there is no readable KuCoin answer.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.killswitch import NativeResult
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import OPEN_STATUSES, Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.kucoin import killswitch, listing
from ordergate.venues.kucoin.auth import auth_headers
from ordergate.venues.kucoin.constants import (
    CLASSIC_ORDER_PATH,
    DEFAULT_RETRY_AFTER_S,
    ERROR_MAP,
    HF_ORDER_PATH,
    ORDER_ID_RE,
    ORDER_TYPE_MAP,
    RATE_LIMIT_RESET_HEADER,
    STATUS_ACTIVE,
    STATUS_DONE,
    STOP_ORDER_TYPE_MAP,
    SUCCESS_CODE,
    TIME_IN_FORCE_MAP,
    VERIFY_PATH,
    Ambiguous,
    kucoin_symbol,
    order_status,
)
from ordergate.venues.transport import Transport


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"
    cancel_all = "cancel_all"


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("kucoin", api_key)


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000


class KucoinAdapter(Adapter):
    def __init__(
        self, spec: VenueSpec, base_url: str, transport: Transport, *, clock_ms: Callable[[], int] = _milliseconds
    ) -> None:
        super().__init__(spec, base_url, transport)
        self._clock_ms = clock_ms

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        if not creds.passphrase:
            # Checked here, before any call: a KuCoin key cannot sign anything without its passphrase.
            raise GatewayError(
                ErrorType.missingField,
                "KuCoin API keys have a passphrase: send it as authToken.",
                error_data={"fields": {"authToken": "required: the KuCoin API passphrase"}},
            )
        _, data = await self._call(creds, "GET", VERIFY_PATH, _Op.verify)
        if not isinstance(data, bool):
            raise GatewayError(ErrorType.institutionUnavailable, "KuCoin's account type answer is not true/false")
        return AccountInfo(
            account_id=account_fingerprint(creds.api_key),
            account_name="KuCoin (Pro/HF)" if data else "KuCoin",
            extras={"hf": data},
        )

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        endpoint = self._order_endpoint(creds, order)
        status, data = await self._call(creds, "DELETE", endpoint, _Op.cancel)
        data = data if isinstance(data, dict) else {}
        # Classic answers {"cancelledOrderIds": [id]}, HF {"orderId": id}. An acknowledgement that does not name
        # our order cannot be read as success; the lookup the service then makes settles it.
        named = data.get("cancelledOrderIds") if not _is_hf(creds) else [data.get("orderId")]
        if not isinstance(named, list) or order.id not in named:
            raise UnknownOrderAtVenue(status, "KuCoin's cancel answer does not name the order")
        # Both endpoints "only send cancellation requests"; the order's state is known only from a lookup.
        return CancelAck(order.id, OrderStatus.inProgress, status)

    # Both account kinds cancel all of one symbol or of every symbol; neither filters by side.
    cancel_all_filters: frozenset[str] = frozenset({"symbolPair"})

    async def cancel_all(self, creds: Credentials, symbol_pair: str | None, side: OrderSide | None) -> NativeResult:
        if not creds.passphrase:
            raise GatewayError(
                ErrorType.institutionAuthFailed, "This KuCoin authToken holds no API passphrase; reconnect the account."
            )
        symbol = self._listing_symbol(OrderQuery(count=1, symbol_pair=symbol_pair), required=False)

        async def call(method: str, endpoint: str) -> tuple[int, Any]:
            return await self._call(creds, method, endpoint, _Op.cancel_all if method == "DELETE" else _Op.listing)

        if not _is_hf(creds):
            return await killswitch.classic(call, symbol)
        return await killswitch.hf(call, lambda i, row: _snapshot(i, row, hf=True), symbol)

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        endpoint = self._order_endpoint(creds, order)
        try:
            _, data = await self._call(creds, "GET", endpoint, _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        if data is None:
            return None  # {"code": "200000", "data": null}: nothing by that id for this account
        if not isinstance(data, dict) or str(data.get("id", "")) != order.id:
            raise GatewayError(ErrorType.institutionUnavailable, "KuCoin's order answer is not about this order")
        return _snapshot(order.id, data, hf=_is_hf(creds))

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        """Open orders, then done ones; classic accounts across symbols, HF accounts per symbol (symbolPair)."""
        if not creds.passphrase:
            raise GatewayError(
                ErrorType.institutionAuthFailed, "This KuCoin authToken holds no API passphrase; reconnect the account."
            )
        hf = _is_hf(creds)
        symbol = self._listing_symbol(query, required=hf)

        async def fetch(endpoint: str) -> tuple[int, Any]:
            return await self._call(creds, "GET", endpoint, _Op.listing)

        cursor, orders, total = query.cursor or {}, [], None
        walk = listing.phases(query)
        for phase in walk:
            room = query.count - len(orders)
            if room <= 0:
                return OrderPage(tuple(orders), cursor if cursor.get("phase") == phase else {"phase": phase})
            position = cursor.get("at") if cursor.get("phase") == phase else None
            offset = position if isinstance(position, int) and position >= 0 else 0
            if not hf:
                rows, following, total = await listing.classic(fetch, query, phase, symbol, offset, room)
            elif phase == listing.OPEN:
                assert symbol is not None
                rows, following, total = await listing.hf_open(fetch, query, symbol, offset, room)
            else:
                assert symbol is not None
                rows, following = await listing.hf_done(fetch, query, symbol, position, room)
            orders += [s for s in (_snapshot(str(r.get("id")), r, hf=hf) for r in rows) if _wanted(query, s)]
            if following is not None:
                return OrderPage(tuple(orders), {"phase": phase, "at": following}, _total(query, walk, total))
            cursor = {}
        return OrderPage(tuple(orders), None, _total(query, walk, total))

    def _listing_symbol(self, query: OrderQuery, *, required: bool) -> str | None:
        if not query.symbol_pair:
            if required:
                raise GatewayError(
                    ErrorType.missingField,
                    "symbolPair must be provided to list orders of a KuCoin high-frequency (Pro) account: KuCoin "
                    "lists them per symbol.",
                    error_data={"fields": {"symbolPair": "required for KuCoin HF accounts"}},
                )
            return None
        symbol = kucoin_symbol(query.symbol_pair)
        if symbol is None:
            raise GatewayError(
                ErrorType.invalidField,
                "symbolPair is not a KuCoin pair such as BTC-USDT.",
                error_data={"fields": {"symbolPair": "expected BASE-QUOTE, BASE/QUOTE or BASEQUOTE"}},
            )
        return symbol

    def _order_endpoint(self, creds: Credentials, order: OrderRef) -> str:
        """The path (and for HF the query) to sign and send; validated so nothing in it needs encoding."""
        if not ORDER_ID_RE.match(order.id):
            raise GatewayError(
                ErrorType.invalidField,
                "A KuCoin order id is the orderId KuCoin returned, e.g. 5bd6e9286d99522a52e458de",
                error_data={"fields": {"id": "letters and digits only"}},
            )
        if not creds.passphrase:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                "This KuCoin authToken holds no API passphrase; reconnect the account.",
            )
        if not _is_hf(creds):
            return CLASSIC_ORDER_PATH.format(order_id=order.id)
        if not order.symbol_pair:
            raise GatewayError(
                ErrorType.missingField,
                "symbolPair must be provided for orders of a KuCoin high-frequency (Pro) account.",
                error_data={"fields": {"symbolPair": "required for KuCoin HF accounts"}},
            )
        symbol = kucoin_symbol(order.symbol_pair)
        if symbol is None:
            raise GatewayError(
                ErrorType.invalidField,
                "symbolPair is not a KuCoin pair such as BTC-USDT.",
                error_data={"fields": {"symbolPair": "expected BASE-QUOTE, BASE/QUOTE or BASEQUOTE"}},
            )
        return HF_ORDER_PATH.format(order_id=order.id) + "?symbol=" + symbol

    async def _call(self, creds: Credentials, method: str, endpoint: str, op: _Op) -> tuple[int, Any]:
        headers = auth_headers(
            creds.api_key, creds.secret, creds.passphrase or "", str(self._clock_ms()), method, endpoint
        )
        headers["Content-Type"] = "application/json"  # KuCoin: "All requests and responses are application/json"
        resp = await self.transport.send(method, self.base_url + endpoint, headers=headers)
        payload = _json_object(resp.body)
        code = payload.get("code") if payload is not None else None
        if code is not None and str(code) != SUCCESS_CODE:
            raise _venue_failure(op, resp.status, str(code), str(payload.get("msg", "")), resp.headers, creds)
        if code is None or not 200 <= resp.status < 300:
            raise _http_failure(resp.status, resp.headers, readable=payload is not None)
        return resp.status, payload.get("data")


def _wanted(query: OrderQuery, snapshot: OrderSnapshot) -> bool:
    return query.statuses is None or snapshot.status in query.statuses


def _total(query: OrderQuery, walk: list[str], total: int | None) -> int | None:
    # KuCoin counts what it filtered: exact for open orders only, when no status among them is filtered out here.
    return total if walk == [listing.OPEN] and query.statuses == OPEN_STATUSES else None


def _is_hf(creds: Credentials) -> bool:
    # Tokens sealed without the account kind (e.g. by `ordergate tokens seal`) use the classic endpoints.
    return creds.extras.get("hf") is True


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _reset_seconds(headers: Mapping[str, str]) -> int | None:
    value = str(_header(headers, RATE_LIMIT_RESET_HEADER) or "")
    return max(1, math.ceil(int(value) / 1000)) if value.isdigit() else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def _venue_failure(
    op: _Op, status: int, code: str, msg: str, headers: Mapping[str, str], creds: Credentials
) -> Exception:
    text = _scrub(f"{code} {msg}".strip(), creds)
    message = f"KuCoin answered {text}"
    kind = ERROR_MAP.get(code)
    if kind is Ambiguous.unknownOrder:
        if op in (_Op.verify, _Op.listing, _Op.cancel_all):
            return GatewayError(ErrorType.institutionRejected, message, upstream_status=status)
        # Cancel: unknown, filled and cancelled orders all answer this; the service looks the order up.
        # Lookup: with a well-formed id and symbol, a parameter error can only mean no such order.
        return UnknownOrderAtVenue(status, text)
    if kind is None:
        return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=status)
    assert isinstance(kind, ErrorType)
    retry = None
    if kind is ErrorType.rateLimited:
        retry = _reset_seconds(headers) or DEFAULT_RETRY_AFTER_S
    return GatewayError(kind, message, retry_after=retry, upstream_status=status)


def _http_failure(status: int, headers: Mapping[str, str], *, readable: bool) -> GatewayError:
    # A 5xx page from KuCoin's edge does not prove the engine ignored the request; the cancel service looks the
    # order up after institutionUnavailable, which covers that.
    if status == 429:
        retry_after = str(_header(headers, "Retry-After") or "")
        retry = int(retry_after) if retry_after.isdigit() else _reset_seconds(headers) or DEFAULT_RETRY_AFTER_S
        return GatewayError(ErrorType.rateLimited, "KuCoin answered HTTP 429", retry_after=retry, upstream_status=429)
    detail = "" if readable else " with an unreadable body"
    return GatewayError(
        ErrorType.institutionUnavailable, f"KuCoin answered HTTP {status}{detail}", upstream_status=status
    )


def _snapshot(order_id: str, data: dict[str, Any], *, hf: bool) -> OrderSnapshot:
    active = data.get("active" if hf else "isActive") is True
    cancel_exist = data.get("cancelExist") is True
    size, filled = _number(data.get("size")), _number(data.get("dealSize")) or 0.0
    funds = _number(data.get("dealFunds"))
    status = order_status(active, cancel_exist, filled)
    venue_status = STATUS_ACTIVE if active else STATUS_DONE + (" (cancelled)" if cancel_exist else "")
    symbol_pair = str(data.get("symbol") or "") or None
    base, _, quote = (symbol_pair or "").partition("-")
    side = str(data.get("side") or "")
    kind = str(data.get("type") or "")
    stop = str(data.get("stop") or "")  # classic stop orders: "loss" / "entry"
    tif = str(data.get("timeInForce") or "")
    limit_price = _number(data.get("price")) or None
    created, updated = _number(data.get("createdAt")), _number(data.get("lastUpdatedAt"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        size or None,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=symbol_pair,
        price=limit_price or (funds / filled if funds and filled else None),
        fee=_number(data.get("fee")),
        value=funds,
        order_type=(STOP_ORDER_TYPE_MAP if stop else ORDER_TYPE_MAP).get(kind),
        time_in_force="postOnly" if data.get("postOnly") is True else TIME_IN_FORCE_MAP.get(tif),
        created_at=int(created // 1000) if created else None,
        updated_at=int(updated // 1000) if updated else None,
    )
