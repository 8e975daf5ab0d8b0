"""The worker's address guard (``videomerge_worker.urlguard``) for the notifier's asyncio HTTP client.

The policy is the worker's own: ``check_scheme``, ``resolve_public`` and ``refusal`` are imported, not
copied. Only the connection backend is async here, because the notifier must be able to abandon an
attempt at its deadline (a sync socket read cannot be cancelled).
"""

import socket
import typing
from collections.abc import Callable

import anyio
import httpcore
import httpx

from videomerge_worker.urlguard import (
    IPAddress,
    RefusedUrlError,
    Resolver,
    check_scheme,
    refusal,
    resolve_public,
)

__all__ = ["AsyncGuardedBackend", "RefusedUrlError", "async_transport", "check_scheme"]


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, refuses non-public addresses, then connects to the checked address itself."""

    def __init__(
        self, resolver: Resolver = socket.getaddrinfo, policy: Callable[[IPAddress], str | None] = refusal
    ) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolver = resolver
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await anyio.to_thread.run_sync(resolve_public, host, port, self._resolver, self._policy)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"no address to connect to for {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedUrlError("unix sockets are not called")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def async_transport(*, allow_private: bool, max_connections: int) -> httpx.AsyncHTTPTransport:
    """An asyncio httpx transport; unless ``allow_private``, its connections only reach public addresses."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=0)
    transport = httpx.AsyncHTTPTransport(limits=limits, retries=0)
    if not allow_private:
        pool = transport._pool
        if not isinstance(pool, httpcore.AsyncConnectionPool):  # pragma: no cover - an httpx layout change
            raise RuntimeError("unexpected httpx transport; refusing to call without the address guard")
        pool._network_backend = AsyncGuardedBackend()
    return transport
