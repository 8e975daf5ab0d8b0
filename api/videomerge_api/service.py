"""What the routes do with VideoMerges: create (idempotently), read (cache first), list, cancel, wait."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from anyio import to_thread

from videomerge_api import resources
from videomerge_api.cache import MergeCache
from videomerge_api.errors import ApiProblemError
from videomerge_api.metrics import ApiMetrics
from videomerge_api.store import AlreadyExistsError, MergeStore, NotFoundError, VideoMergeObject, list_all
from videomerge_contract import MergeRequest, is_terminal
from videomerge_contract.resource import ANNOTATION_IDEMPOTENCY_KEY, ANNOTATION_REQUEST_HASH

T = TypeVar("T")


def phase_of(obj: VideoMergeObject) -> str | None:
    phase = (obj.get("status") or {}).get("phase")
    return str(phase) if phase else None


class MergeService:
    def __init__(self, store: MergeStore, cache: MergeCache | None, metrics: ApiMetrics) -> None:
        self.store, self.cache, self.metrics = store, cache, metrics

    async def _run(self, call: Callable[[], T]) -> T:
        return await to_thread.run_sync(call)

    async def create(
        self, request: MergeRequest, idempotency_key: str | None
    ) -> tuple[VideoMergeObject, bool]:
        """The new VideoMerge, and whether it was created before for the same key and body (a replay)."""
        spec = request.to_spec().to_crd()
        if idempotency_key is None:
            try:
                obj = resources.new_video_merge(resources.random_name(), spec, None)
                return await self._run(partial(self.store.create, obj)), False
            except AlreadyExistsError:  # an 80-bit name collision: one more draw settles it
                obj = resources.new_video_merge(resources.random_name(), spec, None)
                return await self._run(partial(self.store.create, obj)), False
        key_hash = resources.key_digest(idempotency_key)
        name = resources.name_for_key(key_hash)
        try:
            return await self._run(
                partial(self.store.create, resources.new_video_merge(name, spec, key_hash))
            ), False
        except AlreadyExistsError:
            existing = await self._run(partial(self.store.get, name))
        return self._replay(existing, key_hash, resources.request_digest(spec)), True

    @staticmethod
    def _replay(existing: VideoMergeObject, key_hash: str, body_hash: str) -> VideoMergeObject:
        task_id = resources.name_of(existing)
        if resources.annotation(existing, ANNOTATION_IDEMPOTENCY_KEY) != key_hash:
            raise ApiProblemError(409, "this Idempotency-Key collides with another merge; use another key")
        if resources.annotation(existing, ANNOTATION_REQUEST_HASH) != body_hash:
            raise ApiProblemError(
                409,
                f"Idempotency-Key already used for merge {task_id} with a different body; use a new key",
                extra={"task_id": task_id},
            )
        if resources.is_deleting(existing):
            raise ApiProblemError(
                409, f"merge {task_id} of this Idempotency-Key was cancelled; use a new key"
            )
        return existing

    async def read(self, name: str) -> VideoMergeObject:
        """From the synced cache; on a miss (or before sync) a direct GET. NotFoundError when absent or cancelled."""
        if not resources.is_task_id(name):
            raise NotFoundError(name)
        obj = self.cache.get(name) if self.cache is not None and self.cache.synced else None
        if obj is not None:
            self.metrics.reads.labels("cache").inc()
        else:
            self.metrics.reads.labels("direct").inc()
            obj = await self._run(partial(self.store.get, name))
        if resources.is_deleting(obj):
            raise NotFoundError(name)
        return obj

    async def all(self) -> list[VideoMergeObject]:
        if self.cache is not None and self.cache.synced:
            objects = self.cache.objects()
        else:
            objects = (await self._run(partial(list_all, self.store))).items
        return [o for o in objects if not resources.is_deleting(o)]

    async def cancel(self, name: str) -> None:
        if not resources.is_task_id(name):
            raise NotFoundError(name)
        await self._run(partial(self.store.delete, name))

    async def wait_terminal(
        self, name: str, timeout: float, disconnected: Callable[[], Awaitable[bool]]
    ) -> VideoMergeObject | None:
        """The merge once terminal; None after ``timeout`` or when the client went away.

        Wakes on the cache's change notice; checks with a direct GET every few seconds in case the cache
        is not synced."""
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def on_change(changed_name: str) -> None:
            if changed_name == name:
                loop.call_soon_threadsafe(changed.set)

        remove = self.cache.add_listener(on_change) if self.cache is not None else (lambda: None)
        deadline = time.monotonic() + timeout
        try:
            while True:
                changed.clear()
                obj = await self.read(name)
                if is_terminal(phase_of(obj)):
                    return obj
                remaining = deadline - time.monotonic()
                if remaining <= 0 or await disconnected():
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=min(remaining, 2.0))
        finally:
            remove()
