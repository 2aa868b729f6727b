"""create_app(): assembles the HTTP edge, GraphQL, health, metrics and the static UI."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import ipaddress
from collections.abc import AsyncIterator
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.static_files import create_static_files_router

from core.bootstrap import start_database, startup_checks, stop_database
from core.capability_routes import mounted_routes
from core.logging import configure_logging
from core.registry import get_registry
from core.settings import ROOT, get_settings
from core.web import (
    EdgeMiddleware,
    graphql_get,
    graphql_post,
    http_exception_handler,
    internal_error_handler,
    security_headers,
)

FRONTEND_DIST = ROOT / "frontend" / "dist"

PLACEHOLDER = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>会家 Huijia</title></head>
<body style="font-family:sans-serif;max-width:40rem;margin:4rem auto">
<h1>会家 · 工会服务职工平台</h1>
<p>平台正在运行。GraphQL 接口位于 <a href="/graphql">/graphql</a>(在浏览器中打开即为 GraphiQL)。</p>
<p>健康检查:<a href="/health">/health</a> · 指标:<a href="/metrics">/metrics</a></p>
</body></html>"""


async def _redis_health(url: str, queue: str) -> tuple[str, int | None]:
    """("ok", jobs waiting in the arq queue) or ("unavailable", None). Its own short-lived connection,
    so the answer is about Redis now, not about a pool opened earlier."""
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        await client.ping()
        return "ok", int(await client.zcard(queue))
    except Exception:
        return "unavailable", None
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


@get("/health", media_type=MediaType.JSON)
async def health() -> Response[Any]:
    """Readiness, each dependency apart: the database, Redis (when jobs go to workers) and how many
    jobs wait in the queue (a number to alert on: it grows when no worker takes jobs). 503 when the
    database or a configured Redis does not answer."""
    from core.dbutil import raw

    try:
        await raw("SELECT 1")
        db = "ok"
    except Exception:
        db = "unavailable"
    settings = get_settings()
    redis, depth = ("not configured", None)
    if settings.redis_url:
        redis, depth = await _redis_health(settings.redis_url, settings.job_queue)
    ready = db == "ok" and redis != "unavailable"
    return Response({"status": "ok" if ready else "degraded", "database": db, "redis": redis, "queueDepth": depth},
                    status_code=200 if ready else 503)


@get(["/", "/{spa_path:path}"], media_type=MediaType.HTML, include_in_schema=False)  # SPA: client routes (/org, /users…) get index.html
async def index() -> str:
    page = FRONTEND_DIST / "index.html"
    return page.read_text(encoding="utf-8") if page.exists() else PLACEHOLDER


def spa_or_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """A browser opening a page of the web UI gets the UI even where a plugin's file route shares the
    path's first segment (``/hardship/cases`` beside ``GET /hardship/attachments/{id}``): the router
    follows the static segment and never reaches the catch-all. Only a GET that asks for HTML is
    answered so; API and file clients keep their JSON errors."""
    if (exc.status_code == 404 and request.method == "GET" and "text/html" in request.headers.get("accept", "")
            and not request.url.path.startswith(("/graphql", "/health", "/metrics", "/assets", "/m/"))):
        page = FRONTEND_DIST / "index.html"
        return Response(page.read_text(encoding="utf-8") if page.exists() else PLACEHOLDER, media_type=MediaType.HTML)
    return http_exception_handler(request, exc)


def metrics_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Who may read /metrics: the holder of ``HUIJIA_METRICS_TOKEN`` when one is set; otherwise
    anyone in development and test, and only loopback clients in production. Refusals are 404 so
    that the endpoint's existence is not advertised."""
    settings = get_settings()
    if settings.metrics_token:
        given = connection.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, f"Bearer {settings.metrics_token}".encode()):
            raise NotFoundException()
        return
    if settings.env != "production":
        return
    host = connection.client.host if connection.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotFoundException()


class Metrics(PrometheusController):
    path = "/metrics"
    guards = [metrics_guard]


def settle_heap() -> None:
    """Move everything loaded at start-up (the schema, plugins, settings: hundreds of thousands of
    objects that live as long as the process) out of the garbage collector's sight, and let the
    youngest generation grow before a collection. Profiling the busiest list showed about a tenth of
    the server's time in the collector, mostly walking those long-lived objects again and again;
    requests make no reference cycles worth hunting every 700 allocations."""
    gc.collect()
    gc.freeze()
    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 20_000), gen1, gen2)


def create_app() -> Litestar:
    settings = get_settings()
    configure_logging(settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await start_database()
        await startup_checks()
        if settings.env != "test":  # the suite starts many apps in one process: freezing would keep their garbage
            settle_heap()
        stop_cron = asyncio.Event()
        cron_task = None
        if not settings.redis_url and settings.env != "test":
            # Embedded default: no arq worker, so its cron jobs run here.
            from core.jobs.scheduler import run_cron

            cron_task = asyncio.create_task(run_cron(stop_cron))
        try:
            yield
        finally:
            from core.jobs.runner import close_runner, drain_local

            stop_cron.set()
            if cron_task is not None:
                await cron_task
            await drain_local(timeout=5)
            for _plugin, stop in get_registry().shutdown:  # e.g. funds' background chain linker
                await stop()
            await close_runner()
            await stop_database()

    prometheus = PrometheusConfig(app_name="huijia", group_path=True, exclude=["/metrics", "/health"])
    route_handlers: list[Any] = [health, index, graphql_post, graphql_get, Metrics]
    route_handlers += mounted_routes()  # register_routes: roster upload, export downloads, a capability's files ...
    if (FRONTEND_DIST / "assets").exists():
        route_handlers.append(create_static_files_router(path="/assets", directories=[FRONTEND_DIST / "assets"]))
    return Litestar(
        route_handlers=route_handlers,
        middleware=[prometheus.middleware, EdgeMiddleware],
        exception_handlers={HTTPException: spa_or_error, Exception: internal_error_handler},
        before_send=[security_headers],
        lifespan=[lifespan],
        debug=False,
        openapi_config=None,
        logging_config=None,
    )
