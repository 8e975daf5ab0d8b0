"""A thread pool that runs the most urgent waiting call first.

In a burst hundreds of API calls wait for a thread. A Job creation is what a user waits for; a status
patch or an Event can wait a little. A FIFO pool makes the next Job queue behind the bookkeeping of the
previous ones; this pool takes the waiting call with the lowest priority number first (FIFO among equals).
"""

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
_STOP = float("inf")


class PriorityExecutor:
    def __init__(self, threads: int, name: str) -> None:
        self._queue: queue.PriorityQueue[tuple[float, int, Future[Any] | None, Callable[[], Any] | None]] = (
            queue.PriorityQueue()
        )
        self._order = itertools.count()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[[], T], priority: int) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((priority, next(self._order), future, fn))
        return future

    def _work(self) -> None:
        while True:
            priority, _, future, fn = self._queue.get()
            if priority == _STOP or future is None or fn is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as error:  # handed to the caller, as ThreadPoolExecutor does
                future.set_exception(error)

    def shutdown(self) -> None:
        """Stops the threads once they finish their current call; calls still waiting are cancelled."""
        while True:
            try:
                _, _, future, _ = self._queue.get_nowait()
            except queue.Empty:
                break
            if future is not None:
                future.cancel()
        for _ in self._threads:
            self._queue.put((_STOP, next(self._order), None, None))
