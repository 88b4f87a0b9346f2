"""The ASGI app: Starlette with the GraphQL endpoint (HTTP + graphql-transport-ws), health,
readiness and metrics; request guards (body size, token, rate limit) and CORS.

    uvicorn --factory api.app:create_app      # or: recsys api
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api import json_lane
from api import metrics as prometheus
from api.auth import ANONYMOUS, PRINCIPAL, Auth, Principal, Role
from api.config import ApiConfig, cors_origins, jwt_secret, partner_keys
from api.db import Database
from api.errors import RATE_LIMITED, UNAUTHENTICATED, ApiError, coded, error_body
from api.hub import NotificationHub
from api.ratelimit import TokenBuckets
from api.response_cache import ResponseCache
from api.schema import Context, build_schema, context_for
from api.state import AppState, ModelCache, TimedCache
from core.db.session import database_url
from core.explain.service import make_explainer
from core.settings import Settings, get_settings

log = logging.getLogger("api")
GRAPHQL_PATH = "/graphql"


def _peer(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class Guard:
    """Before GraphQL runs: body at most max_body_bytes (413), a valid token or API key when
    one is sent (401), and the caller's token bucket (429). Answers are GraphQL-shaped."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        limit = self.state.config.max_body_bytes
        headers = Headers(scope=scope)

        async def refuse(status: int, code: str, message: str, extra: dict[str, str] | None = None) -> None:
            prometheus.observe("http", code, time.perf_counter() - started)
            response = JSONResponse(error_body(code, message), status_code=status, headers=extra)
            await response(scope, receive, send)

        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await refuse(413, "PAYLOAD_TOO_LARGE", f"request body over {limit} bytes")
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > limit:
                await refuse(413, "PAYLOAD_TOO_LARGE", f"request body over {limit} bytes")
                return
        try:
            principal = self.state.auth.from_headers(headers, _peer(scope))
        except ApiError as exc:
            await refuse(401, UNAUTHENTICATED, str(exc), {"WWW-Authenticate": "Bearer"})
            return
        allowed, wait = self.state.buckets.allow(principal.key)
        if not allowed:
            retry = str(max(1, round(wait + 0.5)))
            await refuse(429, RATE_LIMITED, f"too many requests: retry in {retry} s", {"Retry-After": retry})
            return
        scope[PRINCIPAL] = principal
        await self.app(scope, replay_body(bytes(body), receive), send)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that first hands the already-read request body back, then defers to the
    original (the body had to be read to check auth, or to try the plain JSON lane)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class GraphQLApp(GraphQL):  # type: ignore[type-arg]
    def __init__(self, state: AppState) -> None:
        super().__init__(
            build_schema(state.config),
            graphql_ide="graphiql" if state.settings.demo_login else None,
            allow_queries_via_get=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            max_subscriptions_per_connection=10,
            allowed_origins=cors_origins(state.settings),
        )
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Plain JSON POSTs through api.json_lane; the rest (and those it declines) through
        strawberry's view, with the body replayed."""
        if scope["type"] != "http" or scope["method"] != "POST":
            await super().__call__(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if await json_lane.answer(self, scope, bytes(body), receive, send):
            return
        await super().__call__(scope, replay_body(bytes(body), receive), send)

    async def get_context(self, request: Any, response: Any) -> Context:  # type: ignore[override]
        principal: Principal = request.scope.get(PRINCIPAL, ANONYMOUS)
        return context_for(self.state, request, response, principal)

    def encode_json(self, data: object) -> bytes:
        """orjson: a tenth of json.dumps' time for a recommendations answer. Values it does not
        take (an int over 64 bits in a JSON scalar) go through json as before."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

    async def process_result(self, request: Any, result: Any) -> Any:
        """Every error leaves with a code, even one raised outside the operation's extensions."""
        if result.errors:
            result.errors = [coded(e) for e in result.errors]
        return await super().process_result(request, result)

    async def on_ws_connect(self, context: Context) -> Any:  # type: ignore[override]
        params = context.connection_params or {}
        headers = {str(k).lower(): v for k, v in params.items() if isinstance(v, str)}
        if "token" in headers and "authorization" not in headers:
            headers["authorization"] = f"Bearer {headers['token']}"
        try:
            context.principal = self.state.auth.from_headers(headers, _peer(context.request.scope))
        except ApiError as exc:
            raise ConnectionRejectionError({"message": str(exc), "code": UNAUTHENTICATED}) from None
        if context.principal.role not in (Role.CLIENT, Role.ANALYST):
            # Websockets carry subscriptions only, and those are for clients and analysts.
            raise ConnectionRejectionError(
                {"message": "a client or analyst token is required", "code": UNAUTHENTICATED}
            )
        allowed, _ = self.state.buckets.allow(context.principal.key)
        if not allowed:
            raise ConnectionRejectionError({"message": "too many requests", "code": RATE_LIMITED})
        return None


def create_app(
    settings: Settings | None = None,
    config: ApiConfig | None = None,
    db_url: str | None = None,
    bootstrap: str | None = None,
) -> Starlette:
    """The app. db_url / bootstrap default to the configured (or embedded) servers; with
    config.kafka false no broker is used (subscriptions then only get local publishes)."""
    settings = settings or get_settings()
    config = config or ApiConfig()
    secret = jwt_secret(settings)  # fails fast (ConfigError) without a secret outside the demo
    db = Database(db_url or database_url(settings), max_size=config.pool_max)
    state = AppState(
        settings=settings,
        config=config,
        db=db,
        auth=Auth(secret, settings.jwt_ttl_minutes, partner_keys(settings)),
        hub=NotificationHub(None),
        buckets=TokenBuckets(config.rate_per_s, config.rate_burst),
        models=ModelCache(db, config.model_refresh_s),
        profiles=TimedCache(config.profiles_ttl_s),
        explainer=make_explainer(settings),  # a misconfigured LLM fails here, at start-up
        responses=ResponseCache(config.response_cache) if config.response_cache > 0 else None,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if config.kafka:
            resolved: str = bootstrap if bootstrap else await asyncio.to_thread(_bootstrap, settings)
            state.hub.bootstrap = resolved
            await _ensure_topics(resolved)
            await state.hub.start()
        # Load the model stack and the serving model set in the background: the process
        # answers at once, the first decision does not pay for the imports.
        warm = asyncio.create_task(_warm_models(state))
        try:
            yield
        finally:
            warm.cancel()
            await state.hub.stop()
            await db.close()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks: dict[str, str] = {}
        try:
            async with db.connection() as conn:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), 2.0)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"down: {type(exc).__name__}"
        if state.hub.enabled:
            checks["broker"] = "ok" if await state.hub.check() else "down"
        else:
            checks["broker"] = "disabled"
        ready = all(v in ("ok", "disabled") for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        body, content_type = prometheus.render()
        return Response(body, headers={"Content-Type": content_type})

    graphql = GraphQLApp(state)
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
            WebSocketRoute(GRAPHQL_PATH, graphql),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=cors_origins(settings),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-API-Key"],
                max_age=600,
            ),
            Middleware(Guard, state=state),
        ],
        lifespan=lifespan,
    )
    app.state.recsys = state
    return app


async def _warm_models(state: AppState) -> None:
    try:
        await state.models.get()
    except Exception as exc:  # noqa: BLE001 - the first request that needs models retries
        log.warning("model set not loaded at start-up: %s", exc)


def _bootstrap(settings: Settings) -> str:
    from core.events.broker import resolve_bootstrap

    return resolve_bootstrap(settings)


async def _ensure_topics(bootstrap: str) -> None:
    from core.events.broker import ensure_topics

    try:
        await asyncio.wait_for(ensure_topics(bootstrap), 15)
    except Exception as exc:  # noqa: BLE001 - the hub retries; readiness reports the broker
        log.warning("could not create topics on %s: %s", bootstrap, exc)


__all__ = ["create_app"]
