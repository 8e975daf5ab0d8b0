"""The address guard: which addresses are refused, and that it runs on the connection itself."""

import ipaddress
import socket

import httpcore
import pytest

from videomerge_worker.urlguard import GuardedBackend, RefusedUrlError, check_scheme, refusal, resolve_public


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("239.1.2.3", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("192.0.2.2", "private"),  # documentation range
        ("198.18.0.1", "private"),  # benchmarking range
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("::ffff:169.254.169.254", "link-local"),
        ("::127.0.0.1", "loopback"),  # IPv4-compatible IPv6
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::", "link-local"),  # 6to4 of 169.254.169.254
        ("2002:c0a8:101:5::1", "private"),  # 6to4 of 192.168.1.1
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b:1::808:808", "tunnelled"),  # local-use NAT64: its gateway is inside
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "tunnelled"),  # Teredo
        ("100.64.0.1", "non-public"),
        ("192.88.99.1", "non-public"),  # the 6to4 relay anycast
    ],
)
def test_non_public_addresses_are_refused(address, kind):
    assert refusal(ipaddress.ip_address(address)) == f"a {kind} address"


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "151.101.1.69",
        "2002:808:808::1",  # 6to4 of a public address
        "64:ff9b::808:808",  # NAT64 of a public address
    ],
)
def test_public_addresses_pass(address):
    assert refusal(ipaddress.ip_address(address)) is None


def resolver_for(mapping):
    def resolve(host, port, type=0):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in mapping[host]
        ]

    return resolve


def test_a_host_is_refused_when_any_of_its_addresses_is_private():
    resolve = resolver_for({"mixed.example": ["8.8.8.8", "10.0.0.5"], "ok.example": ["8.8.8.8", "1.1.1.1"]})
    with pytest.raises(RefusedUrlError, match=r"^mixed.example is not a public address") as refused:
        resolve_public("mixed.example", 80, resolve)
    assert "10.0.0.5" not in str(refused.value) and "private" not in str(refused.value)
    assert resolve_public("ok.example", 80, resolve) == ["8.8.8.8", "1.1.1.1"]


def test_the_backend_refuses_before_any_connection_is_made():
    # 'localhost' resolves for real; the listener proves that nothing connected to it.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        with pytest.raises(RefusedUrlError, match="localhost is not a public address"):
            GuardedBackend().connect_tcp("localhost", port, timeout=1)
        with pytest.raises(TimeoutError):
            listener.accept()


def test_the_backend_connects_to_the_address_it_checked():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        backend = GuardedBackend(
            resolver=resolver_for({"public.test": ["127.0.0.1"]}),
            policy=lambda ip: None if str(ip) == "127.0.0.1" else refusal(ip),
        )
        stream = backend.connect_tcp("public.test", port, timeout=1)
        conn, _ = listener.accept()
        assert stream.get_extra_info("server_addr") == ("127.0.0.1", port)
        conn.close()
        stream.close()


def test_unresolvable_hosts_are_connection_errors():
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(httpcore.ConnectError, match=r"cannot resolve nowhere\.invalid"):
        resolve_public("nowhere.invalid", 80, fail)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.mp4", "file:///etc/passwd", "gopher://x/", "/tmp/a.mp4"]
)
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(RefusedUrlError, match="only http and https"):
        check_scheme(url)


def test_http_urls_need_a_host():
    check_scheme("HTTPS://example.com/a.mp4")
    with pytest.raises(RefusedUrlError, match="no host"):
        check_scheme("http:///a.mp4")
