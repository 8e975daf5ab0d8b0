"""An in-memory stand-in for the API server: enough of it for the controller, with watch-like callbacks."""

import asyncio
import copy
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from videomerge_contract.resource import LABEL_SETTLED
from videomerge_operator.cache import MemoryCache
from videomerge_operator.kube import ApiError
from videomerge_operator.transitions import compact_if_settled
from videomerge_operator.views import Key, job_view, merge_view, pod_view


class FakeCluster:
    def __init__(self) -> None:
        self.create_delays: dict[str, float] = {}
        self.merges: dict[Key, dict[str, Any]] = {}
        self.jobs: dict[Key, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.jobs_created: list[Key] = []
        self.jobs_deleted: list[Key] = []
        self.cache = MemoryCache()
        self.notify: Callable[[Key], None] = lambda key: None
        self.fail_next_create: ApiError | None = None
        self.applied: list[str] = []  # paths, in order
        self.fail_apply: ApiError | None = None  # every apply fails with it while set
        self.failed_create: dict[str, str] = {}  # job uid -> the Job controller's FailedCreate message
        self.before_status_patch: Callable[[Key, dict[str, Any]], None] | None = None
        self.watch_jobs = True  # False: created Jobs do not reach the cache (a lagging watch)
        self.watch_status_writes = True  # False: the operator's status patches do not reach the cache
        self.status_patches = 0
        self.list_page = 2  # settled merges per page, small so that the sweep pages
        self.status_conflicts = 0
        self._rv = itertools.count(100)
        self._uid = itertools.count(1)

    # Test-side helpers
    def add_merge(self, body: dict[str, Any]) -> None:
        meta = body["metadata"]
        self.merges[(meta["namespace"], meta["name"])] = body
        self._changed_merge(body)

    def worker_writes(self, key: Key, **status: Any) -> None:
        body = self.merges[key]
        body["status"] = {**body.get("status", {}), **status}
        self._changed_merge(body)

    def request_cancel(self, key: Key) -> None:
        """What the API's DELETE (or kubectl patch) does: spec.cancel true, a new generation."""
        body = self.merges[key]
        body["spec"] = {**body["spec"], "cancel": True}
        body["metadata"]["generation"] = body["metadata"].get("generation", 1) + 1
        self._changed_merge(body)

    def set_job(self, key: Key, job: dict[str, Any], pods: list[dict[str, Any]] = ()) -> None:
        self.jobs[key] = job
        self.cache.job_views[key] = job_view(job)
        self.cache.pod_views[key] = [pod_view(p, "worker") for p in pods]
        owner = job["metadata"]["ownerReferences"][0]["name"]
        self.notify((key[0], owner))

    def phase(self, key: Key) -> str | None:
        return self.merges[key].get("status", {}).get("phase")

    def status(self, key: Key) -> dict[str, Any]:
        return self.merges[key].get("status", {})

    def _changed_merge(self, body: dict[str, Any]) -> None:
        """What the operator's watch (and kopf's index) make of a change: settled merges leave it."""
        body["metadata"]["resourceVersion"] = str(next(self._rv))
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if LABEL_SETTLED in (body["metadata"].get("labels") or {}):
            self.cache.merge_views.pop(key, None)
        else:
            self.cache.merge_views[key] = compact_if_settled(merge_view(body), datetime.now(UTC))
        self.notify(key)

    def settled(self) -> list[Key]:
        return [k for k, b in self.merges.items() if LABEL_SETTLED in (b["metadata"].get("labels") or {})]

    # KubeOps
    async def get_merge(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.merges.get((namespace, name))

    async def patch_merge_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str | None
    ) -> dict[str, Any]:
        key = (namespace, name)
        if self.before_status_patch is not None:
            hook, self.before_status_patch = self.before_status_patch, None
            hook(key, status)
        body = self.merges.get(key)
        if body is None:
            raise ApiError(404, "Not Found", "")
        self.status_patches += 1
        if resource_version and resource_version != body["metadata"]["resourceVersion"]:
            self.status_conflicts += 1
            raise ApiError(409, "Conflict", '{"message": "the object has been modified"}')
        merged = dict(body.get("status", {}))
        for field, value in status.items():
            if value is None:
                merged.pop(field, None)
            else:
                merged[field] = value
        body["status"] = merged
        if self.watch_status_writes:
            self._changed_merge(body)
        else:
            body["metadata"]["resourceVersion"] = str(next(self._rv))
        return copy.deepcopy(body)

    async def label_settled(self, namespace: str, name: str) -> None:
        body = self.merges.get((namespace, name))
        if body is not None:
            body["metadata"]["labels"] = {**(body["metadata"].get("labels") or {}), LABEL_SETTLED: "true"}
            self._changed_merge(body)

    async def settled_merges(
        self, namespace: str | None, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        found = [copy.deepcopy(self.merges[k]) for k in self.settled() if namespace in (None, k[0])]
        start = int(after or 0)
        more = start + self.list_page < len(found)
        return found[start : start + self.list_page], str(start + self.list_page) if more else None

    async def drop_finalizer(self, merge: dict[str, Any], finalizer: str) -> None:
        meta = merge["metadata"]
        body = self.merges[(meta["namespace"], meta["name"])]
        body["metadata"]["finalizers"] = [
            f for f in body["metadata"].get("finalizers") or [] if f != finalizer
        ]

    async def delete_merge(self, namespace: str, name: str, uid: str) -> None:
        self.merges.pop((namespace, name), None)
        self.cache.merge_views.pop((namespace, name), None)
        self.notify((namespace, name))

    async def create_job(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        # the round trip, during which other passes may run; slower for the Jobs named in create_delays
        await asyncio.sleep(self.create_delays.get(manifest["metadata"]["name"], 0.01))
        if self.fail_next_create is not None:
            error, self.fail_next_create = self.fail_next_create, None
            raise error
        key = (namespace, manifest["metadata"]["name"])
        if key in self.jobs:
            raise ApiError(409, "Conflict", '{"reason": "AlreadyExists"}')
        job = {
            **manifest,
            "metadata": {**manifest["metadata"], "uid": f"job-{next(self._uid)}"},
            "status": {},
        }
        self.jobs[key] = job
        self.jobs_created.append(key)
        if self.watch_jobs:
            self.cache.job_views[key] = job_view(job)
        return job

    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.jobs.get((namespace, name))

    async def delete_job(self, namespace: str, name: str, uid: str | None) -> None:
        if (namespace, name) in self.jobs:
            self.jobs_deleted.append((namespace, name))
        self.jobs.pop((namespace, name), None)
        self.cache.job_views.pop((namespace, name), None)

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.events.append(event)

    async def apply(self, path: str, manifest: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(0.01)
        if self.fail_apply is not None:
            raise self.fail_apply
        self.applied.append(path)
        return manifest

    async def failed_create_message(self, namespace: str, job_uid: str) -> str | None:
        return self.failed_create.get(job_uid)

    def events_of(self, name: str) -> list[tuple[str, str, str]]:
        return [
            (e["type"], e["reason"], e["message"]) for e in self.events if e["involvedObject"]["name"] == name
        ]

    def event_reasons(self, name: str) -> list[str]:
        return [e["reason"] for e in self.events if e["involvedObject"]["name"] == name]
