"""The VideoMerges of the namespace as last seen by list + watch: pure state, no I/O.

The syncer feeds it (``replace`` after a list, ``apply`` per watch event) from its thread; request handlers
read it. Listeners hear the name of every object that changed, so a waiting request can wake up.

Only what the status, result and list answers need is kept (``essentials``): of the spec, whose clip URLs
can weigh 100 KiB a merge, only ``cancel`` (a DELETE and the quota read it); no conditions. A cached merge
costs about 1–2 KB.
"""

import threading
from collections.abc import Callable, Iterable

from videomerge_api.store import VideoMergeObject, WatchEvent
from videomerge_contract import CANCEL_PATCH, cancel_requested
from videomerge_contract.resource import LABEL_OWNER

Listener = Callable[[str], None]
_METADATA_KEPT = ("name", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp")
_STATUS_KEPT = (
    "phase",
    "message",
    "stage",
    "progress",
    "attempts",
    "queuePosition",
    "completionTime",
    "result",
    "error",
    "notification",
)


def essentials(obj: VideoMergeObject) -> VideoMergeObject:
    """The object cut to what reads need, in the same shape (metadata, status)."""
    meta = obj.get("metadata") or {}
    kept: VideoMergeObject = {"metadata": {k: meta[k] for k in _METADATA_KEPT if k in meta}}
    owner = (meta.get("labels") or {}).get(LABEL_OWNER)
    if owner:
        kept["metadata"]["labels"] = {LABEL_OWNER: owner}
    if cancel_requested(obj.get("spec")):
        kept["spec"] = dict(CANCEL_PATCH["spec"])
    status = obj.get("status")
    if isinstance(status, dict) and status:
        kept["status"] = {k: status[k] for k in _STATUS_KEPT if k in status}
    return kept


def _name(obj: VideoMergeObject) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


class MergeCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, VideoMergeObject] = {}
        self._resource_version: str | None = None
        self._synced = False
        self._listeners: list[Listener] = []

    @property
    def synced(self) -> bool:
        return self._synced

    @property
    def resource_version(self) -> str | None:
        return self._resource_version

    def __len__(self) -> int:
        return len(self._objects)

    def get(self, name: str) -> VideoMergeObject | None:
        """The object as last seen, or None; callers must not modify it."""
        return self._objects.get(name)

    def objects(self) -> list[VideoMergeObject]:
        with self._lock:
            return list(self._objects.values())

    def replace(self, items: Iterable[VideoMergeObject], resource_version: str) -> None:
        """A fresh list: becomes the whole truth, and the cache is synced from ``resource_version``."""
        fresh = {_name(obj): essentials(obj) for obj in items if _name(obj)}
        with self._lock:
            old = self._objects
            changed = {n for n in old.keys() | fresh.keys() if old.get(n) != fresh.get(n)}
            self._objects = fresh
            self._resource_version = resource_version
            self._synced = True
        self._notify(changed)

    def apply(self, event: WatchEvent) -> None:
        """One watch event; BOOKMARK only moves the resourceVersion on."""
        name = event.name
        with self._lock:
            if event.type in ("ADDED", "MODIFIED") and name:
                self._objects[name] = essentials(event.object)
            elif event.type == "DELETED" and name:
                self._objects.pop(name, None)
            if event.resource_version:
                self._resource_version = event.resource_version
        if event.type != "BOOKMARK" and name:
            self._notify({name})

    def mark_unsynced(self) -> None:
        """The watch broke: keep the objects, but reads must not trust them until the next list."""
        self._synced = False

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Calls ``listener(name)`` after each change (from the syncer's thread); returns its remover."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _notify(self, names: set[str]) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for name in names:
            for listener in listeners:
                listener(name)
