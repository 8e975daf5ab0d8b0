"""Status changes the operator makes, with the Events that tell a person about them. Pure functions.

Each function takes the merge as last read and returns only the status fields that must change (a JSON
merge patch for the status subresource; ``None`` deletes a field) plus the Events to post. An empty change
means there is nothing to write. A terminal phase is never changed here ("terminal wins").
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from videomerge_contract.cancellation import CANCELLED_MESSAGE
from videomerge_contract.enums import ErrorReason, Phase, Stage
from videomerge_contract.models import (
    Condition,
    MergeError,
    VideoMergeStatus,
    format_duration,
    set_condition,
)
from videomerge_contract.phases import can_transition, is_terminal
from videomerge_contract.resource import (
    CONDITION_COMPLETE,
    CONDITION_FAILED,
    CONDITION_JOB_CREATED,
    CONDITION_WORKER_STARTED,
)
from videomerge_operator.retention import finished_at
from videomerge_operator.views import MergeView, settled_status

NORMAL: Final = "Normal"
EXACT_QUEUE_POSITIONS: Final = 10
WARNING: Final = "Warning"


@dataclass(frozen=True)
class EventSpec:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class StatusChange:
    patch: dict[str, Any] = field(default_factory=dict)
    events: tuple[EventSpec, ...] = ()
    finished: tuple[str, str] | None = None  # (phase, reason) when this change announces the merge's end

    def __bool__(self) -> bool:
        return bool(self.patch or self.events)


def _conditions_patch(
    merge: MergeView, type_: str, status: bool, reason: str, message: str, now: datetime
) -> dict[str, Any]:
    current = merge.status.conditions
    stamp = now.replace(microsecond=0)
    updated = set_condition(current, type_, status, reason, message, merge.generation, stamp)
    if _comparable(updated) == _comparable(current):
        return {}
    return {"conditions": [c.to_crd() for c in updated]}


def _comparable(conditions: list[Condition]) -> set[tuple[Any, ...]]:
    return {(c.type, c.status, c.reason, c.message, c.observed_generation) for c in conditions}


def _finish(
    merge: MergeView,
    patch: dict[str, Any],
    events: tuple[EventSpec, ...],
    finished: tuple[str, str] | None = None,
) -> StatusChange:
    if not patch:
        return StatusChange(events=events)
    return StatusChange({**patch, "observedGeneration": merge.generation}, events, finished)


def queued(merge: MergeView, position: int, limit: int, now: datetime) -> StatusChange:
    """Waiting for a slot at ``position`` (1 = next to start). The written position is exact at the head
    of the queue and an upper bound behind it (see ``position_news``)."""
    if is_terminal(merge.phase) or merge.status.job_name or not can_transition(merge.phase, Phase.QUEUED):
        return StatusChange()
    s = merge.status
    patch: dict[str, Any] = {}
    if s.phase != Phase.QUEUED:
        patch.update(phase=Phase.QUEUED.value, stage=Stage.QUEUED.value, progress=0)
    if position_news(s.queue_position, position):
        patch["queuePosition"] = position
    if s.clips != merge.clips:
        patch["clips"] = merge.clips
    message = f"Waiting for a free worker slot (limit {limit})"
    patch |= _conditions_patch(merge, CONDITION_JOB_CREATED, False, "Queued", message, now)
    events = (
        () if s.phase == Phase.QUEUED else (EventSpec(NORMAL, "Queued", f"{message}; position {position}"),)
    )
    return _finish(merge, patch, events)


def position_news(written: int | None, position: int) -> bool:
    """Whether a queued merge's position is worth a status write. Every start moves every waiting merge up
    one place: writing each move costs N^2 writes for a burst of N (a 1,000-merge burst crawled at one
    start a second under them). Within the first ``EXACT_QUEUE_POSITIONS`` the position is exact; behind
    them it is rewritten once it has halved, so each merge is written O(log N) times."""
    if written == position:
        return False
    return (
        written is None or position <= EXACT_QUEUE_POSITIONS or position > written or position <= written // 2
    )


def job_created(merge: MergeView, job_name: str, now: datetime) -> StatusChange:
    """The Job exists: record it, and move a merge that has not started to Pending."""
    if is_terminal(merge.phase):
        return StatusChange()
    s = merge.status
    patch: dict[str, Any] = {}
    if s.phase in (None, Phase.QUEUED):
        patch.update(phase=Phase.PENDING.value, stage=Stage.STARTING.value, progress=0)
    if s.job_name != job_name:
        patch["jobName"] = job_name
    if s.queue_position is not None:
        patch["queuePosition"] = None
    if s.clips != merge.clips:
        patch["clips"] = merge.clips
    if s.attempts is None:
        patch["attempts"] = 0
    message = f"Created Job {job_name}"
    patch |= _conditions_patch(merge, CONDITION_JOB_CREATED, True, "JobCreated", message, now)
    events = () if s.job_name == job_name else (EventSpec(NORMAL, "JobCreated", message),)
    return _finish(merge, patch, events)


def blocked(merge: MergeView, reason: str, message: str, now: datetime) -> StatusChange:
    """The operator cannot create the merge's Job (its namespace could not be prepared, quota, Forbidden):
    a Pending merge with a False JobCreated condition and a Warning Event saying why. It keeps trying."""
    if is_terminal(merge.phase) or merge.status.job_name:
        return StatusChange()
    s = merge.status
    patch: dict[str, Any] = {}
    if s.phase is None:
        patch.update(phase=Phase.PENDING.value, progress=0)
    if s.clips != merge.clips:
        patch["clips"] = merge.clips
    conditions = _conditions_patch(merge, CONDITION_JOB_CREATED, False, reason, message, now)
    if conditions:
        patch |= conditions
        patch["message"] = message
    events = (EventSpec(WARNING, reason, message),) if conditions else ()
    return _finish(merge, patch, events)


def worker_blocked(merge: MergeView, reason: str, message: str, now: datetime) -> StatusChange:
    """The Job exists but its worker pod cannot be created or started yet (quota, a missing Secret or
    ServiceAccount, an image pull): a False WorkerStarted condition and a Warning Event, once per cause."""
    if is_terminal(merge.phase) or merge.phase == Phase.PROCESSING:
        return StatusChange()
    patch = _conditions_patch(merge, CONDITION_WORKER_STARTED, False, reason, message, now)
    events = (EventSpec(WARNING, reason, message),) if patch else ()
    return _finish(merge, patch, events)


def worker_started(merge: MergeView, now: datetime) -> StatusChange:
    """The worker reported it runs (phase Processing, or a terminal phase with a startTime): the
    WorkerStarted condition and the "Processing" Event, once."""
    s = merge.status
    if s.phase != Phase.PROCESSING and not (is_terminal(s.phase) and s.start_time is not None):
        return StatusChange()
    message = f"The worker started{f' ({s.clips} clips)' if s.clips else ''}"
    patch = _conditions_patch(merge, CONDITION_WORKER_STARTED, True, "WorkerStarted", message, now)
    if not patch:
        return StatusChange()
    return _finish(merge, patch, (EventSpec(NORMAL, "Processing", message),))


def attempts_seen(merge: MergeView, attempts: int, max_attempts: int, last_failure: str = "") -> StatusChange:
    """Counts the worker pods the Job has run; attempts only go up. A new attempt after a failure is told."""
    previous = merge.status.attempts or 0
    if is_terminal(merge.phase) or attempts <= previous:
        return StatusChange()
    events: tuple[EventSpec, ...] = ()
    if attempts > 1:
        events = (
            EventSpec(
                WARNING,
                "Retrying",
                f"Attempt {attempts - 1} failed; starting attempt {attempts} of {max_attempts}"
                + (f". {last_failure}" if last_failure else ""),
            ),
        )
    return _finish(merge, {"attempts": attempts}, events)


def failed(
    merge: MergeView, reason: ErrorReason, message: str, now: datetime, attempts: int | None = None
) -> StatusChange:
    """The operator found the merge failed (the worker could not say so itself)."""
    if is_terminal(merge.phase):
        return StatusChange()
    error = MergeError(reason=reason, message=message[:4096])
    patch = _failed_patch(merge, error, now)
    if attempts is not None and attempts > (merge.status.attempts or 0):
        patch["attempts"] = attempts
    event = EventSpec(WARNING, "Failed", f"{reason.value}: {error.message}")
    return _finish(merge, patch, (event,), (Phase.FAILED.value, reason.value))


def cancelled(merge: MergeView, now: datetime) -> StatusChange:
    """``spec.cancel`` is set on an unfinished merge: it ends Failed with reason Cancelled. The caller
    deletes its Job once this is written, so the worker, stopped by SIGTERM, finds a terminal phase and
    writes nothing (its writes are conditional on the resourceVersion, see ``videomerge_worker.cluster``)."""
    if is_terminal(merge.phase) or not merge.cancel_requested:
        return StatusChange()
    error = MergeError(reason=ErrorReason.CANCELLED, message=CANCELLED_MESSAGE)
    patch = _failed_patch(merge, error, now)
    job = merge.status.job_name
    told = f"Cancelled by request; {f'its Job {job} is deleted' if job else 'it had no Job yet'}"
    event = EventSpec(NORMAL, ErrorReason.CANCELLED.value, told)
    return _finish(merge, patch, (event,), (Phase.FAILED.value, error.reason.value))


def _failed_patch(merge: MergeView, error: MergeError, now: datetime) -> dict[str, Any]:
    """What the operator writes when it ends a merge Failed itself: phase, error, end, the condition."""
    patch: dict[str, Any] = {
        "phase": Phase.FAILED.value,
        "message": error.message,
        "error": error.to_crd(),
        "completionTime": _stamp(now),
        "queuePosition": None,
    }
    return patch | _conditions_patch(merge, CONDITION_FAILED, True, error.reason.value, error.message, now)


def acknowledge_terminal(merge: MergeView, now: datetime, attempts: int | None = None) -> StatusChange:
    """The worker wrote Completed or Failed: add the matching condition and completion time, once."""
    s = merge.status
    if not is_terminal(s.phase):
        return StatusChange()
    started = worker_started(merge, now)
    if started.patch:  # the merge finished before the operator saw it Processing: tell both, in order
        merge = with_status_patch(merge, {"conditions": started.patch["conditions"]})
    patch: dict[str, Any] = {}
    if s.phase == Phase.COMPLETED:
        message = _completion_message(merge)
        patch |= _conditions_patch(merge, CONDITION_COMPLETE, True, "MergeCompleted", message, now)
        event = EventSpec(NORMAL, "Completed", message)
        ending = (Phase.COMPLETED.value, "")
    else:
        reason = s.error.reason.value if s.error else ErrorReason.JOB_FAILED.value
        message = (s.error.message if s.error else s.message) or "The merge failed"
        patch |= _conditions_patch(merge, CONDITION_FAILED, True, reason, message, now)
        event = EventSpec(WARNING, "Failed", f"{reason}: {message}")
        ending = (Phase.FAILED.value, reason)
    announced = bool(patch)
    if started.patch and not announced:
        patch["conditions"] = started.patch["conditions"]
    events = started.events + ((event,) if announced else ())
    if s.completion_time is None:
        patch["completionTime"] = _stamp(now)
    if s.queue_position is not None:
        patch["queuePosition"] = None
    if attempts is not None and attempts > (s.attempts or 0):
        patch["attempts"] = attempts
    if s.phase == Phase.COMPLETED and s.result is not None:
        duration = format_duration(s.result.duration_seconds)
        if s.duration != duration:
            patch["duration"] = duration
    return _finish(merge, patch, events, ending if announced else None)


def compact_if_settled(merge: MergeView, now: datetime) -> MergeView:
    """A finished merge whose end is acknowledged is never written again: the operator keeps only what
    retention reads of it, its phase and when it ended. Its status is one object shared by every settled
    merge of that phase: at 10,000 held merges their own slim statuses still took 29 MB (2.9 KB each)."""
    s = merge.status
    if not is_terminal(s.phase) or s.queue_position is not None or acknowledge_terminal(merge, now):
        return merge
    if merge.cancelled:  # kept in full: a resync deletes its Job should the operator have stopped in between
        return merge
    return replace(merge, status=settled_status(s.phase), ended=finished_at(merge), settled=True)


def chain(merge: MergeView, *steps: Callable[[MergeView], StatusChange]) -> StatusChange:
    """Several decisions as one patch: each step sees the merge as the previous steps left it."""
    patch: dict[str, Any] = {}
    events: tuple[EventSpec, ...] = ()
    finished = None
    for step in steps:
        change = step(merge)
        if change.patch:
            patch |= change.patch
            merge = with_status_patch(merge, change.patch)
        events += change.events
        finished = change.finished or finished
    return StatusChange(patch, events, finished)


def with_status_patch(merge: MergeView, patch: dict[str, Any]) -> MergeView:
    """The merge as a JSON merge patch of its status would leave it (``None`` deletes a field)."""
    status = merge.status.to_crd() | patch
    status = {k: v for k, v in status.items() if v is not None}
    return replace(merge, status=VideoMergeStatus.from_crd(status))


def _completion_message(merge: MergeView) -> str:
    result = merge.status.result
    if result is None:
        return "The merge completed"
    return (
        f"Merged {result.clips_merged} clips into {result.duration_seconds:.1f}s of video "
        f"in {result.processing_time:.1f}s"
    )


def _stamp(now: datetime) -> str:
    return now.replace(microsecond=0).isoformat().replace("+00:00", "Z")
