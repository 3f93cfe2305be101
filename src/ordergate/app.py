"""ASGI app factory: settings → lifespan (database, token keys, HTTP pool, venues) → routes."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from ordergate import __version__
from ordergate.api import authenticate, directory, envelope, extensions, killswitch, listing, transactions
from ordergate.api.attempt import request_id_of
from ordergate.api.auth import ClientLimit, SourceGuard
from ordergate.api.hot import HotEndpoint
from ordergate.api.openapi import build_openapi
from ordergate.coordination import make_coordination
from ordergate.domain.cancel import CancelService
from ordergate.domain.errors import ErrorType, GatewayError
from ordergate.gateway import Gateway
from ordergate.observability import flush_metrics_forever, render_metrics
from ordergate.settings import Settings
from ordergate.store.audit import AuditLog
from ordergate.store.clients import ClientStore
from ordergate.store.clients import Scope as ClientScope
from ordergate.store.db import make_engine, migrate, sessions
from ordergate.store.idempotency import IdempotencyStore
from ordergate.tokens import TokenKeyError, TokenSealer, parse_token_keys
from ordergate.venues.health import VenueHealth
from ordergate.venues.registry import VenueRegistry
from ordergate.venues.transport import Transport

log = logging.getLogger("ordergate")
# Rows spooled during a short database blip drain within seconds; still failing after this means stuck.
SPOOL_STUCK_AFTER_S = 30.0


def load_sealer(settings: Settings) -> TokenSealer:
    if settings.token_keys:
        return TokenSealer(parse_token_keys(settings.token_keys))
    if settings.sandbox:
        from ordergate.sandbox import dev_token_keys

        return TokenSealer(parse_token_keys(dev_token_keys()))
    raise TokenKeyError(
        "ORDERGATE_TOKEN_KEYS is required outside sandbox mode (e.g. `k1:<base64 of 32 random bytes>`; "
        "`ordergate tokens new-key` prints one)"
    )


async def build_gateway(settings: Settings) -> Gateway:
    sealer = load_sealer(settings)
    engine = make_engine(settings.effective_database_url())
    await migrate(engine)
    session_factory = sessions(engine)
    transport = Transport(
        timeout_s=settings.upstream_timeout_s, max_response_bytes=settings.max_upstream_response_bytes
    )
    await transport.start()
    coordination = make_coordination(settings.redis_url)
    health = VenueHealth(getattr(coordination, "redis", None))
    transport.health = health
    registry = VenueRegistry(
        transport,
        base_urls=settings.base_urls,
        testnet=settings.testnet,
        coordination=coordination,
        settings=settings,
    )
    audit = AuditLog(
        session_factory,
        engine=engine,
        spool_dir=Path(settings.audit_spool_dir),
        aggregate_window_s=settings.auth_audit_window_s,
    )
    await audit.start()
    gateway = Gateway(
        settings=settings,
        engine=engine,
        clients=ClientStore(
            session_factory, cache_ttl_s=settings.client_cache_ttl_s, miss_ttl_s=settings.client_miss_ttl_s
        ),
        audit=audit,
        sealer=sealer,
        transport=transport,
        registry=registry,
        cancels=CancelService(registry, sealer, coordination, key_budgets=settings.venue_key_budgets, health=health),
        idempotency=IdempotencyStore(session_factory, stale_after_s=settings.upstream_timeout_s * 4 + 30),
        coordination=coordination,
        client_limit=ClientLimit(coordination, settings.client_rate_per_s, settings.client_burst),
        source_guard=SourceGuard(settings.source_lookups_per_s, settings.source_lookup_burst),
        health=health,
    )
    gateway.background.append(asyncio.create_task(gateway.idempotency.purge_forever(), name="idempotency-purge"))
    gateway.background.append(asyncio.create_task(flush_metrics_forever(), name="metrics-flush"))
    return gateway


async def close_gateway(gateway: Gateway) -> None:
    for task in gateway.background:
        task.cancel()
    await asyncio.gather(*gateway.background, return_exceptions=True)
    await gateway.audit.stop()
    await gateway.transport.close()
    await gateway.coordination.close()
    await gateway.engine.dispose()


class OrdergateApp(FastAPI):
    """FastAPI, with the hot endpoints served on raw ASGI (api/hot.py) without FastAPI's per-request machinery.

    `POST /api/v1/transactions/cancel` and `/details` are dispatched straight to their raw-ASGI endpoints:
    FastAPI's middleware stack, router matching, dependency solving and Starlette's Request/Response cost more
    CPU per cancel than auth, validation, token opening and signing together (measured in bench/README.md). The
    routes stay registered with FastAPI as well, and every other request (other methods and paths included)
    goes through FastAPI unchanged.
    """

    hot_routes: dict[tuple[str, str], HotEndpoint] = {}  # (method, path) -> endpoint; set by create_app
    gateway: Gateway | None = None  # set by the lifespan, as app.state.gateway (read here without State's __getattr__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            endpoint = self.hot_routes.get((scope["method"], path))
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def readiness(gateway: Gateway) -> JSONResponse:
    """Database and Redis reachable (each checked with a one-second budget)."""
    checks: dict[str, str] = {}

    async def database() -> None:
        async with gateway.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    for name, probe in (("database", database), ("redis", gateway.coordination.ping)):
        if name == "redis" and not gateway.settings.redis_url:
            checks[name] = "not configured"
            continue
        try:
            await asyncio.wait_for(probe(), 1.0)
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks[name] = f"unreachable ({type(exc).__name__})"
    ready = all(v in ("ok", "not configured") for v in checks.values())
    spool = await asyncio.to_thread(gateway.audit.spool_state)
    if spool["waiting"] and spool["stuckSeconds"] >= SPOOL_STUCK_AFTER_S:
        # Answered requests whose audit rows cannot reach the database: take this worker out of rotation.
        checks["auditSpool"] = f"{spool['waiting']} rows stuck for {spool['stuckSeconds']:.0f} s"
        ready = False
    elif spool["waiting"]:
        checks["auditSpool"] = f"{spool['waiting']} rows waiting"
    else:
        checks["auditSpool"] = "ok"
    if spool["rejected"]:
        checks["auditRejected"] = f"{spool['rejected']} rows refused by the database, kept in the spool directory"
    return JSONResponse({"status": "ready" if ready else "unavailable", **checks}, status_code=200 if ready else 503)


_LOOPBACK = ("127.", "::1", "::ffff:127.")


def _metrics_refusal(request: Request, settings: Settings) -> Response | None:
    if settings.metrics_token:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.metrics_token}"
        if hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode()):
            return None
        return PlainTextResponse("metrics need the bearer token\n", 401, {"WWW-Authenticate": "Bearer"})
    peer = request.client.host if request.client else ""
    if settings.sandbox or peer.startswith(_LOOPBACK):
        return None
    return PlainTextResponse("metrics are served to loopback only; set ORDERGATE_METRICS_TOKEN\n", 403)


_SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def _add_docs(app: FastAPI) -> None:
    from swagger_ui_bundle import swagger_ui_path

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(build_openapi())

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        # Swagger UI from the installed package, not a CDN: /docs works on a host without internet access.
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="ordergate API",
            swagger_js_url="/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/docs/static/swagger-ui.css",
            swagger_favicon_url="/docs/static/favicon-32x32.png",
        )

    @app.get("/docs/static/{name}", include_in_schema=False)
    async def docs_static(name: str) -> Response:
        media = _SWAGGER_FILES.get(name)
        if media is None:
            raise StarletteHTTPException(404, "No such file.")
        data = await asyncio.to_thread((swagger_ui_path / name).read_bytes)
        return Response(data, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway = await build_gateway(settings)
        app.state.gateway = app.gateway = gateway  # type: ignore[attr-defined]
        if settings.sandbox:
            from ordergate.sandbox import seed

            app.state.sandbox_demo = await seed(app, gateway)
        try:
            yield
        finally:
            await close_gateway(gateway)

    app = OrdergateApp(
        title="ordergate",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(transactions.router)
    app.include_router(listing.router)  # /transactions/list (issue 17)
    app.include_router(authenticate.router)
    app.include_router(directory.router)
    app.include_router(extensions.router)  # ordergate's own endpoints (issue 18)
    app.include_router(killswitch.router)
    app.hot_routes = {
        ("POST", "/api/v1/transactions/cancel"): HotEndpoint(app, "transactions/cancel", ClientScope.write),
        ("POST", "/api/v1/transactions/details"): HotEndpoint(app, "transactions/details", ClientScope.read),
    }

    if settings.docs:
        _add_docs(app)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        return await readiness(request.app.state.gateway)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        refused = _metrics_refusal(request, settings)
        if refused is not None:
            return refused
        body, content_type = render_metrics()
        return Response(body, media_type=content_type)

    # Starlette would answer `/api/v1/transactions/cancel/` with a 307 whose Location is built from the Host
    # header (an open redirect for whoever controls it); an exact path or a 404 is all Mesh's API has.
    app.router.redirect_slashes = False

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        error_type = {404: ErrorType.routeNotFound, 405: ErrorType.methodNotAllowed}.get(
            exc.status_code, ErrorType.invalidField
        )
        response = envelope.error(GatewayError(error_type, str(exc.detail)), request_id=request_id_of(request))
        if exc.headers and "Allow" in exc.headers:  # RFC 9110 §15.5.6: a 405 names the methods that work
            response.headers["Allow"] = exc.headers["Allow"]
        return response

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception) -> Response:
        rid = request_id_of(request)
        log.exception("unhandled error outside a route", extra={"request_id": rid})
        return envelope.internal_error(rid)

    if settings.sandbox:
        from ordergate.sandbox import mount_simulators

        mount_simulators(app)
    return app
