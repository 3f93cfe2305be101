"""A local api.coinbase.com for the Advanced Trade calls ordergate and the official SDK make.

Protocol as Coinbase speaks it: `Authorization: Bearer <JWT>` verified per request (alg and kid, ES256 or EdDSA
signature against the registered public key, nbf/exp, sub/iss, `uri` equal to `<METHOD> <Host header><path>`), or
`Bearer <OAuth access token>`; a refused bearer is `401` with the plain body `Unauthorized`. Per-order cancel
failures come back inside HTTP 200 results; a successful result carries the default failure_reason.

    POST /api/v3/brokerage/orders                         op "create"   (limit_limit_gtc, market_market_ioc)
    POST /api/v3/brokerage/orders/batch_cancel            op "batch_cancel"
    GET  /api/v3/brokerage/orders/historical/batch        op "list_orders"  ?order_status=…&limit=&cursor=&start_date=
    GET  /api/v3/brokerage/orders/historical/{order_id}   op "get_order"
    GET  /api/v3/brokerage/key_permissions                op "key_permissions"
    GET  /v2/user                                         op "user"

Answers: an unknown, foreign, cancelled or expired order's cancel is UNKNOWN_CANCEL_ORDER; a filled one's is
ORDER_IS_FULLY_FILLED; an order with a cancel already queued (simkit's `pending` fault) answers
DUPLICATE_CANCEL_REQUEST; a key without trade permission gets 403 PERMISSION_DENIED "Missing required scopes"; an
unknown order's lookup is 404 NOT_FOUND "order with this orderID was not found".

Control surface (unsigned, from simkit): `POST /_control/accounts {"canTrade"?, "kind"?: "ec"|"ed25519"|"oauth"}`
→ {"apiKey", "secret"} (for OAuth `secret` is the access token), orders, fills, faults, stats, and
`POST /_control/orders/{order_id}/expire`. `venue_error` faults take simkit's symbolic names, a cancel
failure_reason (answered inside HTTP 200 for the request's ids) or a request-level code such as INVALID_ARGUMENT.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import secrets
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ordergate.domain.integrations import OrderStatus
from ordergate.venues.coinbase.auth import EDDSA, ES256, JwtRejected, PublicKey, verify_jwt
from ordergate.venues.coinbase.book import Order, Principal
from ordergate.venues.coinbase.constants import (
    CANCEL_FAILURES,
    CANCEL_PATH,
    CREATE_PATH,
    DEFAULT_FAILURE_REASON,
    KEY_PERMISSIONS_PATH,
    LIST_MAX_LIMIT,
    LIST_PATH,
    LIVE_STATUSES,
    MISSING_SCOPES,
    STATUS_MAP,
    USER_PATH,
)
from ordergate.venues.simkit import Fault, SimAccount, SimulatorBase, WithAbort, control_endpoint
from ordergate.venues.simkit import positive_decimal as _decimal

KINDS = ("ec", "ed25519", "oauth")
_NOT_FOUND = "order with this orderID was not found"
# Request-level codes a `venue_error` fault may name, with the HTTP status Coinbase sends them under.
_REQUEST_CODES = {"INVALID_ARGUMENT": 400, "PERMISSION_DENIED": 403, "NOT_FOUND": 404, "INTERNAL": 500}
_cancel_ids: ContextVar[tuple[str, ...]] = ContextVar("coinbase_sim_cancel_ids", default=())


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "error_details": message, "message": message}, status_code=status)


def _unauthorized() -> Response:
    return PlainTextResponse("Unauthorized", status_code=401)


def _position(order: Order) -> int:
    """Where an order stands in the newest-first listing: creation time in microseconds, then placement."""
    return int(order.created.timestamp() * 1_000_000) * 10**10 + order.seq


def _fingerprint(token: str) -> str:
    return "oauth:" + hashlib.sha256(token.encode()).hexdigest()[:12]


class CoinbaseSimulator(SimulatorBase):
    """`default_kind` is the credential kind `new_account` issues: EC (ES256) keys, Ed25519 keys or OAuth tokens."""

    def __init__(self, *, default_kind: str = "ec", jitter_s: float = 0.0) -> None:
        super().__init__(jitter_s=jitter_s)
        if default_kind not in KINDS:
            raise ValueError(f"default_kind must be one of {KINDS}")
        self.default_kind = default_kind
        self._principals: dict[str, Principal] = {}
        self._tokens: dict[str, str] = {}  # OAuth access token → principal label
        self._orders: dict[str, Order] = {}
        self.rejections: list[str] = []  # why JWTs were refused (Coinbase only says "Unauthorized")
        starlette = Starlette(
            routes=[
                Route(CANCEL_PATH, self._batch_cancel, methods=["POST"]),
                Route(LIST_PATH, self._list_orders, methods=["GET"]),  # before {order_id}, which "batch" matches
                Route(CREATE_PATH, self._create, methods=["POST"]),
                Route("/api/v3/brokerage/orders/historical/{order_id}", self._get_order, methods=["GET"]),
                Route(KEY_PERMISSIONS_PATH, self._key_permissions, methods=["GET"]),
                Route(USER_PATH, self._user, methods=["GET"]),
                Route("/_control/orders/{order_id}/expire", control_endpoint(self._c_expire), methods=["POST"]),
                *self.control_routes(),
            ]
        )
        self.app = WithAbort(starlette)

    # -- the conformance kit's view (simkit.SimulatorBase) ---------------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        return self.new_credentials(self.default_kind, can_trade=can_trade)

    def new_credentials(self, kind: str = "ec", *, can_trade: bool = True) -> SimAccount:
        """Credentials shaped as Coinbase hands them out; SimAccount.api_key is what requests are counted under."""
        if kind == "oauth":
            token = secrets.token_urlsafe(48)
            label = _fingerprint(token)
            with self._lock:
                self._principals[label] = Principal(label, None, None, can_trade)
                self._tokens[token] = label
            return SimAccount(label, token, extras={"kind": "oauth"})
        name = f"organizations/{uuid.uuid4()}/apiKeys/{uuid.uuid4()}"
        if kind == "ec":
            private_ec = ec.generate_private_key(ec.SECP256R1())
            secret = private_ec.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,  # "BEGIN EC PRIVATE KEY", as the CDP portal gives
                serialization.NoEncryption(),
            ).decode()
            self.add_key(name, ES256, private_ec.public_key(), can_trade=can_trade)
            return SimAccount(name, secret, extras={"kind": "es256"})
        if kind != "ed25519":
            raise ValueError(f"kind must be one of {KINDS}")
        private_ed = ed25519.Ed25519PrivateKey.generate()
        seed = private_ed.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        public = private_ed.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.add_key(name, EDDSA, private_ed.public_key(), can_trade=can_trade)
        return SimAccount(name, base64.b64encode(seed + public).decode(), extras={"kind": "ed25519"})

    def add_key(self, name: str, alg: str, public_key: PublicKey, *, can_trade: bool = True) -> None:
        if alg not in (ES256, EDDSA):
            raise ValueError("alg must be ES256 or EdDSA")
        with self._lock:
            self._principals[name] = Principal(name, alg, public_key, can_trade)

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        # Mesh asks clients for `side` on Coinbase cancels; the order's own side is what they would send.
        return self.place_order(account.api_key, base_size=volume, limit_price=price), {"side": "buy"}

    def place_order(
        self,
        owner: str,
        *,
        product_id: str = "BTC-USD",
        side: str = "BUY",
        base_size: str = "1",
        limit_price: str = "30000",
        order_type: str = "LIMIT",
        client_order_id: str | None = None,
    ) -> str:
        size, price = _decimal(base_size), _decimal(limit_price)
        principal = self._principals.get(owner)
        if principal is None or side not in ("BUY", "SELL") or size is None or price is None or "-" not in product_id:
            raise ValueError("unknown owner, or invalid side, size, price or product_id")
        with self._lock:
            order = Order(
                str(uuid.uuid4()), owner, product_id, side, size, price, client_order_id or uuid.uuid4().hex,
                user_id=principal.user_id, order_type=order_type,
            )  # fmt: skip
            self._orders[order.order_id] = order
            if order_type == "MARKET":
                order.fill(None)
        return order.order_id

    def fill(self, order_id: str, volume: str | None = None) -> None:
        with self._lock:
            order = self._orders[order_id]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.status}")
            order.fill(_decimal(volume) if volume is not None else None)

    def expire(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if not order.live:
                raise ValueError(f"order {order_id} is {order.status}")
            order.status, order.pending_cancel = "EXPIRED", False

    def set_created(self, order_id: str, when: datetime) -> None:
        """Give an order another creation time, as if it had been placed then."""
        with self._lock:
            self._orders[order_id].created = when.astimezone(UTC)

    def order(self, order_id: str) -> dict[str, Any]:
        with self._lock:
            return self._orders[order_id].as_coinbase()

    def status(self, order_id: str) -> OrderStatus:
        with self._lock:
            order = self._orders[order_id]
            if order.status in LIVE_STATUSES and order.filled_size > 0:
                return OrderStatus.partiallyFilled
            return STATUS_MAP[order.status]

    def describe(self, order_id: str) -> dict[str, Any]:
        return self.order(order_id)

    def render_venue_error(self, error: str) -> Response:
        if error == "rate_limit":
            # The documented 429 body; the reset is the next whole second (the bucket refills per second).
            reset = str(math.floor(time.time()) + 1)
            headers = {"x-ratelimit-limit": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
            body = {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]}
            return JSONResponse(body, status_code=429, headers=headers)
        if error == "auth":
            return _unauthorized()
        if error == "permission":
            return _error(403, "PERMISSION_DENIED", MISSING_SCOPES)
        if error == "unavailable":
            message = "An error has occurred. If this problem persists, please visit https://support.coinbase.com"
            return JSONResponse({"errors": [{"id": "internal_server_error", "message": message}]}, status_code=500)
        if error in CANCEL_FAILURES:
            results = [{"success": False, "failure_reason": error, "order_id": oid} for oid in _cancel_ids.get()]
            return JSONResponse({"results": results})
        # Coinbase documents no lockout ("ban") or legal-block ("restricted") answer: those render as raw codes.
        return _error(_REQUEST_CODES.get(error, 400), error, error)

    # -- the control surface -------------------------------------------------------------------------------
    def _c_account(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        kind = str(body.get("kind", self.default_kind))
        account = self.new_credentials(kind, can_trade=bool(body.get("canTrade", True)))
        return {"apiKey": account.api_key, "secret": account.secret, "kind": account.extras["kind"]}

    def _c_expire(self, path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.expire(path["order_id"])
        return self._c_order(path, body)

    # -- authentication ----------------------------------------------------------------------------------
    @staticmethod
    def _bearer(request: Request) -> str:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""

    def _label(self, request: Request) -> str:
        """Who the request claims to be (before any check), for accounting and fault matching."""
        bearer = self._bearer(request)
        if bearer.count(".") == 2:
            try:
                header = json.loads(base64.urlsafe_b64decode(bearer.split(".")[0] + "=="))
                return str(header.get("kid", "")) if isinstance(header, dict) else ""
            except ValueError:
                return ""
        return _fingerprint(bearer) if bearer else ""

    def _authenticate(self, request: Request) -> Principal | None:
        bearer = self._bearer(request)
        if not bearer:
            return None
        with self._lock:
            label = self._tokens.get(bearer)
        if label is not None:
            return self._principals[label]
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        expected = f"{request.method} {request.headers.get('host', '')}{raw_path.decode('latin-1')}"
        try:
            verified = verify_jwt(bearer, self._public_key, expected)
        except JwtRejected as exc:
            self.rejections.append(str(exc))
            return None
        return self._principals[verified.kid]

    def _public_key(self, kid: str) -> tuple[str, PublicKey] | None:
        principal = self._principals.get(kid)
        if principal is None or principal.alg is None or principal.public_key is None:
            return None
        return principal.alg, principal.public_key

    async def _serve(self, request: Request, op: str, handler: Any, *, trade: bool = False) -> Response:
        async def process(fault: Fault | None) -> Response:
            principal = self._authenticate(request)
            if principal is None:
                return _unauthorized()
            if trade and not principal.can_trade:
                return _error(403, "PERMISSION_DENIED", MISSING_SCOPES)
            return await handler(request, principal, fault)

        return await self.serve_op(request, op, self._label(request), process)

    # -- endpoints ---------------------------------------------------------------------------------------
    async def _batch_cancel(self, request: Request) -> Response:
        try:
            ids = json.loads(await request.body()).get("order_ids")
        except (ValueError, AttributeError):
            ids = None
        _cancel_ids.set(tuple(str(i) for i in ids) if isinstance(ids, list) else ())
        return await self._serve(request, "batch_cancel", self._cancel_orders, trade=True)

    async def _cancel_orders(self, _request: Request, principal: Principal, fault: Fault | None) -> Response:
        ids = _cancel_ids.get()
        if not ids or len(ids) > 100:
            return _error(400, "INVALID_ARGUMENT", "order_ids must name between 1 and 100 orders")
        with self._lock:
            return JSONResponse({"results": [self._cancel_one(principal, oid, fault) for oid in ids]})

    def _cancel_one(self, principal: Principal, order_id: str, fault: Fault | None) -> dict[str, Any]:
        order = self._orders.get(order_id)
        reason: str | None = None
        if order is None or order.owner != principal.label or order.status in ("CANCELLED", "EXPIRED", "FAILED"):
            reason = "UNKNOWN_CANCEL_ORDER"
        elif order.status == "FILLED":
            reason = "ORDER_IS_FULLY_FILLED"
        elif order.pending_cancel:
            reason = "DUPLICATE_CANCEL_REQUEST"
        elif order.status == "EDIT_QUEUED":
            reason = "ORDER_IS_BEING_REPLACED"
        if reason is not None:
            return {"success": False, "failure_reason": reason, "order_id": order_id}
        assert order is not None
        if fault is not None and fault.kind == "pending":
            order.status, order.pending_cancel = "CANCEL_QUEUED", True
            asyncio.get_running_loop().call_later(fault.seconds, self._settle_cancel, order_id)
        else:
            order.status = "CANCELLED"
        return {"success": True, "failure_reason": DEFAULT_FAILURE_REASON, "order_id": order_id}

    def _settle_cancel(self, order_id: str) -> None:
        with self._lock:
            order = self._orders[order_id]
            if order.live:
                order.status, order.pending_cancel = "CANCELLED", False

    async def _create(self, request: Request) -> Response:
        return await self._serve(request, "create", self._create_order, trade=True)

    async def _create_order(self, request: Request, principal: Principal, _fault: Fault | None) -> Response:
        try:
            body = json.loads(await request.body())
            config = body["order_configuration"]
            kind, params = next(iter(config.items()))
            side, product_id = body["side"], body["product_id"]
        except (ValueError, KeyError, TypeError, AttributeError, StopIteration):
            return _error(400, "INVALID_ARGUMENT", "invalid order request")
        order_type = {"limit_limit_gtc": "LIMIT", "market_market_ioc": "MARKET"}.get(kind)
        size = params.get("base_size") if isinstance(params, dict) else None
        price = params.get("limit_price", "30000") if isinstance(params, dict) else None
        failure = None
        if order_type is None:
            failure = "UNSUPPORTED_ORDER_CONFIGURATION"
        elif side not in ("BUY", "SELL") or _decimal(size) is None or _decimal(price) is None:
            failure = "INVALID_ARGUMENT"
        if failure is not None:
            error_response = {"error": failure, "message": failure, "error_details": "", "preview_failure_reason": ""}
            return JSONResponse({"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
                                 "error_response": error_response})  # fmt: skip
        order_id = self.place_order(
            principal.label, product_id=str(product_id), side=side, base_size=str(size), limit_price=str(price),
            order_type=str(order_type), client_order_id=str(body.get("client_order_id") or "") or None,
        )  # fmt: skip
        success = {"order_id": order_id, "product_id": product_id, "side": side,
                   "client_order_id": self._orders[order_id].client_order_id}  # fmt: skip
        return JSONResponse({"success": True, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": order_id,
                             "success_response": success, "order_configuration": config})  # fmt: skip

    async def _get_order(self, request: Request) -> Response:
        async def handler(_r: Request, principal: Principal, _f: Fault | None) -> Response:
            with self._lock:
                order = self._orders.get(request.path_params["order_id"])
                if order is None or order.owner != principal.label:
                    return _error(404, "NOT_FOUND", _NOT_FOUND)
                return JSONResponse({"order": order.as_coinbase()})

        return await self._serve(request, "get_order", handler)

    async def _list_orders(self, request: Request) -> Response:
        async def handler(_r: Request, principal: Principal, _f: Fault | None) -> Response:
            params = request.query_params
            statuses = set(params.getlist("order_status"))
            limit, cursor, start = params.get("limit", str(LIST_MAX_LIMIT)), params.get("cursor", ""), None
            if not limit.isdigit() or not 0 < int(limit) <= LIST_MAX_LIMIT or not (cursor == "" or cursor.isdigit()):
                return _error(400, "INVALID_ARGUMENT", "invalid limit or cursor")
            if "OPEN" in statuses and len(statuses) > 1:
                return _error(400, "INVALID_ARGUMENT", "OPEN order status cannot be combined with other statuses")
            if statuses - set(STATUS_MAP):
                return _error(400, "INVALID_ARGUMENT", "invalid order_status")
            if params.get("start_date"):
                try:
                    start = datetime.fromisoformat(params["start_date"].replace("Z", "+00:00"))
                except ValueError:
                    return _error(400, "INVALID_ARGUMENT", "invalid start_date")
            with self._lock:
                mine = [
                    o for o in self._orders.values()
                    if o.owner == principal.label and (not statuses or o.status in statuses)
                    and (start is None or o.created >= start) and (not cursor or _position(o) < int(cursor))
                ]  # fmt: skip
                mine.sort(key=_position, reverse=True)
                page = mine[: int(limit)]
                more = len(mine) > len(page)
                # Newest first by creation; the cursor is where the next page resumes (opaque to clients).
                body = {"orders": [o.as_coinbase() for o in page], "sequence": "0", "has_next": more,
                        "cursor": str(_position(page[-1])) if more else ""}  # fmt: skip
            return JSONResponse(body)

        return await self._serve(request, "list_orders", handler)

    async def _key_permissions(self, request: Request) -> Response:
        async def handler(_r: Request, principal: Principal, _f: Fault | None) -> Response:
            return JSONResponse(
                {
                    "can_view": True,
                    "can_trade": principal.can_trade,
                    "can_transfer": False,
                    "portfolio_uuid": principal.portfolio_uuid,
                    "portfolio_type": "DEFAULT",
                }
            )

        return await self._serve(request, "key_permissions", handler)

    async def _user(self, request: Request) -> Response:
        async def handler(_r: Request, principal: Principal, _f: Fault | None) -> Response:
            user = {"id": principal.user_id, "name": "Simulated User", "username": None, "resource": "user",
                    "resource_path": USER_PATH}  # fmt: skip
            return JSONResponse({"data": user})

        return await self._serve(request, "user", handler)
