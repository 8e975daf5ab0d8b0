"""Read access to what the operator knows of the cluster: VideoMerges, their Jobs and the Jobs' pods.

``KopfIndexCache`` reads kopf's in-memory indexes (filled from the watch streams before any handler runs);
``MemoryCache`` is the same interface over plain dicts, for tests.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from videomerge_operator.views import JobView, Key, MergeView, PodView

MERGE_INDEX = "merge_index"
JOB_INDEX = "job_index"
POD_INDEX = "pod_index"


class Cache(Protocol):
    def merges(self) -> list[MergeView]: ...

    def merge(self, key: Key) -> MergeView | None: ...

    def job(self, namespace: str, job_name: str) -> list[JobView]: ...

    def pods(self, namespace: str, job_name: str) -> list[PodView]: ...


def _current(views: Iterable[MergeView]) -> MergeView | None:
    """Of two objects with one name (one being deleted, one new), the live and newest one."""
    return max(views, key=lambda m: (not m.deleting, m.created), default=None)


class KopfIndexCache:
    """kopf passes each index to handlers as a keyword argument named after it; ``bind`` keeps them."""

    def __init__(self) -> None:
        self._indices: dict[str, Mapping[Any, Any]] = {MERGE_INDEX: {}, JOB_INDEX: {}, POD_INDEX: {}}
        self.bound = False  # empty until a handler hands over kopf's indexes

    def bind(self, handler_kwargs: Mapping[str, Any]) -> None:
        for name in self._indices:
            if name in handler_kwargs:
                self._indices[name] = handler_kwargs[name]
        self.bound = True

    def merges(self) -> list[MergeView]:
        found = (_current(store) for store in self._indices[MERGE_INDEX].values())
        return [m for m in found if m is not None]

    def merge(self, key: Key) -> MergeView | None:
        return _current(self._indices[MERGE_INDEX].get(key, ()))

    def job(self, namespace: str, job_name: str) -> list[JobView]:
        return list(self._indices[JOB_INDEX].get((namespace, job_name), ()))

    def pods(self, namespace: str, job_name: str) -> list[PodView]:
        return list(self._indices[POD_INDEX].get((namespace, job_name), ()))


class MemoryCache:
    def __init__(self) -> None:
        self.merge_views: dict[Key, MergeView] = {}
        self.job_views: dict[Key, JobView] = {}
        self.pod_views: dict[Key, list[PodView]] = {}

    def merges(self) -> list[MergeView]:
        return list(self.merge_views.values())

    def merge(self, key: Key) -> MergeView | None:
        return self.merge_views.get(key)

    def job(self, namespace: str, job_name: str) -> list[JobView]:
        found = self.job_views.get((namespace, job_name))
        return [found] if found else []

    def pods(self, namespace: str, job_name: str) -> list[PodView]:
        return list(self.pod_views.get((namespace, job_name), []))
