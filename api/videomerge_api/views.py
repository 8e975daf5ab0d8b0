"""VideoMerge objects as REST bodies, through the contract's mapping.

The CRD schema already validates status; should a status still not fit the contract's models (a newer
operator, a hand edit), the merge reads as its bare phase instead of failing the request."""

import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from videomerge_api import resources
from videomerge_api.listing import status_of
from videomerge_api.models import JobStatus, MergeStatusResponse, WebhookDelivery
from videomerge_api.store import VideoMergeObject
from videomerge_contract import (
    MergeFailure,
    MergeResult,
    Phase,
    RestStatus,
    VideoMergeStatus,
    rest_status,
    result_from_status,
)
from videomerge_contract.models import NotificationStatus

log = logging.getLogger(__name__)
_DEFAULT_MESSAGES = {
    RestStatus.PENDING: "Merge is waiting to start",
    RestStatus.PROCESSING: "Merge in progress",
    RestStatus.COMPLETED: "Merge completed",
    RestStatus.FAILED: "Merge failed",
}
# Rendered status bodies by (uid, resourceVersion): an object's status never changes without a new
# resourceVersion, so a poll of an unchanged merge is a dict lookup instead of validating and encoding.
_RENDERED_STATUS: dict[tuple[str, str], bytes] = {}
_RENDERED_MAX = 10_000


def _utc_text(moment: datetime | None) -> str | None:
    """RFC 3339 with ``Z``, as Kubernetes writes ``creationTimestamp`` (so both times read alike)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def status_response(
    name: str, raw_status: dict[str, Any] | None, created_at: str | None = None
) -> MergeStatusResponse:
    """REST status of a VideoMerge from its ``status`` (as stored in the resource)."""
    status = VideoMergeStatus.from_crd(raw_status)
    word = rest_status(status.phase)
    progress = 100 if word == RestStatus.COMPLETED else (status.progress or 0)
    message = status.message or (status.error.message if status.error else _DEFAULT_MESSAGES[word])
    return MergeStatusResponse(
        task_id=name,
        status=word,
        message=message,
        progress=progress,
        stage=status.stage,
        phase=status.phase or Phase.PENDING,
        queue_position=status.queue_position if status.phase == Phase.QUEUED else None,
        attempts=status.attempts,
        created_at=created_at,
        completed_at=_utc_text(status.completion_time),
        notification=_delivery(status.notification) if status.notification else None,
    )


def _delivery(notification: NotificationStatus) -> WebhookDelivery:
    return WebhookDelivery(
        state=notification.state.value.lower(),
        attempts=notification.attempts,
        last_error=notification.last_error,
        last_status_code=notification.last_status_code,
        next_attempt_at=_utc_text(notification.next_attempt_at),
        delivered_at=_utc_text(notification.delivered_at),
    )


def status_view(obj: VideoMergeObject) -> MergeStatusResponse:
    name = resources.name_of(obj)
    try:
        return status_response(name, obj.get("status"), resources.created_at(obj))
    except (ValidationError, ValueError):
        log.warning("status of %s does not fit the contract; answering its phase only", name)
        word = status_of(obj)
        return MergeStatusResponse(
            task_id=name,
            status=word,
            message="status details unavailable",
            progress=100 if word == RestStatus.COMPLETED else 0,
            created_at=resources.created_at(obj),
        )


def status_json(obj: VideoMergeObject) -> bytes:
    meta = obj.get("metadata", {})
    key = (str(meta.get("uid", "")), str(meta.get("resourceVersion", "")))
    if not all(key):
        return status_view(obj).model_dump_json().encode()
    rendered = _RENDERED_STATUS.get(key)
    if rendered is None:
        rendered = status_view(obj).model_dump_json().encode()
        if len(_RENDERED_STATUS) >= _RENDERED_MAX:
            _RENDERED_STATUS.clear()
        _RENDERED_STATUS[key] = rendered
    return rendered


def result_view(obj: VideoMergeObject) -> MergeResult | MergeFailure | None:
    try:
        return result_from_status(obj.get("status"))
    except (ValidationError, ValueError):
        log.warning("status of %s does not fit the contract; no result to show", resources.name_of(obj))
        return None


def job_view(obj: VideoMergeObject) -> JobStatus:
    status, outcome = status_view(obj), result_view(obj)
    return JobStatus(
        job_id=status.task_id,
        status=status.status,
        message=status.message,
        progress=status.progress,
        stage=status.stage,
        result=outcome if isinstance(outcome, MergeResult) else None,
        error=outcome.error if isinstance(outcome, MergeFailure) else None,
        reason=outcome.reason if isinstance(outcome, MergeFailure) else None,
        notification=status.notification,
    )
