"""Which URLs the worker may fetch: http(s) only, and only hosts that resolve to public addresses.

The address check runs where the connection is made (an httpcore network backend), on the addresses
the socket actually connects to. So every redirect hop is checked, and a host whose DNS answer changes
between a check and the connection (DNS rebinding) cannot slip through.
"""

import ipaddress
import socket
import typing
from collections.abc import Callable
from urllib.parse import urlsplit

import httpcore
import httpx
from httpcore._backends.sync import SyncBackend

Resolver = Callable[..., list[tuple[typing.Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedUrlError(Exception):
    """A URL the worker will not fetch; the message says why, for a person."""


def check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise RefusedUrlError(
            f"only http and https URLs can be fetched, not {parts.scheme or 'a bare path'!r}"
        )
    if not parts.hostname:
        raise RefusedUrlError("the URL has no host")


def refusal(address: IPAddress) -> str | None:
    """What kind of off-limits address this is ("a loopback address", ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),  # Python counts the kinds above as private too: name them first
        ("non-public", not address.is_global),
    ):
        if hit:
            return f"a {kind} address"
    return None


def resolve_public(
    host: str,
    port: int,
    resolver: Resolver = socket.getaddrinfo,
    policy: Callable[[IPAddress], str | None] = refusal,
) -> list[str]:
    """Every address ``host`` resolves to, refusing the whole host when any of them is not public."""
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for text in addresses:
        if (kind := policy(ipaddress.ip_address(text))) is not None:
            where = f"{text} is {kind}" if text == host else f"{host} resolves to {kind} ({text})"
            raise RefusedUrlError(f"{where}, which is not fetched")
    return addresses


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, refuses non-public addresses, then connects to the checked address itself."""

    def __init__(
        self, resolver: Resolver = socket.getaddrinfo, policy: Callable[[IPAddress], str | None] = refusal
    ) -> None:
        self._inner = SyncBackend()
        self._resolver = resolver
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in resolve_public(host, port, self._resolver, self._policy):
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"no address to connect to for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise RefusedUrlError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def http_transport(
    *, allow_private: bool, max_connections: int, backend: GuardedBackend | None = None
) -> httpx.HTTPTransport:
    """An httpx transport; unless ``allow_private``, its connections only reach public addresses."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.HTTPTransport(limits=limits, retries=0)
    if not allow_private:
        pool = transport._pool
        if not isinstance(pool, httpcore.ConnectionPool):  # pragma: no cover - an httpx layout change
            raise RuntimeError("unexpected httpx transport; refusing to fetch without the address guard")
        pool._network_backend = backend or GuardedBackend()
    return transport
