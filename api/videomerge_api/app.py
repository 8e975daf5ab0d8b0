"""The FastAPI application: routes, middlewares, error handlers, the cache's lifecycle, OpenAPI."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from videomerge_api.cache import MergeCache
from videomerge_api.clients import ClientRegistry
from videomerge_api.errors import install_error_handlers
from videomerge_api.metrics import ApiMetrics
from videomerge_api.middleware import AuthMiddleware, BodyLimitMiddleware, RequestContextMiddleware
from videomerge_api.ratelimit import RateLimiter
from videomerge_api.routes_health import router as health_router
from videomerge_api.routes_jobs import router as jobs_router
from videomerge_api.routes_merge import merge_router
from videomerge_api.service import MergeService
from videomerge_api.settings import ApiSettings
from videomerge_api.store import MergeStore
from videomerge_api.syncer import CacheSyncer

DESCRIPTION = """Merges video clips, in order, into one MP4 in S3-compatible storage.

Start a merge with `POST /api/v1/merge` (or `POST /process`), poll its status, then fetch its result.
Each merge is a `VideoMerge` resource in Kubernetes; its `task_id` is the resource's name.
Send `Authorization: Bearer <token>`: each token belongs to a client, who sees only their own merges.
A client over its request rate or its cap of unfinished merges gets 429 with `Retry-After`."""
log = logging.getLogger(__name__)


DOCS_ASSETS = "/docs/assets"
# Two sets of names for the same merges, one per design document the service was specified from.
TAGS = [
    {
        "name": "merges",
        "description": "Start a merge, poll its status, fetch its result: `task_id` under `/api/v1/merge`.",
    },
    {
        "name": "jobs",
        "description": "The same merges under job names: `POST /process` (in the background, or waiting "
        "for the result) and `GET /job-status/{job_id}`.",
    },
    {"name": "operations", "description": "Health probes and Prometheus metrics."},
]


def create_app(settings: ApiSettings | None = None, store: MergeStore | None = None) -> FastAPI:
    settings = settings or ApiSettings()
    if store is None:
        from videomerge_api.store_kube import KubeMergeStore

        store = KubeMergeStore.from_settings(settings)
    metrics = ApiMetrics()
    cache = MergeCache() if settings.cache_enabled else None
    syncer = CacheSyncer(store, cache, settings.watch_timeout_seconds, metrics) if cache is not None else None
    if cache is not None:
        metrics.observe_cache(lambda: len(cache), lambda: cache.synced)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if syncer is not None:
            syncer.start()
        try:
            yield
        finally:
            if syncer is not None:
                syncer.stop()

    # /docs and /redoc with Swagger UI and ReDoc served from the package (fastapi-offline), not a CDN:
    # they work on a cluster without internet access.
    app = FastAPIOffline(
        title="VideoMerge API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=TAGS,
        static_url=DOCS_ASSETS,
        favicon_url=f"{DOCS_ASSETS}/favicon.png",
    )
    app.state.settings, app.state.metrics = settings, metrics
    app.state.service = MergeService(
        store, cache, metrics, settings.quota_max_active_merges, settings.quota_retry_after_seconds
    )
    app.include_router(merge_router(settings.list_max_limit))
    app.include_router(jobs_router)
    app.include_router(health_router)
    install_error_handlers(app, settings.retry_after_seconds)
    registry = ClientRegistry(settings.auth_clients_dir)
    if not settings.auth_enabled:
        log.warning(
            "authentication is OFF (VIDEOMERGE_API_AUTH_ENABLED=false): anyone who reaches this API "
            "can start, read and cancel every merge"
        )
    elif settings.auth_clients_dir is None:
        log.warning("authentication is on but no client directory is set: every request will get 401")
    limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    # Last added runs first: request id and access log around everything, then auth and rate, then the
    # body limit.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        AuthMiddleware, registry=registry, enabled=settings.auth_enabled, limiter=limiter, metrics=metrics
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    _customise_openapi(app, settings, auth=settings.auth_enabled)
    return app


def _customise_openapi(app: FastAPI, settings: ApiSettings, auth: bool) -> None:
    """The deployment's limits (clips, page size) in the schemas, and the bearer scheme when auth is on."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = default_openapi()
        for name in ("MergeRequest", "ProcessRequest"):
            props = schema["components"]["schemas"].get(name, {}).get("properties", {})
            if "video_urls" in props:
                props["video_urls"]["maxItems"] = settings.max_clips
        for parameter in schema["paths"]["/api/v1/merge"]["get"].get("parameters", []):
            if parameter["name"] == "limit":
                parameter["schema"]["maximum"] = settings.list_max_limit
        if auth:
            schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            for path, operations in schema["paths"].items():
                if path not in ("/healthz", "/readyz"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
