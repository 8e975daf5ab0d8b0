"""The work loop: a set of merges to look at, woken by watch events, with periodic full resyncs.

Like a controller-runtime work queue: kopf's handlers only mark merges dirty; this loop decides, with the
pure queue plan, which merges start, and runs at most one task per merge at a time. Failed tasks are
retried with backoff. Nothing here depends on memory surviving a restart: every pass rebuilds its view
from the cache (kopf's indexes, filled from the API server before the loop is let in).
"""

import asyncio
import contextlib
import functools
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Final

from videomerge_contract.memory import release_free_memory
from videomerge_contract.phases import is_terminal
from videomerge_operator.cache import Cache
from videomerge_operator.metrics import OperatorMetrics
from videomerge_operator.queue import plan_queue
from videomerge_operator.reconcile import BlockedError, KubeOps, Reconciler, phase_counts
from videomerge_operator.settings import OperatorSettings
from videomerge_operator.transitions import StatusChange, queued
from videomerge_operator.views import Key, MergeView

log = logging.getLogger("videomerge_operator.controller")
MAX_BACKOFF: Final = 60.0
# The queue plan reads every merge; in a burst, events wake the loop hundreds of times a second, and planning
# on each wake made the loop O(n) per event. Merges that may start at once (no limit) do not wait for it.
PLAN_INTERVAL: Final = 0.05


class Controller:
    def __init__(
        self, settings: OperatorSettings, kube: KubeOps, cache: Cache, metrics: OperatorMetrics
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.metrics = metrics
        self.reconciler = Reconciler(settings, kube, cache, metrics, self._post_events, self.recheck_later)
        self.cache = cache
        self.ready = asyncio.Event()  # set once the cache holds the initial listing of everything watched
        self._wake = asyncio.Event()
        self._dirty: set[Key] = set()
        self._busy: set[Key] = set()
        self._failures: dict[Key, int] = {}
        self._not_before: dict[Key, float] = {}  # backoff after a failed task
        self._starting: set[Key] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_resync = 0.0
        self._next_sweep = 0.0
        self._next_plan = 0.0
        self._plan_pending = True
        self._start_tail: asyncio.Future[None] | None = (
            None  # the last start queued merges wait their turn behind
        )
        self._sweeping = False

    # Inputs
    def notify(self, key: Key) -> None:
        self._dirty.add(key)
        self._plan_pending = True
        self._wake.set()

    def recheck_later(self, key: Key, seconds: float) -> None:
        asyncio.get_running_loop().call_later(seconds, self.notify, key)

    # The loop
    async def run(self) -> None:
        await self.ready.wait()
        log.info("cache ready: reconciling")
        now = time.monotonic()
        self._next_resync = now  # look at every merge once at start
        self._next_sweep = now
        try:
            while True:
                self.run_pass()
                deadlines = [self._next_resync, self._next_sweep]
                if self._plan_pending:
                    deadlines.append(self._next_plan)
                timeout = max(0.0, min(deadlines) - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                self._wake.clear()
        finally:
            await self.stop()

    def run_pass(self, plan: bool = False) -> None:
        """One look at the dirty merges; the queue plan too if due (``plan``: regardless)."""
        now = time.monotonic()
        resync = now >= self._next_resync
        plan = plan or resync or (self._plan_pending and now >= self._next_plan)
        merges = self.cache.merges() if plan else []
        if resync:
            self._dirty.update(m.key for m in merges)
            self._next_resync = now + self.settings.resync_seconds
            gc.collect()
            release_free_memory()  # after a burst, the RSS falls back to what is held
        if now >= self._next_sweep and not self._sweeping:
            self._next_sweep = now + self.settings.retention_interval_seconds
            self._sweeping = True
            self._spawn(None, "sweep", self._sweep)
        if plan:
            self._plan_pending = False
            self._next_plan = now + PLAN_INTERVAL
            self._plan(merges)
        dirty, self._dirty = self._dirty, set()
        for key in dirty:
            if not self._free(key, now):
                self._dirty.add(key)  # looked at again when the running task ends or the backoff expires
            elif self._unlimited_and_new(key):
                self._begin(key)
            else:
                self._spawn(key, "sync", functools.partial(self.reconciler.sync, key))

    def _unlimited_and_new(self, key: Key) -> bool:
        """Without a concurrency limit a new merge needs no plan: it starts now."""
        if self.settings.max_concurrent != 0:
            return False
        merge = self.reconciler.merge(key)
        return (
            merge is not None
            and not merge.deleting
            and not merge.cancel_requested
            and not is_terminal(merge.phase)
            and not merge.status.job_name
            and not self.reconciler.has_job(merge)
        )

    def _begin(self, key: Key, in_turn: bool = False) -> None:
        """Starts the merge's Job; ``in_turn``: only once the previous in-turn start has finished, so that
        queued merges get their Jobs strictly oldest first even when several slots free at once."""
        self._dirty.discard(key)
        self._starting.add(key)
        after = self._start_tail if in_turn else None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if in_turn:
            self._start_tail = done
        self._spawn(key, "start", functools.partial(self._start, key, after, done))

    def _plan(self, merges: list[MergeView]) -> None:
        self.metrics.set_phase_counts(phase_counts(merges))
        merges = [m for m in merges if not m.settled]  # finished for good: no slot, no place in the queue
        started = {m.key for m in merges if self.reconciler.has_job(m)} | self._starting
        limit = self.settings.max_concurrent
        plan = plan_queue(merges, started, limit, self.settings.concurrency_scope)
        self.metrics.queue_depth.set(len(plan.positions))
        self.metrics.running.set(plan.running + len(plan.start))
        now = time.monotonic()
        for key in plan.start:
            if self._free(key, now):
                self._begin(key, in_turn=limit != 0)
        by_key = {m.key: m for m in merges}
        for key, position in plan.positions.items():
            if self._free(key, now) and queued(by_key[key], position, limit, _utcnow()):
                self._dirty.discard(key)
                self._spawn(key, "queue", functools.partial(self._apply_queued, key, position))

    def _free(self, key: Key, now: float) -> bool:
        return key not in self._busy and self._not_before.get(key, 0.0) <= now

    async def _start(
        self, key: Key, after: "asyncio.Future[None] | None", done: "asyncio.Future[None]"
    ) -> None:
        try:
            if after is not None:
                await asyncio.shield(after)
            await self.reconciler.start(key)
        finally:
            self._starting.discard(key)
            if not done.done():
                done.set_result(None)

    async def _apply_queued(self, key: Key, position: int) -> None:
        limit = self.settings.max_concurrent
        await self.reconciler.apply(key, lambda m: queued(m, position, limit, _utcnow()))

    async def _sweep(self) -> None:
        try:
            await self.reconciler.sweep()
        finally:
            self._sweeping = False
            gc.collect()
            release_free_memory()  # the pages of settled merges it listed

    # Tasks
    def _spawn(self, key: Key | None, operation: str, work: Callable[[], Awaitable[None]]) -> None:
        if key is not None:
            self._busy.add(key)
        task = asyncio.create_task(self._guard(key, operation, work), name=f"{operation} {key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, key: Key | None, operation: str, work: Callable[[], Awaitable[None]]) -> None:
        try:
            await work()
            if key is not None:
                self._failures.pop(key, None)
                self._not_before.pop(key, None)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.metrics.reconcile_errors.labels(operation=operation).inc()
            failures = 1
            if key is not None:
                failures = self._failures[key] = self._failures.get(key, 0) + 1
            delay = min(MAX_BACKOFF, 0.5 * 2**failures)
            if isinstance(error, BlockedError):  # expected, and already told on the merge
                log.warning(
                    "%s blocked: %s; retrying in %.1fs", operation, error, delay, extra={"merge": _label(key)}
                )
            else:
                log.exception("%s failed; retrying in %.1fs", operation, delay, extra={"merge": _label(key)})
            if key is not None:
                self._not_before[key] = time.monotonic() + delay
                self.recheck_later(key, delay)
        finally:
            if key is not None:
                self._busy.discard(key)
                if key in self._dirty:
                    self._wake.set()

    def _post_events(self, merge: MergeView, change: StatusChange) -> None:
        bodies = self.reconciler.event_body(merge, change)
        if not bodies:
            return
        task = asyncio.create_task(self._post_in_order(merge.namespace, bodies))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post_in_order(self, namespace: str, bodies: list[dict[str, object]]) -> None:
        """One change's Events (e.g. Processing, then Completed) are created in the order they happened."""
        for body in bodies:
            try:
                await self.kube.create_event(namespace, dict(body))
            except Exception as error:  # an Event is worth a log line, never a failed reconcile
                self.metrics.reconcile_errors.labels(operation="event").inc()
                log.warning("could not post event: %s", error)

    async def settle(self, max_passes: int = 50) -> None:
        """Runs passes until no work is left (for tests and the benchmark's dry runs)."""
        for _ in range(max_passes):
            self.run_pass(plan=True)
            if not self._tasks:
                return
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        raise RuntimeError(f"still busy after {max_passes} passes")

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _label(key: Key | None) -> str:
    return f"{key[0]}/{key[1]}" if key else "-"
