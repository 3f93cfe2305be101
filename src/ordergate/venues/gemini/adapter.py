"""Gemini REST: cancel one order, look one order up, list orders (see listing.py), verify a key.

Every private call is a POST with an empty body whose JSON payload travels base64-encoded in `X-GEMINI-PAYLOAD`,
signed as sent. Gemini answers errors as non-2xx `{"result": "error", "reason": …, "message": …}`; the reason
decides, and the HTTP status only when the reason is one we do not know.

Nonce kind. Found at /authenticate and sealed into the authToken (`extras["nonce"]`): the first signed call uses a
sequenced session nonce; a time-based key refuses it (`InvalidNonce`: a microsecond count is far outside its ±30 s
window) and is then verified with a millisecond timestamp, which marks it `time`. Session keys are sequenced per
key across workers; time-based keys are not (that is what they are for).

Already cancelled. Gemini answers a cancel of an already-cancelled order exactly like a successful one (the order
with `is_cancelled: true`, "the message will succeed but have no effect"). Only the order's `reason` can tell them
apart: an exchange-side reason (e.g. `ImmediateOrCancelWouldPost`) proves the order was cancelled before our
request, so that is a 409; `Requested` (cancelled by the account, now or earlier) is reported as `ok` / cancelled,
which Gemini confirms and which is true either way.
"""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderRef, OrderSnapshot
from ordergate.venues.base import Adapter, OrderPage, OrderQuery, VenueSpec
from ordergate.venues.common import key_fingerprint
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.gemini import auth, listing
from ordergate.venues.gemini.constants import (
    CANCEL_PATH,
    ERROR_MAP,
    NONCE_SESSION,
    NONCE_TIME,
    ORDER_ID_SHAPE,
    ORDER_TYPE_MAP,
    RATE_LIMIT_RETRY_AFTER_S,
    STATUS_FALLBACK,
    STATUS_PATH,
    TIME_IN_FORCE_MAP,
    USER_CANCEL_REASON,
    VERIFY_PATH,
    Ambiguous,
)
from ordergate.venues.nonces import NonceGate
from ordergate.venues.transport import Transport

VENUE = "Gemini"
_ORDER_ID = re.compile(ORDER_ID_SHAPE[0])


class _Op(Enum):
    cancel = "cancel"
    lookup = "lookup"
    verify = "verify"
    listing = "listing"


def account_fingerprint(api_key: str) -> str:
    return key_fingerprint("gemini", api_key)


def order_id_number(order_id: str) -> int:
    """The id as the integer Gemini's payload carries; anything not of Gemini's shape is refused before sending."""
    if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
        raise GatewayError(
            ErrorType.invalidField,
            f"A Gemini order id is a number such as {ORDER_ID_SHAPE[1]}",
            error_data={"fields": {"id": "a Gemini order id (digits only)"}},
        )
    return int(order_id)


class GeminiAdapter(Adapter):
    def __init__(self, spec: VenueSpec, base_url: str, transport: Transport) -> None:
        super().__init__(spec, base_url, transport)
        self._queue = NonceGate(venue="gemini")
        self._time_nonces = auth.TimeNonces()

    async def verify_credentials(self, creds: Credentials, mfa_code: str | None) -> AccountInfo:
        # Gemini API keys have no one-time codes. Master keys act for a named account (`account` in every
        # payload), which Mesh's connection does not carry: only account-level keys are accepted.
        if creds.api_key.startswith("master-"):
            raise GatewayError(
                ErrorType.institutionRejected,
                "This is a Gemini master API key; connect an account-level API key (it starts with 'account-').",
            )
        kind = NONCE_SESSION
        try:
            _, roles = await self._post(creds, VERIFY_PATH, {}, _Op.verify, NONCE_SESSION)
        except _NonceRefused:
            kind = NONCE_TIME
            try:
                _, roles = await self._post(creds, VERIFY_PATH, {}, _Op.verify, NONCE_TIME)
            except _NonceRefused as refused:
                raise GatewayError(
                    ErrorType.institutionAuthFailed,
                    "Gemini refused the nonce: another program has used this API key with higher nonces (or the "
                    "gateway's clock is off). Create a separate API key for ordergate.",
                    upstream_status=refused.status,
                ) from None
        return AccountInfo(
            account_id=account_fingerprint(creds.api_key),
            account_name=VENUE,
            extras={"nonce": kind, "trader": roles.get("isTrader") is True},
        )

    async def cancel(self, creds: Credentials, order: OrderRef) -> CancelAck:
        number = order_id_number(order.id)
        status, entry = await self._call(creds, CANCEL_PATH, {"order_id": number}, _Op.cancel)
        snapshot = _own_snapshot(order.id, entry, status)
        if entry.get("is_cancelled") is True:
            reason = entry.get("reason")
            if isinstance(reason, str) and reason and reason != USER_CANCEL_REASON:
                raise _not_cancelable(snapshot, f"Gemini cancelled it earlier ({reason[:60]})")
            return CancelAck(order.id, OrderStatus.cancelled, status)
        if entry.get("is_live") is False:
            raise _not_cancelable(snapshot, "it is no longer live at Gemini")
        # Still live after a cancel Gemini answered: it did not take effect (the service looks it up).
        raise GatewayError(
            ErrorType.institutionUnavailable,
            "Gemini answered the cancel but still lists the order as live",
            upstream_status=status,
        )

    async def get_order(self, creds: Credentials, order: OrderRef) -> OrderSnapshot | None:
        number = order_id_number(order.id)
        try:
            status, entry = await self._call(creds, STATUS_PATH, {"order_id": number}, _Op.lookup)
        except UnknownOrderAtVenue:
            return None
        return _own_snapshot(order.id, entry, status)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        async def call(path: str, params: dict[str, Any]) -> Any:
            return (await self._call(creds, path, params, _Op.listing))[1]

        return await listing.list_orders(call, _snapshot, query)

    async def _call(self, creds: Credentials, path: str, params: dict[str, Any], op: _Op) -> tuple[int, Any]:
        kind = NONCE_TIME if creds.extras.get("nonce") == NONCE_TIME else NONCE_SESSION
        try:
            return await self._post(creds, path, params, op, kind)
        except _NonceRefused as refused:
            raise GatewayError(
                ErrorType.institutionAuthFailed,
                f"Gemini refused the nonce ({refused.text}): another program uses this API key with higher nonces, "
                "or the key's nonce setting changed. Use a separate API key for ordergate and reconnect it.",
                upstream_status=refused.status,
            ) from None

    async def _post(self, creds: Credentials, path: str, params: dict[str, Any], op: _Op, kind: str) -> tuple[int, Any]:
        url = self.base_url + path
        if kind == NONCE_TIME:
            resp = await self._send(creds, url, path, params, self._time_nonces.next())
        else:
            shared = getattr(self.coordination, "key_sequencer", None)
            gate = shared if shared is not None else self._queue  # across workers when Redis is configured
            async with gate.hold(creds.api_key) as next_nonce:
                resp = await self._send(creds, url, path, params, next_nonce())
        try:
            payload: Any = json.loads(resp.body)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and payload.get("result") == "error":
            raise _failure(op, resp.status, resp.headers, payload, creds)
        # Lists answer arrays (`/v1/orders`, `/v1/orders/history`); everything else an object.
        if 200 <= resp.status < 300 and isinstance(payload, list if op is _Op.listing else dict):
            return resp.status, payload
        raise _failure(op, resp.status, resp.headers, payload, creds)

    async def _send(self, creds: Credentials, url: str, path: str, params: dict[str, Any], nonce: int) -> Any:
        payload = auth.encode_payload({"request": path, "nonce": str(nonce), **params})
        signed = auth.headers(creds.api_key, payload, auth.sign(payload, creds.secret))
        return await self.transport.send("POST", url, headers=signed, body=b"")


class _NonceRefused(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


def _not_cancelable(snapshot: OrderSnapshot, why: str) -> GatewayError:
    return GatewayError(
        ErrorType.orderNotCancelable,
        f"The order cannot be cancelled: {why}; its status is '{snapshot.status.value}'.",
        error_data={"orderStatus": snapshot.status.value, "orderId": snapshot.order_id},
    )


def _failure(op: _Op, status: int, headers: Any, payload: Any, creds: Credentials) -> Exception:
    error = payload if isinstance(payload, dict) and payload.get("result") == "error" else None
    reason = error.get("reason") if error is not None else None
    reason = reason if isinstance(reason, str) else None
    message = error.get("message") if error is not None else None
    text = _scrub(f"{reason}: {message}" if isinstance(message, str) else str(reason), creds) if reason else None
    if reason == "InvalidNonce":
        return _NonceRefused(status, text or "InvalidNonce")
    # An HTML page or an unreadable body says nothing about the order; only a Gemini error body is trusted for
    # meanings that need a lookup or blame the key.
    kind = ERROR_MAP.get(reason or "") if reason else None
    if kind is None and (reason is not None or status == 429):
        kind = STATUS_FALLBACK.get(status)
    summary = f"{VENUE} answered HTTP {status}: {text or ('an unreadable body' if error is None else 'an error')}"
    if kind is None or (status >= 500 and kind is not ErrorType.rateLimited):
        return GatewayError(ErrorType.institutionUnavailable, summary, upstream_status=status)
    if kind is Ambiguous.unknownOrder:
        if op in (_Op.verify, _Op.listing):
            return GatewayError(ErrorType.institutionRejected, summary, upstream_status=status)
        return UnknownOrderAtVenue(status, text or "OrderNotFound")
    assert isinstance(kind, ErrorType)
    retry_after = None
    if kind is ErrorType.rateLimited:
        header = str(headers.get("Retry-After", ""))
        retry_after = int(header) if header.isdigit() else RATE_LIMIT_RETRY_AFTER_S
    return GatewayError(kind, summary, retry_after=retry_after, upstream_status=status)


def _own_snapshot(order_id: str, entry: dict[str, Any], status: int) -> OrderSnapshot:
    if str(entry.get("order_id", entry.get("id"))) != order_id:
        raise GatewayError(
            ErrorType.institutionUnavailable, "Gemini's order answer is not this order", upstream_status=status
        )
    return _snapshot(order_id, entry)


def _status(entry: dict[str, Any], filled: float | None, amount: float | None) -> OrderStatus:
    if entry.get("is_cancelled") is True:
        return OrderStatus.cancelled
    if entry.get("is_live") is True:
        return OrderStatus.partiallyFilled if filled else OrderStatus.inProgress
    if entry.get("is_live") is False and filled and amount and filled >= amount:
        return OrderStatus.success
    return OrderStatus.unknown


def _snapshot(order_id: str, entry: dict[str, Any]) -> OrderSnapshot:
    amount, filled = _number(entry.get("original_amount")), _number(entry.get("executed_amount"))
    status = _status(entry, filled, amount)
    venue_status = "cancelled" if status is OrderStatus.cancelled else ("live" if entry.get("is_live") else "closed")
    if entry.get("reason"):
        venue_status += f"/{entry['reason']}"
    pair = str(entry.get("symbol") or "").upper()
    base, quote = _split(pair)
    side = str(entry.get("side") or "")
    options = entry.get("options") if isinstance(entry.get("options"), list) else []
    tif = next((TIME_IN_FORCE_MAP[o] for o in options if o in TIME_IN_FORCE_MAP), None)
    average = _number(entry.get("avg_execution_price"))
    stamp = _number(entry.get("timestamp"))
    return OrderSnapshot(
        order_id,
        status,
        venue_status,
        amount,
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base,
        payment_symbol=quote,
        symbol_pair=pair or None,
        price=_number(entry.get("price")) or average or None,
        value=average * filled if average and filled else None,
        order_type=ORDER_TYPE_MAP.get(str(entry.get("type") or "")),
        time_in_force=tif or ("goodTillCanceled" if entry.get("type") == "exchange limit" else None),
        created_at=int(stamp) if stamp else None,
        updated_at=int(stamp) if stamp else None,
    )


_QUOTES = ("GUSD", "USDT", "USDC", "USD", "EUR", "GBP", "SGD", "DAI", "BTC", "ETH")


def _split(pair: str) -> tuple[str | None, str | None]:
    quote = next((q for q in _QUOTES if pair.endswith(q) and len(pair) > len(q)), "")
    return (pair[: -len(quote)], quote) if quote else (None, None)
