"""VideoMerge objects as REST bodies, through the contract's mapping.

The CRD schema already validates status; should a status still not fit the contract's models (a newer
operator, a hand edit), the merge reads as its bare phase instead of failing the request."""

import logging

from pydantic import ValidationError

from videomerge_api import resources
from videomerge_api.listing import status_of
from videomerge_api.models import JobStatus
from videomerge_api.store import VideoMergeObject
from videomerge_contract import (
    MergeFailure,
    MergeResult,
    MergeStatusResponse,
    RestStatus,
    result_from_status,
    status_response,
)

log = logging.getLogger(__name__)
# Rendered status bodies by (uid, resourceVersion): an object's status never changes without a new
# resourceVersion, so a poll of an unchanged merge is a dict lookup instead of validating and encoding.
_RENDERED_STATUS: dict[tuple[str, str], bytes] = {}
_RENDERED_MAX = 10_000


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
    )
