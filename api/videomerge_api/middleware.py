"""Pure ASGI middlewares (cheap on the hot path): request id + access log + metrics, auth + rate limit,
body limit."""

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from videomerge_api.clients import ANONYMOUS, ClientRegistry
from videomerge_api.metrics import ApiMetrics
from videomerge_api.ratelimit import RateLimiter, retry_after_header

access_log = logging.getLogger("videomerge_api.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
PUBLIC_PATHS = frozenset({"/healthz", "/readyz"})
# The API's documentation is readable without a token (a browser cannot send one to open it); the schema
# holds no data. Swagger UI's "Authorize" button then sends the token with the calls it makes.
DOC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
DOC_ASSET_PREFIX = "/docs/assets/"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _doc_route(path: str) -> str:
    """Metric label of routes Starlette serves itself (no route object in the scope): few labels."""
    if path in DOC_PATHS:
        return path
    return DOC_ASSET_PREFIX if path.startswith(DOC_ASSET_PREFIX) else "unmatched"


def is_public(path: str) -> bool:
    return (
        path in PUBLIC_PATHS or path in DOC_PATHS or (path.startswith(DOC_ASSET_PREFIX) and ".." not in path)
    )


class RequestContextMiddleware:
    """X-Request-ID in (when sane) or made up, echoed out; one access log line and metrics per request.

    The log has the path but never the query string or headers, so no token or URL can leak into it.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or (_doc_route(scope["path"]))
            method = scope["method"]
            self.metrics.observe_request(method, route, status, elapsed)
            access_log.info(
                "request_id=%s method=%s path=%s route=%s status=%d duration_ms=%.1f",
                request_id,
                method,
                scope["path"],
                route,
                status,
                elapsed * 1000,
            )


class AuthMiddleware:
    """Who is calling (``scope["state"]["client"]``), then their request rate.

    Every path but the health probes and the documentation needs a known bearer token, else 401; a client over its rate gets 429
    with Retry-After. With auth disabled every request is ANONYMOUS (an admin) and the rate is not limited.
    """

    def __init__(
        self, app: ASGIApp, registry: ClientRegistry, enabled: bool, limiter: RateLimiter, metrics: ApiMetrics
    ) -> None:
        self.app, self.registry, self.enabled, self.limiter = app, registry, enabled, limiter
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if not self.enabled:
            state["client"] = ANONYMOUS
            await self.app(scope, receive, send)
            return
        client = self.registry.identify(_header(scope, b"authorization"))
        if client is None:
            message = "missing or invalid bearer token (Authorization: Bearer <token>)"
            body = {"message": message, "detail": message, "request_id": state.get("request_id")}
            await send_json(send, 401, body, {"WWW-Authenticate": "Bearer"})
            return
        state["client"] = client
        wait = self.limiter.acquire(client.name)
        if wait > 0:
            self.metrics.limited.labels("rate").inc()
            message = (
                f"rate limit: at most {self.limiter.per_second:g} requests/s per client "
                f"(bursts of {self.limiter.burst}); retry in {wait:.1f}s"
            )
            body = {"message": message, "detail": message, "request_id": state.get("request_id")}
            headers = {
                "Retry-After": retry_after_header(wait),
                "X-RateLimit-Limit": f"{self.limiter.per_second:g}",
                "X-RateLimit-Burst": str(self.limiter.burst),
            }
            await send_json(send, 429, body, headers)
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``: at once from Content-Length, or as soon as the stream exceeds it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        message = f"request body larger than {self.max_bytes} bytes"
        body = {"message": message, "detail": message, "request_id": request_id}
        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await send_json(send, 413, body, {"Connection": "close"})
            return
        received, rejected = 0, False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    rejected = True
                    await send_json(send, 413, body, {"Connection": "close"})
                    return {"type": "http.disconnect"}
            return msg

        async def guarded_send(msg: Message) -> None:
            if not rejected:  # the 413 went out already; what the app answers to the cut body is dropped
                await send(msg)

        await self.app(scope, limited_receive, guarded_send)
