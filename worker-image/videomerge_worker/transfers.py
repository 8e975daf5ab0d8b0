"""The downloads of one merge, whichever way it goes: one Downloader, one bounded pool of download threads,
one "stop" that every download checks between reads, and the count of bytes received.

The intake reads the clips' heads and downloads whole clips here, the assembler (direct) its byte ranges
into the merged file: all stop the same way when a clip fails and report the same first error.
"""

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, ParamSpec, TypeVar

from videomerge_worker.download import Downloader
from videomerge_worker.errors import DownloadCancelledError, first_clip_error
from videomerge_worker.settings import WorkerSettings

P = ParamSpec("P")
R = TypeVar("R")


class Transfers:
    def __init__(
        self,
        settings: WorkerSettings,
        *,
        name: str,
        backoff_seconds: float = 0.5,
        on_received: Callable[[int], None] | None = None,
    ) -> None:
        """``on_received(total)`` is called, under the count's lock, after every read of any download."""
        self.stopped = threading.Event()
        self.received = 0
        self._lock = threading.Lock()
        self._on_received = on_received
        self.downloader = Downloader(settings, on_bytes=self._on_bytes, backoff_seconds=backoff_seconds)
        self._pool = ThreadPoolExecutor(settings.download_concurrency, thread_name_prefix=name)

    def __enter__(self) -> "Transfers":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> "Future[R]":
        return self._pool.submit(function, *args, **kwargs)

    def restart_count(self) -> None:
        with self._lock:
            self.received = 0

    def _on_bytes(self, count: int) -> None:
        if self.stopped.is_set():
            raise DownloadCancelledError
        with self._lock:
            self.received += count
            if self._on_received is not None:
                self._on_received(self.received)

    def stop(self, futures: "Iterable[Future[Any]]") -> None:
        """Stops every download (at its next read) and waits for ``futures`` to end."""
        self.stopped.set()
        wait(list(futures))

    def first_error(self, futures: "Iterable[Future[Any]]", fallback: str) -> BaseException:
        """The failure to report once the others have stopped: the lowest clip's (see first_clip_error)."""
        futures = list(futures)
        self.stop(futures)
        return first_clip_error(futures, fallback)

    def close(self) -> None:
        self.stopped.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.downloader.close()
