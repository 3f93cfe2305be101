"""The crypto half of Robinhood: the official Crypto Trading API (trading.robinhood.com).

A cancel is `POST /api/v1/crypto/trading/orders/{id}/cancel/`, whose 200 only says the request "was submitted":
an ack is `inProgress`. Its 400 "This order cannot be canceled" (filled, cancelled or failed) and its 404 do not
say which, so they raise `UnknownOrderAtVenue` and the cancel service looks the order up
(`GET /api/v1/crypto/trading/orders/{id}/`).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ordergate.domain.errors import ErrorType, GatewayError, UnknownOrderAtVenue
from ordergate.domain.integrations import OrderSide, OrderStatus
from ordergate.domain.orders import AccountInfo, CancelAck, Credentials, OrderSnapshot
from ordergate.venues.base import OrderPage, OrderQuery
from ordergate.venues.common import number as _number
from ordergate.venues.common import scrub as _scrub
from ordergate.venues.robinhood import auth, listing
from ordergate.venues.robinhood.constants import (
    CANCEL_REFUSED,
    CRYPTO_ACCOUNT_PATH,
    CRYPTO_CANCEL_PATH,
    CRYPTO_KEY_PREFIX,
    CRYPTO_ORDER_PATH,
    ORDER_ID,
    ORDER_TYPE_MAP,
    RATE_LIMIT_S,
    SEED_BYTES,
    STATUS_ERRORS,
    STATUS_MAP,
    THROTTLE_WAIT,
    TIME_IN_FORCE_MAP,
)
from ordergate.venues.transport import Transport, UpstreamResponse

VENUE = "Robinhood Crypto"


def looks_like_crypto_key(api_key: str, secret: str) -> bool:
    """A Crypto Trading API credential: an `rh-api-` key (whatever its secret: a bad one is then an auth failure),
    or a pre-2024 key (no prefix; taken to be a bare UUID) with a base64 seed."""
    if api_key.startswith(CRYPTO_KEY_PREFIX):
        return True
    if not ORDER_ID.fullmatch(api_key):
        return False
    try:
        return len(base64.b64decode(secret.strip(), validate=True)) in SEED_BYTES
    except (binascii.Error, ValueError):
        return False


def _seconds() -> int:
    return int(time.time())


class CryptoApi:
    def __init__(self, base_url: str, transport: Transport, *, clock: Callable[[], int] = _seconds) -> None:
        self.base_url = base_url.rstrip("/")
        self.transport = transport
        self.clock = clock

    async def verify(self, creds: Credentials) -> AccountInfo:
        _, answer = await self._call(creds, "GET", CRYPTO_ACCOUNT_PATH, lookup=False)
        number = str(answer.get("account_number") or "") if isinstance(answer, dict) else ""
        if not number:
            raise GatewayError(ErrorType.institutionUnavailable, f"{VENUE} answered no account for this key")
        return AccountInfo(account_id=number, account_name=VENUE, extras={})

    async def cancel(self, creds: Credentials, order_id: str) -> CancelAck:
        status, _ = await self._call(creds, "POST", CRYPTO_CANCEL_PATH.format(id=order_id), lookup=False)
        return CancelAck(order_id, OrderStatus.inProgress, status)

    async def get_order(self, creds: Credentials, order_id: str) -> OrderSnapshot | None:
        try:
            status, answer = await self._call(creds, "GET", CRYPTO_ORDER_PATH.format(id=order_id), lookup=True)
        except UnknownOrderAtVenue:
            return None
        if not isinstance(answer, dict) or str(answer.get("id")) != order_id:
            raise GatewayError(
                ErrorType.institutionUnavailable, f"{VENUE}'s order answer is not this order", upstream_status=status
            )
        return snapshot(order_id, answer)

    async def list_orders(self, creds: Credentials, query: OrderQuery) -> OrderPage:
        path, skip = listing.crypto_path(query)
        _, answer = await self._call(creds, "GET", path, lookup=False)
        return listing.page(answer, query, skip, snapshot, VENUE)

    async def _call(self, creds: Credentials, method: str, path: str, *, lookup: bool) -> tuple[int, Any]:
        try:
            signed = auth.headers(creds.api_key, creds.secret, self.clock(), path, method)
        except auth.BadPrivateKey:
            raise GatewayError(
                ErrorType.institutionAuthFailed, "The Robinhood private key is not a base64 Ed25519 seed"
            ) from None
        resp = await self.transport.send(method, self.base_url + path, headers=signed, body=b"")
        if 200 <= resp.status < 300:
            try:
                return resp.status, json.loads(resp.body)
            except ValueError:
                # The cancel's 200 is text/plain; a lookup or account read must be JSON.
                if method == "POST":
                    return resp.status, None
                raise GatewayError(
                    ErrorType.institutionUnavailable, f"{VENUE} answered an unreadable body", upstream_status=200
                ) from None
        raise _failure(resp, creds, lookup=lookup, cancel=method == "POST")


def _details(resp: UpstreamResponse) -> tuple[str | None, str]:
    """(error type, joined details) of Robinhood's `{"type", "errors": [{"detail", "attr"}]}`; (None, text) else."""
    try:
        answer: Any = json.loads(resp.body)
    except ValueError:
        return None, resp.body[:200].decode("utf-8", "replace").strip()
    if not isinstance(answer, dict) or not isinstance(answer.get("errors"), list):
        return None, ""
    details = [str(e.get("detail") or "") for e in answer["errors"] if isinstance(e, dict)]
    return str(answer.get("type") or ""), "; ".join(d for d in details if d)


def _failure(resp: UpstreamResponse, creds: Credentials, *, lookup: bool, cancel: bool) -> Exception:
    status = resp.status
    kind, detail = _details(resp)
    text = _scrub(detail, creds) or f"HTTP {status}"
    message = f"{VENUE} answered {text}"
    if status == 404 and kind is not None and (cancel or lookup):
        return UnknownOrderAtVenue(status, text)
    if status == 400 and cancel and CANCEL_REFUSED in detail.lower():
        return UnknownOrderAtVenue(status, text)
    error = STATUS_ERRORS.get(status)
    if error is ErrorType.rateLimited:
        return GatewayError(error, message, retry_after=_retry_after(resp, detail), upstream_status=status)
    if error is not None:
        return GatewayError(error, message, upstream_status=status)
    if status == 400 and kind is None and "required headers" in detail.lower():
        return GatewayError(ErrorType.institutionAuthFailed, message, upstream_status=status)
    if kind is not None and 400 <= status < 500:
        return GatewayError(ErrorType.institutionRejected, message, upstream_status=status)
    # An error page, garbage, or a 5xx: an outage, which the cancel service checks with a lookup.
    return GatewayError(ErrorType.institutionUnavailable, message, upstream_status=status)


def _retry_after(resp: UpstreamResponse, detail: str) -> int:
    header = str(resp.headers.get("Retry-After", "")).strip()
    if header.isdigit():
        return max(int(header), 1)
    found = THROTTLE_WAIT.search(detail)
    return max(int(found.group(1)), 1) if found else RATE_LIMIT_S


def _timestamp(value: Any) -> int | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def snapshot(order_id: str, data: dict[str, Any]) -> OrderSnapshot:
    state = str(data.get("state") or "")
    order_type = str(data.get("type") or "")
    config = data.get(f"{order_type}_order_config")
    config = config if isinstance(config, dict) else {}
    executions = [e for e in data.get("executions") or [] if isinstance(e, dict)]
    value = 0.0
    for execution in executions:
        price, quantity = _number(execution.get("effective_price")), _number(execution.get("quantity"))
        value += (price or 0.0) * (quantity or 0.0)
    filled = _number(data.get("filled_asset_quantity"))
    base, _, quote = str(data.get("symbol") or "").partition("-")
    side = str(data.get("side") or "")
    price = _number(config.get("limit_price"))
    return OrderSnapshot(
        order_id,
        STATUS_MAP.get(state, OrderStatus.unknown),
        state,
        _number(config.get("asset_quantity")),
        filled,
        side=OrderSide(side) if side in ("buy", "sell") else None,
        symbol=base or None,
        payment_symbol=quote or None,
        symbol_pair=str(data.get("symbol") or "") or None,
        price=price if price is not None else _number(data.get("average_price")),
        value=value if executions else None,
        order_type=ORDER_TYPE_MAP.get(order_type),
        time_in_force=TIME_IN_FORCE_MAP.get(
            str(config.get("time_in_force") or ("gtc" if order_type == "limit" else ""))
        ),
        created_at=_timestamp(data.get("created_at")),
        updated_at=_timestamp(data.get("updated_at")),
        asset_type="cryptocurrency",  # the Crypto Trading API's orders are crypto orders only
    )
