"""Streaming clip downloads: size cap, timeouts, bounded retries with backoff and resume, redirect cap."""

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpcore
import httpx

from videomerge_contract import ErrorReason
from videomerge_worker.clip import Clip
from videomerge_worker.errors import WorkerError
from videomerge_worker.rangecopy import RangeCopyError, copy_range
from videomerge_worker.settings import WorkerSettings
from videomerge_worker.urlguard import GuardedBackend, RefusedUrlError, check_scheme, http_transport

log = logging.getLogger(__name__)

# httpcore reads 64 KiB per socket read; clips are large, and 1 MiB reads halve the CPU spent per byte.
# The worker process downloads nothing but clips, so the class-wide setting is the intended one.
if hasattr(httpcore._sync.http11.HTTP11Connection, "READ_NUM_BYTES"):
    httpcore._sync.http11.HTTP11Connection.READ_NUM_BYTES = 1024 * 1024

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({408, 425, 429})
MAX_RETRY_AFTER_SECONDS = 30.0
USER_AGENT = "videomerge-worker/0.1"


class RangesIgnoredError(Exception):
    """A byte range was asked for and the server answered with the whole file."""


class _TransientError(Exception):
    """One attempt failed in a way a later attempt may not."""

    def __init__(self, reason: ErrorReason, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.reason, self.problem, self.retry_after = reason, problem, retry_after


class FileWindow:
    """A writable window of a file starting at ``base``: what a range download writes into. Ranges of
    plain-HTTP clips are copied into it by the kernel (rangecopy); others through ``write``."""

    def __init__(self, fd: int, base: int) -> None:
        self.fd, self.base, self.position = fd, base, 0

    def tell(self) -> int:
        return self.position

    def seek(self, position: int) -> int:
        self.position = position
        return position

    def truncate(self) -> None:
        pass  # a restarted range overwrites the same bytes

    def write(self, data: bytes | memoryview) -> int:
        written = os.pwrite(self.fd, data, self.base + self.position)
        self.position += written
        return written


class Downloader:
    """Downloads clips to local files; safe to share between threads."""

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        on_bytes: Callable[[int], None] | None = None,
        backoff_seconds: float = 0.5,
        backend: GuardedBackend | None = None,
    ) -> None:
        self.settings = settings
        self.on_bytes = on_bytes or (lambda n: None)
        self.backoff_seconds = backoff_seconds
        self.total_sizes: dict[str, int] = {}  # by URL, from the Content-Range of ranged answers
        self._guard = None if settings.allow_private_urls else (backend or GuardedBackend())
        self.client = httpx.Client(
            transport=http_transport(
                allow_private=settings.allow_private_urls,
                max_connections=settings.download_concurrency,
                backend=backend,
            ),
            timeout=httpx.Timeout(
                settings.download_read_timeout_seconds, connect=settings.download_connect_timeout_seconds
            ),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the address guard must see the real peer
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Downloader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, clip: Clip, dest: Path, on_written: Callable[[int], None] | None = None) -> int:
        """Downloads ``clip`` to ``dest``; returns its size in bytes. ``on_written`` gets the file's
        length after every write (unbuffered: other readers see the bytes at once)."""
        with dest.open("wb", buffering=0) as out:
            return self.fetch_into(clip, out, on_written=on_written)

    def fetch_into(
        self,
        clip: Clip,
        out: "BinaryIO | FileWindow",
        *,
        start: int = 0,
        length: int | None = None,
        on_written: Callable[[int], None] | None = None,
    ) -> int:
        """Downloads bytes ``[start, start + length)`` of ``clip`` (to its end without ``length``) into
        ``out``; returns how many. ``out`` holds what came already: the download resumes after
        ``out.tell()`` bytes. A byte range needs a server that honours ranges: one that answers with
        the whole file fails the download."""
        url = clip.url

        def fail(reason: ErrorReason, problem: str, *, permanent: bool) -> WorkerError:
            return clip.error(reason, problem, permanent=permanent)

        try:
            check_scheme(url)
        except RefusedUrlError as exc:
            raise fail(ErrorReason.INVALID_INPUT, str(exc), permanent=True) from None
        deadline = time.monotonic() + self.settings.download_timeout_seconds
        if (
            length is not None
            and isinstance(out, FileWindow)
            and self._spliced(url, out, start, length, deadline)
        ):
            return length
        window = _Window(start, length)
        for attempt in range(1, self.settings.download_attempts + 1):
            try:
                return self._attempt(url, out, deadline, fail, on_written or (lambda n: None), window)
            except _TransientError as exc:
                pause = self.backoff_seconds * 2 ** (attempt - 1)
                if exc.retry_after is not None:
                    pause = max(pause, min(exc.retry_after, MAX_RETRY_AFTER_SECONDS))
                if attempt == self.settings.download_attempts or time.monotonic() + pause > deadline:
                    tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                    raise fail(exc.reason, exc.problem + tries, permanent=False) from None
                time.sleep(pause)
            except RefusedUrlError as exc:
                raise fail(ErrorReason.DOWNLOAD_FAILED, f"refused: {exc}", permanent=True) from None
            except OSError as exc:
                raise WorkerError(ErrorReason.INTERNAL, f"cannot write clip {clip.number}: {exc}") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _spliced(self, url: str, out: FileWindow, start: int, length: int, deadline: float) -> bool:
        """Tries the kernel copy of the range (see rangecopy); True when all of it is in place. What it
        could not do is left to the ordinary attempts, which resume after what it wrote."""
        have = out.tell()
        try:
            copied = copy_range(
                url,
                start + have,
                length - have,
                out.fd,
                out.base + have,
                resolve=self._resolve,
                admit=self._admits,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
                connect_timeout=self.settings.download_connect_timeout_seconds,
                read_timeout=self.settings.download_read_timeout_seconds,
                deadline=deadline,
                on_bytes=self.on_bytes,
            )
        except RangeCopyError as exc:
            out.seek(have + exc.written)
            log.info("range of %s: %s; resuming at %d", url, exc, have + exc.written)
            return False
        except (OSError, RefusedUrlError, httpcore.ConnectError) as exc:
            log.info("range of %s not copied by the kernel: %s", url, exc)
            return False  # the ordinary attempt meets the same problem and reports it
        if copied is None:  # a redirect, an error, no range: the ordinary attempt deals with it
            return False
        out.seek(have + copied)
        return True

    def _resolve(self, host: str, port: int) -> list[str]:
        if self._guard is not None:
            return self._guard.resolve(host, port)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def _admits(self, address: str) -> bool:
        return self._guard is None or self._guard.admits(address)

    def _attempt(
        self,
        url: str,
        out: "BinaryIO | FileWindow",
        deadline: float,
        fail: Callable[..., WorkerError],
        on_written: Callable[[int], None],
        window: "_Window",
    ) -> int:
        """One attempt, following redirects; resumes after what ``out`` already holds when it can."""
        cap = self.settings.max_clip_bytes if window.length is None else window.length
        have = out.tell()
        current = url
        for _ in range(self.settings.max_redirects + 1):
            headers = {"Range": window.header(have)} if window.ranged(have) else {}
            try:
                with self.client.stream("GET", current, headers=headers) as response:
                    status = response.status_code
                    if status in REDIRECT_STATUSES and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        try:
                            check_scheme(current)
                        except RefusedUrlError as exc:
                            raise RefusedUrlError(f"redirected to {current}: {exc}") from None
                        continue
                    if status >= 500 or status in RETRY_STATUSES:
                        raise _TransientError(
                            ErrorReason.DOWNLOAD_FAILED, f"HTTP {status}", _retry_after(response)
                        )
                    if status == 416 and have:
                        out.seek(0)
                        out.truncate()
                        on_written(0)
                        raise _TransientError(ErrorReason.DOWNLOAD_FAILED, "HTTP 416 on resume")
                    if status not in (200, 206):  # 4xx: the URL itself is wrong; asking again will not help
                        raise fail(ErrorReason.DOWNLOAD_FAILED, f"HTTP {status}", permanent=True)
                    if status == 200 and window.ranged(0):
                        raise RangesIgnoredError(current)
                    start, end, total = _content_range(response) if status == 206 else (0, None, None)
                    if total is not None:
                        self.total_sizes[url] = total
                    start -= window.start if status == 206 else 0
                    expected = None if end is None or window.length is None else end + 1 - window.start
                    if start != have:
                        out.seek(0)
                        out.truncate()
                        have = 0
                        on_written(0)
                        if start != 0:
                            raise _TransientError(
                                ErrorReason.DOWNLOAD_FAILED, "the server resumed at the wrong offset"
                            )
                    length = response.headers.get("content-length")
                    if length and length.isdigit() and have + int(length) > cap:
                        raise fail(
                            ErrorReason.DOWNLOAD_FAILED, _too_big(have + int(length), cap), permanent=True
                        )
                    for chunk in response.iter_raw():
                        have += len(chunk)
                        if have > cap:
                            raise fail(ErrorReason.DOWNLOAD_FAILED, _too_big(have, cap), permanent=True)
                        if time.monotonic() > deadline:
                            raise fail(ErrorReason.TIMEOUT, _slow(self.settings), permanent=False)
                        _write_all(out, chunk)
                        self.on_bytes(len(chunk))
                        on_written(have)
                    if expected is not None and have != expected:
                        raise _TransientError(ErrorReason.DOWNLOAD_FAILED, "the range came back short")
                    return have
            except httpx.TimeoutException as exc:
                raise _TransientError(ErrorReason.TIMEOUT, f"timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                raise _TransientError(ErrorReason.DOWNLOAD_FAILED, f"connection failed: {exc}") from None
        raise fail(
            ErrorReason.DOWNLOAD_FAILED, f"more than {self.settings.max_redirects} redirects", permanent=True
        )


@dataclass(frozen=True)
class _Window:
    """The part of the file wanted: from ``start``, ``length`` bytes or to the end."""

    start: int = 0
    length: int | None = None

    def ranged(self, have: int) -> bool:
        return bool(self.start or have or self.length is not None)

    def header(self, have: int) -> str:
        end = "" if self.length is None else str(self.start + self.length - 1)
        return f"bytes={self.start + have}-{end}"


def _write_all(out: "BinaryIO | FileWindow", data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[out.write(view) or 0 :]


def _content_range(response: httpx.Response) -> tuple[int, int | None, int | None]:
    """(start, end, total) of a 206 answer's ``Content-Range: bytes START-END/TOTAL``; start -1 when
    unreadable, total None when the server does not say."""
    value = response.headers.get("content-range", "")
    try:
        span, total = value.split(" ", 1)[1].split("/", 1)
        start, end = span.split("-", 1)
        return int(start), int(end), int(total) if total.isdigit() else None
    except (IndexError, ValueError):
        return -1, None, None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _too_big(size: int, cap: int) -> str:
    return f"larger than the {cap}-byte limit per clip (at least {size} bytes)"


def _slow(settings: WorkerSettings) -> str:
    return f"the download took longer than {settings.download_timeout_seconds:g} s"
