"""What happened to a merge's Job, from the Job's conditions and its pods: a pure function."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from videomerge_contract.enums import ErrorReason
from videomerge_operator.views import JobView, PodView

# The kubelet will never get these images: no point waiting.
IMAGE_NEVER: Final = frozenset({"ErrImageNeverPull", "InvalidImageName"})
# The registry may come back: wait the grace period first.
IMAGE_PULL: Final = frozenset({"ErrImagePull", "ImagePullBackOff"})
# A missing Secret or ConfigMap may be created shortly: wait the grace period too.
CONTAINER_CONFIG: Final = frozenset({"CreateContainerConfigError", "CreateContainerError"})
MESSAGE_TAIL: Final = 1000


class OutcomeKind(StrEnum):
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"  # the Job itself gave up
    STUCK = "Stuck"  # the Job would wait forever: the operator must fail it


@dataclass(frozen=True)
class JobOutcome:
    kind: OutcomeKind
    attempts: int
    reason: ErrorReason | None = None
    message: str = ""  # why it failed; while Running, why the previous attempt failed (if one did)
    recheck_at: datetime | None = None  # when a waiting pod's grace period ends
    # While Running: the current pod waits for something that may never come (e.g. a missing Secret).
    waiting_reason: str | None = None
    waiting_message: str = ""


@dataclass(frozen=True)
class Graces:
    image_pull: timedelta
    container_config: timedelta


def job_outcome(job: JobView, pods: list[PodView], now: datetime, graces: Graces) -> JobOutcome:
    mine = sorted(
        (p for p in pods if p.job_uid in (None, job.uid)),
        key=lambda p: (p.created or datetime.min.replace(tzinfo=now.tzinfo), p.name),
    )
    attempts = max(job.failed + job.succeeded + job.active, len([p for p in mine if not p.disrupted]))
    if job.condition("Complete") or job.condition("SuccessCriteriaMet"):
        return JobOutcome(OutcomeKind.SUCCEEDED, attempts)
    failed = job.condition("Failed") or job.condition("FailureTarget")
    if failed is not None:
        reason, message = explain_failure(failed.reason, failed.message, mine)
        return JobOutcome(OutcomeKind.FAILED, attempts, reason, message)
    running = _running_or_stuck(mine, attempts, now, graces)
    if running.kind == OutcomeKind.RUNNING and any(p.worker.exit_code not in (None, 0) for p in mine):
        # Between attempts: say why the last one failed (for the "Retrying" Event).
        return JobOutcome(
            running.kind, attempts, message=explain_failure("", "", mine)[1], recheck_at=running.recheck_at
        )
    return running


def explain_failure(job_reason: str, job_message: str, pods: list[PodView]) -> tuple[ErrorReason, str]:
    """The contract's reason and a sentence for a person, from the Job's reason and its last failed pod."""
    if job_reason == "DeadlineExceeded":
        return (
            ErrorReason.DEADLINE_EXCEEDED,
            f"The merge took longer than its deadline: {job_message}".strip(),
        )
    last = next((p for p in reversed(pods) if p.worker.exit_code not in (None, 0)), None)
    if last is not None:
        state = last.worker
        if state.terminated_reason == "OOMKilled":
            return ErrorReason.OUT_OF_MEMORY, (
                f"The worker was killed for exceeding its memory limit (OOMKilled, exit code {state.exit_code}) "
                f"in pod {last.name}."
            )
        reported = parse_termination_message(state.termination_message)
        if reported is not None:
            return reported
        detail = tail(state.termination_message)
        return ErrorReason.WORKER_CRASHED, (
            f"The worker exited with code {state.exit_code} ({state.terminated_reason or 'Error'}) in pod "
            f"{last.name}" + (f": {detail}" if detail else ".")
        )
    summary = ": ".join(part for part in (job_reason, job_message) if part)
    return ErrorReason.JOB_FAILED, f"The Job failed ({summary or 'no reason given'})."


def parse_termination_message(text: str | None) -> tuple[ErrorReason, str] | None:
    """The worker's one-line JSON ``{"reason", "message"}``, when that is what the pod left behind."""
    if not text:
        return None
    for line in reversed(text.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("reason"), str):
            try:
                reason = ErrorReason(data["reason"])
            except ValueError:
                return None
            return reason, str(data.get("message") or reason.value)[:MESSAGE_TAIL]
    return None


def tail(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= MESSAGE_TAIL else "…" + text[-MESSAGE_TAIL:]


def _running_or_stuck(pods: list[PodView], attempts: int, now: datetime, graces: Graces) -> JobOutcome:
    current = next((p for p in reversed(pods) if p.phase == "Pending"), None)
    reason = current.worker.waiting_reason if current else None
    if current is None or reason is None:
        return JobOutcome(OutcomeKind.RUNNING, attempts)
    detail = current.worker.waiting_message or reason
    if reason in IMAGE_NEVER:
        return JobOutcome(
            OutcomeKind.STUCK,
            attempts,
            ErrorReason.IMAGE_UNAVAILABLE,
            f"The worker image cannot be used: {detail}",
        )
    if reason in IMAGE_PULL or reason in CONTAINER_CONFIG:
        grace = graces.image_pull if reason in IMAGE_PULL else graces.container_config
        since = current.created or now
        if now - since < grace:
            return JobOutcome(
                OutcomeKind.RUNNING,
                attempts,
                recheck_at=since + grace,
                waiting_reason=reason,
                waiting_message=f"The worker pod {current.name} is waiting ({reason}): {detail}",
            )
        if reason in IMAGE_PULL:
            return JobOutcome(
                OutcomeKind.STUCK,
                attempts,
                ErrorReason.IMAGE_UNAVAILABLE,
                f"The worker image could not be pulled for {grace.total_seconds():.0f}s: {detail}",
            )
        return JobOutcome(
            OutcomeKind.STUCK,
            attempts,
            ErrorReason.JOB_FAILED,
            f"The worker container could not start for {grace.total_seconds():.0f}s ({reason}): {detail}",
        )
    return JobOutcome(OutcomeKind.RUNNING, attempts)
