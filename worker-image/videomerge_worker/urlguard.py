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


def _networks(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Explicit, rather than trusting one Python version's idea of "global": IANA's special-purpose registries.
DENIED: tuple[tuple[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]], ...] = (
    ("loopback", _networks("127.0.0.0/8", "::1/128")),
    ("link-local", _networks("169.254.0.0/16", "fe80::/10")),
    ("multicast", _networks("224.0.0.0/4", "ff00::/8")),
    ("unspecified", _networks("0.0.0.0/32", "::/128")),
    ("reserved", _networks("240.0.0.0/4", "0.0.0.0/8")),
    (
        "private",
        _networks(
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "192.0.0.0/24",
            "192.0.2.0/24",  # documentation
            "198.18.0.0/15",  # benchmarking
            "198.51.100.0/24",
            "203.0.113.0/24",
            "fc00::/7",  # unique local
            "2001:db8::/32",  # documentation
            "100::/64",  # discard
        ),
    ),
    ("non-public", _networks("100.64.0.0/10", "192.88.99.0/24", "fec0::/10")),
    # Tunnels and translators that carry an IPv4 address inside an IPv6 one: Teredo (its client address
    # obfuscated), and the local-use NAT64 prefix, whose gateway is inside the network by definition.
    ("tunnelled", _networks("2001::/32", "64:ff9b:1::/48")),
)
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
    (::a.b.c.d), 6to4 (2002:aabb:ccdd::/48) and NAT64 (64:ff9b::a.b.c.d). A packet to the IPv6 address
    reaches the IPv4 one, so the IPv4 one is what is checked."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    value = int(address)
    if address in _NAT64 or (value >> 32 == 0 and value > 1):
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """What kind of off-limits address this is ("a loopback address", ...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and (inner := embedded_ipv4(address)) is not None:
        address = inner
    for kind, networks in DENIED:
        if any(address in network for network in networks):
            return f"a {kind} address"
    if not address.is_global:  # whatever else the running Python knows to be special
        return "a non-public address"
    return None


def resolve_public(
    host: str,
    port: int,
    resolver: Resolver = socket.getaddrinfo,
    policy: Callable[[IPAddress], str | None] = refusal,
) -> list[str]:
    """Every address ``host`` resolves to, refusing the whole host when any of them is not public. The
    refusal names the host only: what an internal name resolves to is not the requester's business."""
    try:
        infos = resolver(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from None
    addresses = list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
    for text in addresses:
        if policy(ipaddress.ip_address(text)) is not None:
            raise RefusedUrlError(f"{host} is not a public address, which is not fetched")
    return addresses


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, refuses non-public addresses, then connects to the checked address itself."""

    def __init__(
        self, resolver: Resolver = socket.getaddrinfo, policy: Callable[[IPAddress], str | None] = refusal
    ) -> None:
        self._inner = SyncBackend()
        self._resolver = resolver
        self._policy = policy

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to, every one of them public (RefusedUrlError otherwise)."""
        return resolve_public(host, port, self._resolver, self._policy)

    def admits(self, address: str) -> bool:
        """Whether a connected peer's address is one the policy lets the worker read from."""
        return self._policy(ipaddress.ip_address(address)) is None

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        last_error: Exception | None = None
        for address in self.resolve(host, port):
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
