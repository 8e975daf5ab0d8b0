"""What the operator does for one VideoMerge: start its Job, follow it, and write a truthful status.

Decisions come from the pure modules (job_manifest, outcome, transitions); this module only reads the
cache, calls the API and writes status with optimistic concurrency: every status patch carries the
resourceVersion it was computed from, and on a conflict the merge is read again and the decision redone.
So a terminal status written by the worker in between is seen, and never overwritten.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from videomerge_contract.enums import ErrorReason, Phase
from videomerge_contract.ownership import Writer, check_status_patch
from videomerge_contract.phases import is_terminal
from videomerge_contract.resource import KIND
from videomerge_operator.cache import Cache
from videomerge_operator.events import event_body
from videomerge_operator.job_manifest import build_job
from videomerge_operator.kube import ApiError
from videomerge_operator.metrics import OperatorMetrics
from videomerge_operator.naming import FINALIZER, job_name_for
from videomerge_operator.outcome import Graces, JobOutcome, OutcomeKind, job_outcome
from videomerge_operator.retention import expired
from videomerge_operator.s3_cleanup import delete_merged_object
from videomerge_operator.settings import OperatorSettings
from videomerge_operator.transitions import (
    StatusChange,
    acknowledge_terminal,
    attempts_seen,
    blocked,
    cancelled,
    chain,
    failed,
    job_created,
    worker_blocked,
    worker_started,
)
from videomerge_operator.views import (
    JobView,
    Key,
    MergeView,
    job_view,
    merge_view,
    owned_by_merge,
    settled_view,
)
from videomerge_operator.worker_access import NamespacePreparer

log = logging.getLogger("videomerge_operator.reconcile")
PATCH_ATTEMPTS: Final = 6
# A Job this replica just created may not be in the watch cache yet: not "lost" within this window.
CACHE_LAG_SECONDS: Final = 30.0
# A Job without any pod this long after its creation: ask its Events why (quota, a missing ServiceAccount).
NO_POD_SECONDS: Final = 3.0
NO_POD_RECHECK_SECONDS: Final = 5.0


class BlockedError(Exception):
    """The merge cannot start yet; its status and an Event say why. The controller retries with backoff."""


class KubeOps(Protocol):
    async def get_merge(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    async def patch_merge_status(
        self, namespace: str, name: str, status: dict[str, Any], resource_version: str | None
    ) -> dict[str, Any]: ...
    async def delete_merge(self, namespace: str, name: str, uid: str) -> None: ...
    async def label_settled(self, namespace: str, name: str) -> None: ...
    async def settled_merges(
        self, namespace: str | None, after: str | None
    ) -> tuple[list[dict[str, Any]], str | None]: ...
    async def drop_finalizer(self, merge: dict[str, Any], finalizer: str) -> None: ...
    async def create_job(self, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]: ...
    async def get_job(self, namespace: str, name: str) -> dict[str, Any] | None: ...
    async def delete_job(self, namespace: str, name: str, uid: str | None) -> None: ...
    async def create_event(self, namespace: str, event: dict[str, Any]) -> None: ...
    async def apply(self, path: str, manifest: dict[str, Any]) -> dict[str, Any]: ...
    async def failed_create_message(self, namespace: str, job_uid: str) -> str | None: ...


class Reconciler:
    def __init__(
        self,
        settings: OperatorSettings,
        kube: KubeOps,
        cache: Cache,
        metrics: OperatorMetrics,
        post_events: Callable[[MergeView, StatusChange], None],
        recheck: Callable[[Key, float], None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.kube = kube
        self.cache = cache
        self.metrics = metrics
        self.post_events = post_events
        self.recheck = recheck  # (key, seconds): look at this merge again later
        self.clock = clock
        self.preparer = NamespacePreparer(settings, kube)
        self.graces = Graces(
            image_pull=timedelta(seconds=settings.image_pull_grace_seconds),
            container_config=timedelta(seconds=settings.container_config_grace_seconds),
        )
        self.created: dict[Key, float] = {}  # Jobs created here, by monotonic time, until the cache has them
        self.first_seen: dict[Key, float] = {}
        # Status this replica wrote, until the cache catches up: (resourceVersion it replaced, the result).
        self.written: dict[Key, tuple[str, MergeView]] = {}

    # Reading the cache
    def job_of(self, merge: MergeView) -> JobView | None:
        jobs = self.cache.job(merge.namespace, merge.status.job_name or job_name_for(merge.name))
        return next((j for j in jobs if owned_by_merge(j, merge)), None)

    def merge(self, key: Key) -> MergeView | None:
        """The cached merge, or what this replica's own last status write made of it if the cache is behind.

        Deciding on the stale copy would compute the write again and lose a round trip to a conflict.
        """
        merge = self.cache.merge(key)
        written = self.written.get(key)
        if written is not None:
            replaced, result = written
            if merge is not None and merge.uid == result.uid and merge.resource_version == replaced:
                return result
            del self.written[key]
        return merge

    def has_job(self, merge: MergeView) -> bool:
        if self.job_of(merge) is not None:
            self.created.pop(merge.key, None)
            return True
        return merge.key in self.created

    def outcome_of(self, merge: MergeView, job: JobView) -> JobOutcome:
        return job_outcome(job, self.cache.pods(merge.namespace, job.name), self.clock(), self.graces)

    # Writing status
    async def apply(
        self, key: Key, decide: Callable[[MergeView], StatusChange], fresh: bool = False
    ) -> StatusChange | None:
        """Computes the change from the merge and patches it, conditional on the merge's resourceVersion."""
        merge = await self._read(key) if fresh else self.merge(key)
        for _ in range(PATCH_ATTEMPTS):
            if merge is None or merge.deleting:
                return None
            change = decide(merge)
            if not change.patch:
                return change
            check_status_patch(Writer.OPERATOR, change.patch)
            try:
                result = await self.kube.patch_merge_status(
                    merge.namespace, merge.name, change.patch, merge.resource_version
                )
            except ApiError as error:
                if error.not_found:
                    return None
                if not error.conflict:
                    raise
                merge = await self._read(key)
                continue
            if result.get("metadata"):
                self.written[key] = (merge.resource_version, merge_view(result))
            self.post_events(merge, change)
            return change
        raise RuntimeError(f"status of {key} kept changing under {PATCH_ATTEMPTS} attempts")

    async def _read(self, key: Key) -> MergeView | None:
        body = await self.kube.get_merge(*key)
        return merge_view(body) if body else None

    # Starting
    async def start(self, key: Key) -> None:
        merge = self.merge(key)
        if merge is None or merge.deleting or is_terminal(merge.phase) or self.has_job(merge):
            return
        if merge.cancel_requested:  # cancelled while it waited: it never gets a Job
            await self.sync(key)
            return
        name = job_name_for(merge.name)
        manifest = build_job(merge.name, merge.namespace, merge.uid, self.settings)
        try:
            await self.preparer.ensure(merge.namespace)
        except ApiError as error:
            message = (
                f"The worker's ServiceAccount, Role and S3 Secret could not be applied in namespace "
                f"{merge.namespace}: {error.message}"
            )
            await self._block(key, "NamespaceNotPrepared", message)
        try:
            await self.kube.create_job(merge.namespace, manifest)
        except ApiError as error:
            if error.status in (400, 422):  # the manifest itself is refused: retrying cannot help
                message = f"The worker Job could not be created: {error.message}"
                await self._finish(key, lambda m: failed(m, ErrorReason.JOB_FAILED, message, self.clock()))
                return
            if error.status == 403:  # RBAC, a ResourceQuota on Jobs, an admission policy: may change
                reason = "QuotaExceeded" if "exceeded quota" in error.message else "JobForbidden"
                await self._block(key, reason, f"The worker Job could not be created: {error.message}")
            if not error.conflict:
                raise
            if not await self._adopt_existing(merge, name):
                return
        else:
            self.metrics.jobs_created.inc()
            seen = self.first_seen.get(key)
            if seen is not None:
                self.metrics.creation_to_job.observe(time.monotonic() - seen)
            log.info("created job", extra={"merge": f"{key[0]}/{key[1]}", "job": name})
        self.created[key] = time.monotonic()
        await self.apply(key, lambda m: job_created(m, name, self.clock()))

    async def _block(self, key: Key, reason: str, message: str) -> None:
        await self.apply(key, lambda m: blocked(m, reason, message, self.clock()))
        raise BlockedError(f"{reason}: {message}")

    async def _adopt_existing(self, merge: MergeView, name: str) -> bool:
        """A Job with our name exists: ours (a retry, a restart) is fine; anything else is handled."""
        body = await self.kube.get_job(merge.namespace, name)
        if body is None:
            self.recheck(merge.key, 1.0)  # it was being deleted: try again
            return False
        existing = job_view(body)
        if owned_by_merge(existing, merge):
            return True
        if existing.owner_kind == KIND and existing.owner_name == merge.name:
            # Left by an earlier VideoMerge of the same name; garbage collection is on its way. Hurry it.
            await self.kube.delete_job(merge.namespace, name, existing.uid)
            self.recheck(merge.key, 2.0)
            return False
        message = (
            f"A Job named {name} already exists in {merge.namespace} and does not belong to this VideoMerge"
        )
        await self.apply(merge.key, lambda m: failed(m, ErrorReason.JOB_FAILED, message, self.clock()))
        return False

    # Following
    async def sync(self, key: Key) -> None:
        merge = self.merge(key)
        if merge is None:
            self.created.pop(key, None)
            self.first_seen.pop(key, None)
            self.written.pop(key, None)
            return
        if merge.deleting or merge.settled:  # settled: finished and acknowledged, nothing left to do
            self.first_seen.pop(key, None)
            if merge.settled and not merge.deleting:
                await self.kube.label_settled(merge.namespace, merge.name)  # the watch lets go of it
            return
        self.first_seen.setdefault(key, time.monotonic())
        job = self.job_of(merge)
        if job is not None:
            self.created.pop(key, None)
        if merge.cancel_requested:
            await self._cancel(merge, job)
            return
        if is_terminal(merge.phase):
            attempts = self.outcome_of(merge, job).attempts if job else None
            await self._finish(key, lambda m: acknowledge_terminal(m, self.clock(), attempts))
            return
        if job is None:
            await self._check_lost(merge)
            return
        await self._follow(merge, job)

    async def _cancel(self, merge: MergeView, job: JobView | None) -> None:
        """``spec.cancel``: the terminal status first (so the worker, once stopped, finds it and writes
        nothing), then the Job goes, pod and all. A merge that ended by itself first keeps its end and Job."""
        await self._finish(
            merge.key,
            lambda m: (
                acknowledge_terminal(m, self.clock()) if is_terminal(m.phase) else cancelled(m, self.clock())
            ),
        )
        current = self.merge(merge.key)
        if current is None or not current.cancelled:
            return
        if job is None and merge.key in self.created:  # created here a moment ago, not in the cache yet
            body = await self.kube.get_job(merge.namespace, job_name_for(merge.name))
            job = job_view(body) if body is not None and owned_by_merge(job_view(body), merge) else None
        if job is not None and not job.finished:
            await self.kube.delete_job(merge.namespace, job.name, job.uid)
            log.info("cancelled: deleted its job", extra={"merge": f"{merge.namespace}/{merge.name}"})
        self.created.pop(merge.key, None)

    async def _follow(self, merge: MergeView, job: JobView) -> None:
        outcome = self.outcome_of(merge, job)
        if outcome.recheck_at is not None:
            self.recheck(merge.key, max(0.5, (outcome.recheck_at - self.clock()).total_seconds()))
        max_attempts = self.settings.backoff_limit + 1
        if outcome.kind == OutcomeKind.RUNNING:
            waiting = await self._why_waiting(merge, job, outcome)

            def progress(m: MergeView) -> StatusChange:
                now = self.clock()
                return chain(
                    m,
                    lambda v: job_created(v, job.name, now),
                    lambda v: attempts_seen(v, outcome.attempts, max_attempts, outcome.message),
                    lambda v: worker_started(v, now),
                    lambda v: worker_blocked(v, *waiting, now) if waiting else StatusChange(),
                )

            await self.apply(merge.key, progress)
            return
        if outcome.kind == OutcomeKind.SUCCEEDED:
            reason, message = (
                ErrorReason.WORKER_CRASHED,
                "The worker exited successfully without reporting a result",
            )
        else:
            reason, message = outcome.reason or ErrorReason.JOB_FAILED, outcome.message
        # Read again before concluding: the worker writes its terminal status just before it exits.
        change = await self._finish(
            merge.key,
            lambda m: (
                acknowledge_terminal(m, self.clock(), outcome.attempts)
                if is_terminal(m.phase)
                else failed(m, reason, message, self.clock(), outcome.attempts)
            ),
            fresh=True,
        )
        if outcome.kind == OutcomeKind.STUCK and change is not None:
            await self.kube.delete_job(merge.namespace, job.name, job.uid)

    async def _why_waiting(
        self, merge: MergeView, job: JobView, outcome: JobOutcome
    ) -> tuple[str, str] | None:
        """(reason, message) when the worker cannot start yet: its pod waits on something, or the Job has no
        pod at all some seconds after its creation (the Job controller's FailedCreate Event says why)."""
        if merge.phase == Phase.PROCESSING:
            return None
        if outcome.waiting_reason is not None:
            return outcome.waiting_reason, outcome.waiting_message
        if self.cache.pods(merge.namespace, job.name) or job.active or job.created is None:
            return None
        age = (self.clock() - job.created).total_seconds()
        if age < NO_POD_SECONDS:
            self.recheck(merge.key, NO_POD_SECONDS - age + 0.1)
            return None
        self.recheck(merge.key, NO_POD_RECHECK_SECONDS)
        message = await self.kube.failed_create_message(merge.namespace, job.uid)
        if message is None:
            return None
        reason = "QuotaExceeded" if "exceeded quota" in message else "PodCreationFailed"
        return reason, f"The worker pod of Job {job.name} cannot be created: {message}"

    async def _finish(
        self, key: Key, decide: Callable[[MergeView], StatusChange], fresh: bool = False
    ) -> StatusChange | None:
        change = await self.apply(key, decide, fresh=fresh)
        if change is not None and change.finished is not None:
            phase, reason = change.finished
            self.metrics.finished.labels(phase=phase, reason=reason).inc()
        return change

    async def _check_lost(self, merge: MergeView) -> None:
        name = merge.status.job_name
        if not name:
            return  # not started yet: the queue decides
        created = self.created.get(merge.key)
        if created is not None and time.monotonic() - created < CACHE_LAG_SECONDS:
            return
        body = await self.kube.get_job(merge.namespace, name)
        if body is not None and owned_by_merge(job_view(body), merge):
            self.recheck(merge.key, 2.0)  # the cache is behind
            return
        message = f"Job {name} disappeared before the merge finished"
        await self._finish(
            merge.key, lambda m: failed(m, ErrorReason.JOB_LOST, message, self.clock()), fresh=True
        )

    # Cleaning up
    async def sweep(self) -> int:
        """Deletes finished merges older than the retention, those the watch follows and the settled ones
        it leaves out (listed a page at a time); releases settled merges being deleted (S3 clean-up).
        Returns how many it deleted."""
        now, keep = self.clock(), timedelta(seconds=self.settings.retention_seconds)
        old = expired(self.cache.merges(), now, keep)
        for namespace in self.settings.namespaces or [None]:
            after: str | None = None
            while True:
                page, after = await self.kube.settled_merges(namespace, after)
                old += expired(filter(None, map(settled_view, page)), now, keep)
                if self.settings.delete_s3_objects:
                    await self._release_deleted(page)
                if after is None:
                    break
        for merge in old:
            await self.kube.delete_merge(merge.namespace, merge.name, merge.uid)
            self.metrics.deleted_by_retention.inc()
            log.info("deleted by retention", extra={"merge": f"{merge.namespace}/{merge.name}"})
        return len(old)

    async def _release_deleted(self, settled: list[dict[str, Any]]) -> None:
        """What kopf's deletion handler does for watched merges, for settled ones being deleted: their
        stored files go, then the finalizer that held them."""
        for body in settled:
            meta = body["metadata"]
            if not meta.get("deletionTimestamp") or FINALIZER not in (meta.get("finalizers") or ()):
                continue
            try:
                await asyncio.to_thread(
                    delete_merged_object,
                    self.settings,
                    meta["namespace"],
                    meta["name"],
                    body.get("status") or {},
                )
            except Exception as error:  # the next sweep tries again
                log.warning(
                    "could not delete the merged object of %s/%s: %s", meta["namespace"], meta["name"], error
                )
                continue
            await self.kube.drop_finalizer(body, FINALIZER)

    def event_body(self, merge: MergeView, change: StatusChange) -> list[dict[str, Any]]:
        return [event_body(merge, e, self.clock(), self.settings.identity) for e in change.events]


def phase_counts(merges: list[MergeView]) -> dict[Phase | None, int]:
    counts: dict[Phase | None, int] = {}
    for merge in merges:
        counts[merge.phase] = counts.get(merge.phase, 0) + 1
    return counts
