"""Probes and metrics."""

import time
from functools import partial

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from videomerge_api.models import Health, Readiness
from videomerge_api.store import StoreError

router = APIRouter(tags=["operations"])
_PING_TTL_SECONDS = 2.0  # probes of several kinds may come often: one API server call per TTL at most


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health()


async def _api_server_reachable(request: Request) -> bool:
    state = request.app.state
    checked_at, reachable = getattr(state, "last_ping", (float("-inf"), False))
    if time.monotonic() - checked_at < _PING_TTL_SECONDS:
        return bool(reachable)
    try:
        await to_thread.run_sync(partial(state.service.store.ping))
        reachable = True
    except StoreError:
        reachable = False
    state.last_ping = (time.monotonic(), reachable)
    return reachable


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {"model": Readiness, "description": "Not ready: cache not synced or API server unreachable."}
    },
    summary="Readiness: the API server is reachable and the cache synced",
)
async def readyz(request: Request) -> JSONResponse:
    cache = request.app.state.service.cache
    synced = cache.synced if cache is not None else True
    reachable = await _api_server_reachable(request)
    ready = synced and reachable
    body = Readiness(
        status="ready" if ready else "not ready",
        cache_synced=synced,
        api_server_reachable=reachable,
        cached_merges=len(cache) if cache is not None else 0,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
    summary="Prometheus metrics",
)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
