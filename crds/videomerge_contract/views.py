"""VideoMerge objects as the REST bodies clients read: the status body (also each row of the list) and
the result. The API answers with them and the CLI's ``--kube`` path prints them, so both ways in say the
same thing about a merge.

The CRD schema already validates status; should a status still not fit the models (a newer operator, a
hand edit), the merge reads as its bare phase and has no result, instead of failing the caller."""

import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from videomerge_contract.enums import Phase, RestStatus, Stage
from videomerge_contract.models import NotificationStatus, VideoMergeStatus
from videomerge_contract.phases import rest_status
from videomerge_contract.rest import MergeFailure, MergeResult, result_from_status

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())  # a library: the API's handlers show it, the CLI's stderr does not

VideoMergeObject = dict[str, Any]
DEFAULT_MESSAGES = {
    RestStatus.PENDING: "Merge is waiting to start",
    RestStatus.PROCESSING: "Merge in progress",
    RestStatus.COMPLETED: "Merge completed",
    RestStatus.FAILED: "Merge failed",
}


class ProgressFields(BaseModel):
    """What both seeds' status answers say about a merge's progress."""

    status: RestStatus
    message: str
    progress: int = Field(ge=0, le=100)
    stage: Stage | None = None


class WebhookDelivery(BaseModel):
    """``notification`` of the REST status: how the completion webhook's delivery went."""

    state: str = Field(description="delivering (retrying), delivered or failed (given up).")
    attempts: int
    last_error: str | None = None
    last_status_code: int | None = None
    next_attempt_at: str | None = None
    delivered_at: str | None = None


class MergeStatusResponse(ProgressFields):
    """``GET /api/v1/merge/{task_id}/status`` (seed 002), and each item of the list."""

    task_id: str
    phase: Phase | None = None
    queue_position: int | None = None
    attempts: int | None = None
    created_at: str | None = None
    completed_at: str | None = None
    notification: WebhookDelivery | None = Field(
        default=None, description="Delivery of the completion webhook; only when callback_url was given."
    )


def utc_text(moment: datetime | None) -> str | None:
    """RFC 3339 with ``Z``, as Kubernetes writes ``creationTimestamp`` (so both times read alike)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def name_of(obj: VideoMergeObject) -> str:
    return str(obj["metadata"]["name"])


def created_at(obj: VideoMergeObject) -> str | None:
    value = obj.get("metadata", {}).get("creationTimestamp")
    return str(value) if value else None


def is_deleting(obj: VideoMergeObject) -> bool:
    """Cancelled but still held by a finalizer: to clients it is gone (neither listed nor read)."""
    return bool(obj.get("metadata", {}).get("deletionTimestamp"))


def list_key(obj: VideoMergeObject) -> tuple[str, str]:
    """Where a merge stands in a list (newest first is this key, reversed): creation time, then name."""
    return created_at(obj) or "", name_of(obj)


def status_word(obj: VideoMergeObject) -> RestStatus:
    """The REST word of the object's phase, from the phase alone (what lists filter on)."""
    phase = (obj.get("status") or {}).get("phase")
    try:
        return rest_status(phase)
    except ValueError:  # a phase this version does not know yet
        return RestStatus.PROCESSING


def status_response(
    name: str, raw_status: dict[str, Any] | None, created: str | None = None
) -> MergeStatusResponse:
    """REST status of a VideoMerge from its ``status`` (as stored in the resource)."""
    status = VideoMergeStatus.from_crd(raw_status)
    word = rest_status(status.phase)
    progress = 100 if word == RestStatus.COMPLETED else (status.progress or 0)
    message = status.message or (status.error.message if status.error else DEFAULT_MESSAGES[word])
    return MergeStatusResponse(
        task_id=name,
        status=word,
        message=message,
        progress=progress,
        stage=status.stage,
        phase=status.phase or Phase.PENDING,
        queue_position=status.queue_position if status.phase == Phase.QUEUED else None,
        attempts=status.attempts,
        created_at=created,
        completed_at=utc_text(status.completion_time),
        notification=_delivery(status.notification) if status.notification else None,
    )


def _delivery(notification: NotificationStatus) -> WebhookDelivery:
    return WebhookDelivery(
        state=notification.state.value.lower(),
        attempts=notification.attempts,
        last_error=notification.last_error,
        last_status_code=notification.last_status_code,
        next_attempt_at=utc_text(notification.next_attempt_at),
        delivered_at=utc_text(notification.delivered_at),
    )


def status_view(obj: VideoMergeObject) -> MergeStatusResponse:
    """The status body of a VideoMerge object: ``/status`` and each row of the list."""
    name = name_of(obj)
    try:
        return status_response(name, obj.get("status"), created_at(obj))
    except (ValidationError, ValueError):
        log.warning("status of %s does not fit the contract; answering its phase only", name)
        word = status_word(obj)
        return MergeStatusResponse(
            task_id=name,
            status=word,
            message="status details unavailable",
            progress=100 if word == RestStatus.COMPLETED else 0,
            created_at=created_at(obj),
        )


def result_view(obj: VideoMergeObject) -> MergeResult | MergeFailure | None:
    """The ``/result`` body of a finished VideoMerge object; None while it runs (or if its status is unreadable)."""
    try:
        return result_from_status(obj.get("status"))
    except (ValidationError, ValueError):
        log.warning("status of %s does not fit the contract; no result to show", name_of(obj))
        return None
