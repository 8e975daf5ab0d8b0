"""Probes and metrics on one HTTP port: /healthz (liveness), /readyz (readiness), /metrics (Prometheus)."""

from collections.abc import Callable
from typing import Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class MetricsSource(Protocol):
    """The operator's metrics, or the notifier's: whatever keeps a Prometheus registry."""

    registry: CollectorRegistry


async def start_http_server(
    host: str, port: int, metrics: MetricsSource, readiness: Callable[[], tuple[bool, dict[str, object]]]
) -> web.AppRunner:
    """Serves until the returned runner is cleaned up. Port 0 picks a free port (see ``bound_port``)."""

    async def healthz(_: web.Request) -> web.Response:
        # Answering at all proves the event loop is alive; the API server's health is not ours to report.
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ready, detail = readiness()
        return web.json_response({"ready": ready, **detail}, status=200 if ready else 503)

    async def metrics_page(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.add_routes(
        [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics_page)]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the HTTP server is not listening")
