"""What the routes do with VideoMerges: create (idempotently, within the client's quota), read (cache first),
list, cancel, wait; always as a client, who sees only their own merges (an admin sees all).

Another client's merge is NotFoundError, exactly like a merge that does not exist."""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from anyio import to_thread

from videomerge_api import resources
from videomerge_api.cache import MergeCache
from videomerge_api.clients import Client
from videomerge_api.errors import ApiProblemError
from videomerge_api.metrics import ApiMetrics
from videomerge_api.store import (
    AlreadyExistsError,
    ConflictError,
    MergeStore,
    NotFoundError,
    VideoMergeObject,
    list_all,
)
from videomerge_contract import DeleteAction, MergeRequest, cancel_requested, delete_action, is_terminal
from videomerge_contract.resource import ANNOTATION_IDEMPOTENCY_KEY, ANNOTATION_REQUEST_HASH

T = TypeVar("T")
_UNSEEN_HORIZON_SECONDS = 30.0
_CANCEL_ATTEMPTS = 5


def phase_of(obj: VideoMergeObject) -> str | None:
    phase = (obj.get("status") or {}).get("phase")
    return str(phase) if phase else None


def visible_to(obj: VideoMergeObject, client: Client) -> bool:
    return client.is_admin or resources.owner_of(obj) == client.name


class MergeService:
    def __init__(
        self,
        store: MergeStore,
        cache: MergeCache | None,
        metrics: ApiMetrics,
        max_active_merges: int = 0,
        quota_retry_after_seconds: int = 30,
    ) -> None:
        self.store, self.cache, self.metrics = store, cache, metrics
        self.max_active_merges = max_active_merges
        self.quota_retry_after_seconds = quota_retry_after_seconds
        self._creation_locks: dict[str, asyncio.Lock] = {}
        self._just_created: dict[str, tuple[str, float]] = {}

    async def _run(self, call: Callable[[], T]) -> T:
        return await to_thread.run_sync(call)

    async def create(
        self, request: MergeRequest, idempotency_key: str | None, client: Client
    ) -> tuple[VideoMergeObject, bool]:
        """The new VideoMerge, and whether it was created before for the same key and body (a replay)."""
        spec = request.to_spec().to_crd()
        key_hash = resources.key_digest(client.name, idempotency_key) if idempotency_key else None
        name = resources.name_for_key(key_hash) if key_hash else resources.random_name()
        # One creation at a time per client in this replica, so two parallel POSTs cannot both pass the quota.
        async with self._creation_lock(client.name):
            try:
                await self._check_quota(client)
            except ApiProblemError:
                if key_hash is None or (existing := await self._get_or_none(name)) is None:
                    raise
                return self._replay(
                    existing, key_hash, resources.request_digest(spec)
                ), True  # starts nothing
            try:
                created = await self._run(
                    partial(self.store.create, resources.new_video_merge(name, spec, key_hash, client.name))
                )
            except AlreadyExistsError:
                if key_hash is None:  # an 80-bit name collision: one more draw settles it
                    obj = resources.new_video_merge(resources.random_name(), spec, None, client.name)
                    created = await self._run(partial(self.store.create, obj))
                else:
                    existing = await self._run(partial(self.store.get, name))
                    return self._replay(existing, key_hash, resources.request_digest(spec)), True
            self._just_created[resources.name_of(created)] = (client.name, time.monotonic())
            return created, False

    def _creation_lock(self, owner: str) -> asyncio.Lock:
        lock = self._creation_locks.get(owner)
        if lock is None:
            lock = self._creation_locks[owner] = asyncio.Lock()
        return lock

    async def _get_or_none(self, name: str) -> VideoMergeObject | None:
        try:
            return await self._run(partial(self.store.get, name))
        except NotFoundError:
            return None

    async def _check_quota(self, client: Client) -> None:
        if self.max_active_merges <= 0:
            return
        objects = await self._all_objects()
        active = sum(1 for obj in objects if self._counts_against(obj, client))
        active += self._created_but_not_yet_seen(client.name, {resources.name_of(o) for o in objects})
        if active >= self.max_active_merges:
            self.metrics.limited.labels("quota").inc()
            raise ApiProblemError(
                429,
                f"quota: client {client.name!r} has {active} unfinished merges, the most allowed is "
                f"{self.max_active_merges}; wait for one to finish or cancel one",
                headers={"Retry-After": str(self.quota_retry_after_seconds)},
            )

    def _created_but_not_yet_seen(self, owner: str, seen: set[str]) -> int:
        """Merges this replica created that the cache has not caught up with yet (its watch lags a little)."""
        horizon = time.monotonic() - _UNSEEN_HORIZON_SECONDS
        for name in [n for n, (_, at) in self._just_created.items() if n in seen or at < horizon]:
            del self._just_created[name]
        return sum(1 for who, _ in self._just_created.values() if who == owner)

    @staticmethod
    def _counts_against(obj: VideoMergeObject, client: Client) -> bool:
        return (
            resources.owner_of(obj) == client.name
            and not resources.is_deleting(obj)
            and not cancel_requested(obj.get("spec"))
            and not is_terminal(phase_of(obj))
        )

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
        if resources.is_deleting(existing) or cancel_requested(existing.get("spec")):
            raise ApiProblemError(
                409, f"merge {task_id} of this Idempotency-Key was cancelled; use a new key"
            )
        return existing

    async def read(self, name: str, client: Client) -> VideoMergeObject:
        """From the synced cache; on a miss (or before sync) a direct GET. NotFoundError when absent,
        cancelled, or another client's."""
        if not resources.is_task_id(name):
            raise NotFoundError(name)
        obj = self.cache.get(name) if self.cache is not None and self.cache.synced else None
        if obj is not None:
            self.metrics.reads.labels("cache").inc()
        else:
            self.metrics.reads.labels("direct").inc()
            obj = await self._run(partial(self.store.get, name))
        if resources.is_deleting(obj) or not visible_to(obj, client):
            raise NotFoundError(name)
        return obj

    async def _all_objects(self) -> list[VideoMergeObject]:
        if self.cache is not None and self.cache.synced:
            return self.cache.objects()
        return (await self._run(partial(list_all, self.store))).items

    async def all(self, client: Client) -> list[VideoMergeObject]:
        return [
            o for o in await self._all_objects() if not resources.is_deleting(o) and visible_to(o, client)
        ]

    async def cancel(self, name: str, client: Client) -> tuple[VideoMergeObject, DeleteAction]:
        """A DELETE: an unfinished merge is cancelled (``spec.cancel``; the operator stops it and it ends
        failed, reason Cancelled, its record kept), a finished one removed. Returns the merge as it was
        just before, and what was done (``videomerge_contract.cancellation``)."""
        obj = await self.read(name, client)
        for _ in range(_CANCEL_ATTEMPTS):
            action = delete_action(phase_of(obj), cancel_requested(obj.get("spec")))
            if action is DeleteAction.REMOVE:
                await self._run(partial(self.store.delete, name))
            elif action is DeleteAction.CANCEL:
                version = str(obj.get("metadata", {}).get("resourceVersion", ""))
                try:  # conditional: a merge that finished meanwhile is removed instead, not "cancelled"
                    await self._run(partial(self.store.request_cancel, name, version))
                except ConflictError:
                    obj = await self._run(partial(self.store.get, name))
                    if resources.is_deleting(obj) or not visible_to(obj, client):
                        raise NotFoundError(name) from None
                    continue
            self._just_created.pop(name, None)  # no longer counts against the quota, seen by the cache or not
            return obj, action
        raise ApiProblemError(
            409,
            f"merge {name} kept changing while it was being cancelled; try again",
            extra={"task_id": name},
        )

    async def wait_terminal(
        self, name: str, client: Client, timeout: float, disconnected: Callable[[], Awaitable[bool]]
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
                obj = await self.read(name, client)
                if is_terminal(phase_of(obj)):
                    return obj
                remaining = deadline - time.monotonic()
                if remaining <= 0 or await disconnected():
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=min(remaining, 2.0))
        finally:
            remove()
