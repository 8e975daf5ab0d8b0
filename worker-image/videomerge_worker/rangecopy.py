"""Byte ranges of plain-HTTP clips copied socket → file by the kernel (``splice``), off the Python data path.

The assembler downloads each clip's media straight into its place in the merged file. Through httpx every
byte is read into a Python object and written out again, and four downloads share one interpreter: on a
fast origin the copy is CPU-bound in Python. Here the request and the answer's headers go through Python,
the body does not: ``os.splice`` moves it from the socket into a pipe and from the pipe into the file at
its offset, with the GIL released, so parallel ranges run in parallel.

The connection is made to an address the guard checked, and the connected peer is checked again. Only a
``206`` whose ``Content-Range`` is exactly the range asked for, with a plain body, is copied this way;
anything else (a redirect, an error, a whole-file answer, TLS) is left to the ordinary downloader, which
also resumes a range this copy could not finish.
"""

import contextlib
import fcntl
import os
import select
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

HEADER_LIMIT = 64 * 1024
PIPE_BYTES = 1024 * 1024
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
SPLICE_F_MOVE, SPLICE_F_MORE = getattr(os, "SPLICE_F_MOVE", 1), getattr(os, "SPLICE_F_MORE", 4)
AVAILABLE = hasattr(os, "splice")

Resolve = Callable[[str, int], list[str]]  # host, port → addresses to connect to (checked by the guard)
Admit = Callable[[str], bool]  # the connected peer's address → whether it may be read from


class RangeCopyError(Exception):
    """The copy stopped; ``written`` bytes of the range are in place (the downloader resumes there)."""

    def __init__(self, message: str, written: int) -> None:
        super().__init__(message)
        self.written = written


def copy_range(
    url: str,
    start: int,
    length: int,
    fd: int,
    offset: int,
    *,
    resolve: Resolve,
    admit: Admit,
    headers: dict[str, str],
    connect_timeout: float,
    read_timeout: float,
    deadline: float,
    on_bytes: Callable[[int], None],
) -> int | None:
    """Copies bytes ``[start, start + length)`` of ``url`` to ``fd`` at ``offset``; returns ``length``, or
    None when the server's answer is not one to copy this way (nothing was written). Raises
    RangeCopyError after a partial copy, and what ``on_bytes`` raises (a cancellation)."""
    parts = urlsplit(url)
    if not AVAILABLE or parts.scheme.lower() != "http" or not parts.hostname or length <= 0:
        return None
    port = parts.port or 80
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    request = [f"GET {target} HTTP/1.1", f"Host: {host}", f"Range: bytes={start}-{start + length - 1}"]
    request += [f"{name}: {value}" for name, value in headers.items()]
    request += ["Connection: close", "", ""]
    sock = _connect(resolve(parts.hostname, port), port, connect_timeout)
    try:
        if not admit(sock.getpeername()[0].split("%")[0]):
            return None
        sock.settimeout(read_timeout)
        sock.sendall("\r\n".join(request).encode("latin-1"))
        head, body = _read_head(sock)
        if not _copyable(head, start, length):
            return None
        return _copy_body(sock, body, length, fd, offset, read_timeout, deadline, on_bytes)
    finally:
        sock.close()


def _connect(addresses: list[str], port: int, timeout: float) -> socket.socket:
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            error = exc
    raise error or OSError("no address to connect to")


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > HEADER_LIMIT:
            raise OSError("the answer's headers are too long")
        more = sock.recv(16 * 1024)
        if not more:
            raise OSError("the connection closed before the answer's headers ended")
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def _copyable(head: bytes, start: int, length: int) -> bool:
    """A 206 for exactly this range, its body sent as it is."""
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or status[1] != "206":
        return False
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    if "transfer-encoding" in fields or fields.get("content-encoding", "identity") != "identity":
        return False
    expected = f"bytes {start}-{start + length - 1}/"
    return fields.get("content-range", "").startswith(expected) and fields.get("content-length") == str(
        length
    )


def _copy_body(
    sock: socket.socket,
    body: bytes,
    length: int,
    fd: int,
    offset: int,
    read_timeout: float,
    deadline: float,
    on_bytes: Callable[[int], None],
) -> int:
    written = 0
    if body:
        body = body[:length]
        while written < len(body):
            written += os.pwrite(fd, body[written:], offset + written)
        on_bytes(len(body))
    read_end, write_end = os.pipe()
    try:
        with contextlib.suppress(OSError):
            fcntl.fcntl(write_end, F_SETPIPE_SZ, PIPE_BYTES)
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        while written < length:
            if time.monotonic() > deadline:
                raise RangeCopyError("the download took too long", written)
            if not poller.poll(read_timeout * 1000):
                raise RangeCopyError(f"no data for {read_timeout:g} s", written)
            try:
                moved = os.splice(
                    sock.fileno(),
                    write_end,
                    min(length - written, PIPE_BYTES),
                    flags=SPLICE_F_MOVE | SPLICE_F_MORE,
                )
            except BlockingIOError:
                continue
            except OSError as exc:
                raise RangeCopyError(f"connection failed: {exc}", written) from None
            if moved == 0:
                raise RangeCopyError("the connection closed before the range ended", written)
            while moved:
                done = os.splice(read_end, fd, moved, offset_dst=offset + written, flags=SPLICE_F_MOVE)
                moved -= done
                written += done
                on_bytes(done)
    finally:
        os.close(read_end)
        os.close(write_end)
    return written
