"""MergeStore kept in memory, behaving like the API server where the API relies on it.

Resource versions grow on every change; a watch replays the events after its resourceVersion and answers
410 (WatchExpiredError) when they are no longer kept. Tests use ``patch_status`` where the operator would write,
``expire_history`` to force a relist, and ``unavailable`` to play an unreachable API server.
"""

import copy
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

from pydantic import ValidationError

from videomerge_api.store import (
    AlreadyExistsError,
    ConflictError,
    InvalidError,
    ListPage,
    NotFoundError,
    UnavailableError,
    VideoMergeObject,
    WatchEvent,
    WatchExpiredError,
)
from videomerge_contract import VideoMergeSpec


class MemoryWatchStream:
    def __init__(self, store: "MemoryMergeStore", after: int, timeout_seconds: float) -> None:
        self._store, self._after, self._deadline = store, after, time.monotonic() + timeout_seconds
        self._closed = False
        self._epoch = store._epoch

    def __iter__(self) -> Iterator[WatchEvent]:
        store = self._store
        while not self._closed:
            with store._changed:
                if store.unavailable:
                    raise UnavailableError("the Kubernetes API server cannot be reached")
                if self._after < store._oldest_kept or self._epoch != store._epoch:
                    raise WatchExpiredError("too old resource version")
                pending = [event for rv, event in store._history if rv > self._after]
                if not pending:
                    remaining = self._deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    store._changed.wait(min(remaining, 0.5))
                    continue
            for event in pending:
                if self._closed:
                    return
                self._after = int(event.resource_version or self._after)
                yield event

    def close(self) -> None:
        self._closed = True
        with self._store._changed:
            self._store._changed.notify_all()


class MemoryMergeStore:
    def __init__(self, namespace: str = "default") -> None:
        self.namespace = namespace
        self.unavailable = False
        self.calls: Counter[str] = Counter()
        self._objects: dict[str, VideoMergeObject] = {}
        self._history: list[tuple[int, WatchEvent]] = []
        self._rv = 0
        self._oldest_kept = 0
        self._epoch = 0  # bumped by expire_history: open watches then end with 410, as after a compaction
        self._changed = threading.Condition()

    def _check(self, op: str) -> None:
        self.calls[op] += 1
        if self.unavailable:
            raise UnavailableError("the Kubernetes API server cannot be reached")

    def _record(self, event_type: str, obj: VideoMergeObject) -> VideoMergeObject:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._history.append((self._rv, WatchEvent(event_type, copy.deepcopy(obj))))
        self._changed.notify_all()
        return copy.deepcopy(obj)

    def create(self, obj: VideoMergeObject) -> VideoMergeObject:
        with self._changed:
            self._check("create")
            obj = copy.deepcopy(obj)
            name = obj["metadata"]["name"]
            if name in self._objects:
                raise AlreadyExistsError(f'videomerges.videomerge.io "{name}" already exists')
            try:
                obj["spec"] = VideoMergeSpec.from_crd(obj.get("spec")).to_crd()
            except ValidationError as exc:
                raise InvalidError(
                    f"VideoMerge.videomerge.io {name!r} is invalid: {exc.error_count()} errors"
                ) from None
            obj["metadata"].update(
                namespace=self.namespace,
                uid=str(uuid.uuid4()),
                creationTimestamp=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                generation=1,
            )
            self._objects[name] = obj
            return self._record("ADDED", obj)

    def get(self, name: str) -> VideoMergeObject:
        with self._changed:
            self._check("get")
            if name not in self._objects:
                raise NotFoundError(f'videomerges.videomerge.io "{name}" not found')
            return copy.deepcopy(self._objects[name])

    def list(self, limit: int, continue_token: str | None = None) -> ListPage:
        with self._changed:
            self._check("list")
            names = sorted(n for n in self._objects if continue_token is None or n > continue_token)
            page = names[:limit]
            more = len(names) > limit
            return ListPage(
                items=[copy.deepcopy(self._objects[n]) for n in page],
                resource_version=str(self._rv),
                continue_token=page[-1] if more else None,
            )

    def delete(self, name: str) -> None:
        with self._changed:
            self._check("delete")
            obj = self._objects.pop(name, None)
            if obj is None:
                raise NotFoundError(f'videomerges.videomerge.io "{name}" not found')
            self._record("DELETED", obj)

    def request_cancel(self, name: str, resource_version: str) -> VideoMergeObject:
        with self._changed:
            self._check("cancel")
            obj = self._objects.get(name)
            if obj is None:
                raise NotFoundError(f'videomerges.videomerge.io "{name}" not found')
            if obj["metadata"]["resourceVersion"] != resource_version:
                raise ConflictError(f'the object has been modified; please apply your changes to "{name}"')
            if not obj["spec"].get("cancel"):  # the API server bumps the generation on a spec change only
                obj["spec"]["cancel"] = True
                obj["metadata"]["generation"] += 1
            return self._record("MODIFIED", obj)

    def watch(self, resource_version: str, timeout_seconds: int) -> MemoryWatchStream:
        with self._changed:  # the stream's epoch is taken with the call, as a real watch starts at once
            self._check("watch")
            return MemoryWatchStream(self, int(resource_version or 0), timeout_seconds)

    def ping(self) -> None:
        with self._changed:
            self._check("ping")

    def patch_status(self, name: str, status: dict[str, object]) -> VideoMergeObject:
        """What the operator and worker do through the status subresource (a merge patch)."""
        with self._changed:
            obj = self._objects[name]
            obj["status"] = {**obj.get("status", {}), **status}
            return self._record("MODIFIED", obj)

    def expire_history(self) -> None:
        """Forget past events, as etcd compaction does: watches from older versions get 410."""
        with self._changed:
            self._history.clear()
            self._oldest_kept = self._rv
            self._epoch += 1
            self._changed.notify_all()
