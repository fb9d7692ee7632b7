"""The ASGI application: middleware, error format, health and metrics, and every domain's routes.

Domains are discovered, not listed: a package ``etalage.<domain>`` with an ``api`` module exposing
``router`` is mounted; optional ``startup(app)`` / ``shutdown(app)`` functions there run with the app.
"""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

import etalage
from etalage.config import Settings, get_settings
from etalage.core import jobs
from etalage.core.errors import ServiceUnavailable, install_error_handlers
from etalage.core.http import PlumbingMiddleware, RequestIdLogFilter
from etalage.core.ratelimit import build_rate_limiter
from etalage.core.routing import mount
from etalage.db import Database, current_revision, head_revision, upgrade_if_behind

log = logging.getLogger("etalage")


def domain_modules(name: str) -> list[ModuleType]:
    """Import ``etalage.<domain>.<name>`` for every domain that has one, in a stable order."""
    root = Path(etalage.__path__[0])
    modules = []
    for info in sorted(pkgutil.iter_modules(etalage.__path__), key=lambda m: m.name):
        if info.ispkg and (root / info.name / f"{name}.py").exists():
            modules.append(importlib.import_module(f"etalage.{info.name}.{name}"))
    return modules


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    if getattr(root, "_etalage_configured", False):
        return
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    root._etalage_configured = True  # type: ignore[attr-defined]


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings)
    owns_db = db is None
    db = db or Database(settings.db_url, pool_size=settings.db_pool_size)
    api_modules = domain_modules("api")
    domain_modules("jobs")  # job handlers register themselves on import

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.ensure_dirs()
        # Sync routes and dependencies run in this many threads (anyio's default is 40, more than the
        # connection pool keeps open: the extra requests made the pool open and close connections).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.server_threads
        if settings.should_auto_migrate:
            upgrade_if_behind(db.url)
        if settings.redis_url:
            from etalage.core import bus

            bus.connect_redis(settings.redis_url)
        worker = None
        if settings.inprocess_worker:
            worker = jobs.Worker(db)
            worker.start()
        for module in api_modules:
            if hasattr(module, "startup"):
                module.startup(app)
        # Started: collect garbage again (the entry points turn it off while importing), but never scan
        # the objects made so far, which live as long as the process.
        gc.freeze()
        gc.enable()
        try:
            yield
        finally:
            for module in reversed(api_modules):
                if hasattr(module, "shutdown"):
                    module.shutdown(app)
            if worker is not None:
                worker.stop()
            if owns_db:
                db.dispose()

    app = FastAPI(
        title="Etalage API",
        version=etalage.__version__,
        description="Open social-commerce platform: shoppable videos, a transparent feed, checkout, merchants.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.limiter = build_rate_limiter(settings.redis_url)
    install_error_handlers(app)
    app.add_middleware(
        PlumbingMiddleware,
        max_body_bytes=settings.max_body_bytes,  # type: ignore[arg-type]
        hsts=settings.base_url.startswith("https://"),
        keepalive_requests=settings.http_keepalive_requests,  # type: ignore[arg-type]
    )

    @app.get("/healthz", tags=["ops"], include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], include_in_schema=False)
    def readyz() -> JSONResponse:
        try:
            db.ping()
            current = current_revision(db.engine)
        except Exception as exc:
            raise ServiceUnavailable(f"The database is not reachable: {exc.__class__.__name__}.") from exc
        head = head_revision(db.url)
        if current != head:
            raise ServiceUnavailable(
                f"The database is at migration {current}, the code expects {head}; run 'etalage db upgrade'."
            )
        return JSONResponse({"status": "ready", "database": db.dialect, "migration": current})

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def metrics() -> Response:
        import os

        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for module in api_modules:
        mount(app.router, [module.router, *getattr(module, "extra_routers", ())])

    @app.get("/", include_in_schema=False)
    def index(request: Request) -> Response:
        return JSONResponse({"name": "Etalage", "api": "/api/v1/openapi.json", "docs": "/api/docs"})

    return app
