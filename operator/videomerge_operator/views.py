"""Small immutable summaries of VideoMerges, Jobs and pods: what the operator keeps in memory and decides on.

Each ``*_view`` function takes a raw object (a dict or kopf's body) and keeps only the fields that matter,
so thousands of objects cost little memory and the decisions stay pure functions of plain data.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from videomerge_contract.cancellation import cancel_requested
from videomerge_contract.enums import ErrorReason, Phase
from videomerge_contract.models import VideoMergeStatus
from videomerge_contract.resource import KIND

Key = tuple[str, str]  # (namespace, name)
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_NAME_LABEL = "job-name"


@dataclass(frozen=True, slots=True)
class MergeView:
    namespace: str
    name: str
    uid: str
    resource_version: str
    generation: int
    created: datetime
    deleting: bool
    clips: int
    status: VideoMergeStatus
    # Finished and acknowledged: the operator will not write it again. Its status is then only its phase
    # (one object shared by all settled merges of that phase), and ``ended`` says when it finished.
    settled: bool = False
    ended: datetime | None = None
    cancel_requested: bool = False  # spec.cancel: stop it (see videomerge_contract.cancellation)

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    @property
    def phase(self) -> Phase | None:
        return self.status.phase

    @property
    def cancelled(self) -> bool:
        """Ended because it was cancelled (Failed, reason Cancelled)."""
        error = self.status.error
        return self.phase == Phase.FAILED and error is not None and error.reason == ErrorReason.CANCELLED


@dataclass(frozen=True)
class JobCondition:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class JobView:
    namespace: str
    name: str
    uid: str
    owner_kind: str | None
    owner_name: str | None
    owner_uid: str | None
    created: datetime | None
    active: int
    succeeded: int
    failed: int
    conditions: tuple[JobCondition, ...]

    def condition(self, type_: str) -> JobCondition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    @property
    def finished(self) -> bool:
        return any(c.type in ("Complete", "Failed") for c in self.conditions)


@dataclass(frozen=True)
class ContainerState:
    waiting_reason: str | None = None
    waiting_message: str | None = None
    terminated_reason: str | None = None
    exit_code: int | None = None
    termination_message: str | None = None
    running: bool = False


@dataclass(frozen=True)
class PodView:
    namespace: str
    name: str
    job_name: str | None
    job_uid: str | None
    created: datetime | None
    phase: str | None
    disrupted: bool
    worker: ContainerState


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _identity(body: Mapping[str, Any]) -> dict[str, Any]:
    """What every view of a VideoMerge keeps of its metadata and spec."""
    meta = body.get("metadata") or {}
    created = parse_time(meta.get("creationTimestamp"))
    if created is None:
        raise ValueError("a stored object always has a creationTimestamp")
    return {
        "namespace": meta.get("namespace", ""),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "resource_version": meta.get("resourceVersion", ""),
        "generation": int(meta.get("generation") or 1),
        "created": created,
        "deleting": bool(meta.get("deletionTimestamp")),
        "clips": len((body.get("spec") or {}).get("videoUrls") or []),
    }


def merge_view(body: Mapping[str, Any]) -> MergeView:
    return MergeView(
        **_identity(body),
        status=VideoMergeStatus.from_crd(dict(body.get("status") or {})),
        cancel_requested=cancel_requested(body.get("spec") or {}),
    )


@cache
def settled_status(phase: Phase) -> VideoMergeStatus:
    """The one status object every settled merge of ``phase`` shares (see ``MergeView.settled``)."""
    return VideoMergeStatus(phase=phase)


def settled_view(body: Mapping[str, Any]) -> MergeView | None:
    """A settled merge as the retention sweep lists it: what retention reads and no more (its status is
    not parsed whole). None when it is not finished after all."""
    status = body.get("status") or {}
    try:
        phase = Phase(status.get("phase"))
    except ValueError:
        return None
    if phase not in (Phase.COMPLETED, Phase.FAILED):
        return None
    return MergeView(
        **_identity(body),
        status=settled_status(phase),
        settled=True,
        ended=parse_time(status.get("completionTime")),
    )


def _controller_owner(meta: Mapping[str, Any]) -> Mapping[str, Any]:
    owners = meta.get("ownerReferences") or []
    return next((o for o in owners if o.get("controller")), owners[0] if owners else {})


def job_view(body: Mapping[str, Any]) -> JobView:
    meta = body.get("metadata") or {}
    status = body.get("status") or {}
    owner = _controller_owner(meta)
    return JobView(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        uid=meta.get("uid", ""),
        owner_kind=owner.get("kind"),
        owner_name=owner.get("name"),
        owner_uid=owner.get("uid"),
        created=parse_time(meta.get("creationTimestamp")),
        active=int(status.get("active") or 0),
        succeeded=int(status.get("succeeded") or 0),
        failed=int(status.get("failed") or 0),
        conditions=tuple(
            JobCondition(type=c.get("type", ""), reason=c.get("reason", ""), message=c.get("message", ""))
            for c in status.get("conditions") or []
            if c.get("status") == "True"
        ),
    )


def owned_by_merge(job: JobView, merge: MergeView) -> bool:
    return job.owner_kind == KIND and job.owner_uid == merge.uid


def _container_state(statuses: list[Mapping[str, Any]], container: str) -> ContainerState:
    found = next((s for s in statuses if s.get("name") == container), None)
    if found is None:
        return ContainerState()
    state = found.get("state") or {}
    # A container that was restarted in place keeps the reason of its last end in lastState.
    terminated = state.get("terminated") or (found.get("lastState") or {}).get("terminated") or {}
    waiting = state.get("waiting") or {}
    return ContainerState(
        waiting_reason=waiting.get("reason"),
        waiting_message=waiting.get("message"),
        terminated_reason=terminated.get("reason"),
        exit_code=terminated.get("exitCode"),
        termination_message=terminated.get("message"),
        running="running" in state,
    )


def pod_view(body: Mapping[str, Any], container: str) -> PodView:
    meta = body.get("metadata") or {}
    labels = meta.get("labels") or {}
    status = body.get("status") or {}
    owner = _controller_owner(meta)
    disrupted = any(
        c.get("type") == "DisruptionTarget" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return PodView(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        job_name=labels.get(JOB_NAME_LABEL) or labels.get(LEGACY_JOB_NAME_LABEL) or owner.get("name"),
        job_uid=owner.get("uid"),
        created=parse_time(meta.get("creationTimestamp")),
        phase=status.get("phase"),
        disrupted=disrupted,
        worker=_container_state(status.get("containerStatuses") or [], container),
    )
