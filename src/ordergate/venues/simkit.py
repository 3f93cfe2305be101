"""What every venue simulator shares: request accounting, fault injection, dropped connections, and the
unsigned `/_control` surface. A venue's simulator adds only its protocol (signing, bodies, error codes).

Faults are consumed once, by the first request whose operation (and api key, when given) matches:
    delay_before  sleep `seconds`, then process normally
    delay_after   process, then sleep `seconds` before answering (a client timeout misses a done deed)
    http_error    answer HTTP `status` with an HTML error page; unprocessed unless `process` is true
    venue_error   answer the venue's own error body for `error` without processing; `error` is either one
                  of the symbolic names below or a venue-native error string/code
    garbage       answer HTTP 200 with a truncated, unparseable body; unprocessed unless `process` is true
    reset         drop the TCP connection without answering; unprocessed unless `process` is true. Under
                  uvicorn the socket is aborted through the server's transport; other servers see an exception
    pending       cancel only: acknowledge without finishing; the cancel settles after `seconds`

Symbolic venue errors every simulator renders in its own words:
    rate_limit, ban, auth (bad key/signature), permission (key may not trade), unavailable, restricted
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ordergate.domain.integrations import OrderStatus

FaultKind = Literal["delay_before", "delay_after", "http_error", "venue_error", "garbage", "reset", "pending"]
FAULT_KINDS: frozenset[str] = frozenset(FaultKind.__args__)  # type: ignore[attr-defined]
SYMBOLIC_ERRORS = frozenset({"rate_limit", "ban", "auth", "permission", "unavailable", "restricted"})
_ABORT = "ordergate.simulator.abort"
_HTML = "<html><head><title>{0}</title></head><body><h1>{0}</h1><p>cloudflare</p></body></html>"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: FaultKind
    op: str  # the venue operation it applies to, e.g. "CancelOrder" (Kraken) or "cancel" (Binance)
    api_key: str | None = None
    seconds: float = 0.0
    status: int = 502
    error: str = "unavailable"
    process: bool = False


@dataclass(frozen=True, slots=True)
class SimAccount:
    """Credentials a simulator issued, in the shape `POST /authenticate` takes them."""

    api_key: str
    secret: str
    passphrase: str | None = None
    extras: dict[str, object] = field(default_factory=dict)


class SimulatorBase:
    """Bookkeeping shared by all simulators. Subclasses call `serve_op` from their route handlers."""

    def __init__(self, *, jitter_s: float = 0.0) -> None:
        self._lock = threading.RLock()  # tests drive the Python API from another thread than the server's
        self._faults: deque[Fault] = deque()
        self._in_flight: Counter[str] = Counter()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.total_requests = 0
        self.errors: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.jitter_s = jitter_s

    # -- what every venue simulator offers the conformance kit -----------------------------------------
    def new_account(self, *, can_trade: bool = True) -> SimAccount:
        raise NotImplementedError

    def place(self, account: SimAccount, *, volume: str = "1", price: str = "100") -> tuple[str, dict[str, Any]]:
        """A resting limit order → (order id, the extra cancel-request fields Mesh's client would send)."""
        raise NotImplementedError

    def fill(self, order_id: str, volume: str | None = None) -> None:
        raise NotImplementedError

    def status(self, order_id: str) -> OrderStatus:
        """Ground truth, in Mesh's order status values."""
        raise NotImplementedError

    def render_venue_error(self, error: str) -> Response:
        raise NotImplementedError

    def backdate(self, order_id: str, seconds: float) -> None:
        """Move an order's creation time back (the conformance kit's `from` scenario); optional."""
        raise NotImplementedError

    # -- faults and accounting -------------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}")
        with self._lock:
            self._faults.append(fault)

    def count(self, api_key: str, op: str) -> int:
        with self._lock:
            return self.requests[(api_key, op)]

    def count_key(self, api_key: str) -> int:
        with self._lock:
            return sum(n for (key, _), n in self.requests.items() if key == api_key)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self.total_requests,
                "byKeyOp": [{"apiKey": k, "op": op, "count": n} for (k, op), n in self.requests.items()],
                "errors": dict(self.errors),
                "faultsQueued": len(self._faults),
            }

    def _take_fault(self, op: str, api_key: str) -> Fault | None:
        for fault in self._faults:
            if fault.op == op and fault.api_key in (None, api_key):
                self._faults.remove(fault)
                return fault
        return None

    async def serve_op(
        self,
        request: Request,
        op: str,
        api_key: str,
        process: Callable[[Fault | None], Awaitable[Response] | Response],
    ) -> Response:
        """Count the request, apply a queued fault, and otherwise answer what `process` answers."""
        with self._lock:
            self.requests[(api_key, op)] += 1
            self.total_requests += 1
            fault = self._take_fault(op, api_key)
            self._in_flight[api_key] += 1
            self.max_in_flight[api_key] = max(self.max_in_flight[api_key], self._in_flight[api_key])
        try:
            return await self._apply(request, fault, process)
        finally:
            with self._lock:
                self._in_flight[api_key] -= 1

    async def _apply(
        self, request: Request, fault: Fault | None, process: Callable[[Fault | None], Awaitable[Response] | Response]
    ) -> Response:
        kind = fault.kind if fault else None
        if kind == "reset":
            if fault is not None and fault.process:
                await _call(process, None)
            if not request.scope.get(_ABORT, lambda: False)():
                raise RuntimeError("simulated connection reset")
            return Response(status_code=500)  # written to a dead socket: never seen
        if kind == "venue_error" and fault is not None:
            self.errors[fault.error] += 1
            return self.render_venue_error(fault.error)
        if kind == "garbage" and fault is not None:
            if fault.process:
                await _call(process, None)
            return Response(b'{"result": {"cou', status_code=200, media_type="application/json")
        if kind == "http_error" and fault is not None:
            if fault.process:
                await _call(process, None)
            return HTMLResponse(_HTML.format(f"{fault.status} Bad Gateway"), status_code=fault.status)
        if self.jitter_s:
            await asyncio.sleep(random.uniform(0, self.jitter_s))  # noqa: S311 - not security related
        if kind == "delay_before" and fault is not None:
            await asyncio.sleep(fault.seconds)
        response = await _call(process, fault)
        if kind == "delay_after" and fault is not None:
            await asyncio.sleep(fault.seconds)
        return response

    # -- the unsigned control surface ------------------------------------------------------------------
    def control_routes(self) -> list[Route]:
        return [
            Route("/_control/accounts", control_endpoint(self._c_account), methods=["POST"]),
            Route("/_control/orders", control_endpoint(self._c_place), methods=["POST"]),
            Route("/_control/orders/{order_id}", control_endpoint(self._c_order), methods=["GET"]),
            Route("/_control/orders/{order_id}/fill", control_endpoint(self._c_fill), methods=["POST"]),
            Route("/_control/faults", control_endpoint(self._c_fault), methods=["POST"]),
            Route("/_control/stats", control_endpoint(lambda _p, _b: self.stats()), methods=["GET"]),
        ]

    def describe(self, order_id: str) -> dict[str, Any]:
        """The venue's own view of an order, for the control surface."""
        return {"status": self.status(order_id).value}

    def _c_account(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        account = self.new_account(can_trade=bool(body.get("canTrade", True)))
        return {"apiKey": account.api_key, "secret": account.secret, "passphrase": account.passphrase}

    def _c_place(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        account = SimAccount(required_text(body, "apiKey"), "")
        order_id, extra = self.place(account, volume=str(body.get("volume", "1")), price=str(body.get("price", "100")))
        return {"orderId": order_id, "cancelFields": extra, "order": self.describe(order_id)}

    def _c_order(self, path: dict[str, str], _body: dict[str, Any]) -> dict[str, Any]:
        return {"orderId": path["order_id"], "order": self.describe(path["order_id"])}

    def _c_fill(self, path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.fill(path["order_id"], body.get("volume"))
        return self._c_order(path, body)

    def _c_fault(self, _path: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        self.inject(
            Fault(
                kind=required_text(body, "kind"),  # type: ignore[arg-type]
                op=required_text(body, "op"),
                api_key=body.get("apiKey"),
                seconds=float(body.get("seconds", 0.0)),
                status=int(body.get("status", 502)),
                error=str(body.get("error", "unavailable")),
                process=bool(body.get("process", False)),
            )
        )
        return {"queued": self.stats()["faultsQueued"]}


async def _call(process: Callable[[Fault | None], Awaitable[Response] | Response], fault: Fault | None) -> Response:
    result = process(fault)
    return await result if asyncio.iscoroutine(result) else result  # type: ignore[return-value]


def required_text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is required and must be a string")
    return value


def control_endpoint(handler: Callable[[dict[str, str], dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        try:
            raw = await request.body() if request.method == "POST" else b""
            body = await request.json() if raw else {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            return JSONResponse(handler(dict(request.path_params), body))
        except KeyError as exc:
            return JSONResponse({"error": f"unknown {exc}"}, status_code=404)
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return endpoint


class WithAbort:
    """Gives handlers a way to drop the connection, which Starlette's `send` wrappers hide."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, _ABORT: _aborter(send)}
        await self.app(scope, receive, send)


def _aborter(send: Send) -> Callable[[], bool]:
    def abort() -> bool:
        # uvicorn's `send` is a bound method of its per-request cycle, which holds the socket transport.
        transport = getattr(getattr(send, "__self__", None), "transport", None)
        if transport is None:
            return False
        transport.abort()
        return True

    return abort


def venue_path(request: Request) -> str:
    """The request path as the venue sees it: without the prefix a simulator is mounted under (the sandbox mounts
    each one at /sandbox/<family>), since clients sign the venue's own paths."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path


def positive_decimal(text: Any) -> Decimal | None:
    """A positive, finite quantity or price from a request field; None for anything else (venues refuse it)."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None
