"""VideoMerge objects as the API's REST bodies. The status and result bodies are the contract's
(``videomerge_contract.views``, which the CLI's ``--kube`` path prints too); here are the API's own: the
pre-rendered status JSON of the polling hot path and seed 000's job status."""

from videomerge_api.models import JobStatus
from videomerge_api.store import VideoMergeObject
from videomerge_contract import MergeFailure, MergeResult
from videomerge_contract.views import result_view, status_view

__all__ = ["job_view", "result_view", "status_json", "status_view"]

# Rendered status bodies by (uid, resourceVersion): an object's status never changes without a new
# resourceVersion, so a poll of an unchanged merge is a dict lookup instead of validating and encoding.
_RENDERED_STATUS: dict[tuple[str, str], bytes] = {}
_RENDERED_MAX = 10_000


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
