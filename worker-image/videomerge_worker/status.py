"""Status patches the worker writes (pure builders), as JSON merge patches of the status subresource.

Which fields the worker may write is declared in the contract (``videomerge_contract.ownership``) and
checked on every patch built here; the operator owns conditions, attempts, jobName, queuePosition and Events.
Every patch carries the resourceVersion the worker last saw, so the API server refuses it (409) when
someone else wrote in between; the worker then re-reads, and a terminal phase found there wins.
"""

import json
from datetime import UTC, datetime
from typing import Any

from videomerge_contract import (
    MergeError,
    MergeResultStatus,
    Phase,
    Stage,
    VideoMergeStatus,
)
from videomerge_contract.limits import Limits
from videomerge_contract.ownership import Writer, check_status_patch


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC, second precision, as Kubernetes writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _patch(status: dict[str, Any], resource_version: str | None) -> dict[str, Any]:
    VideoMergeStatus.from_crd(status)  # a patch that the CRD would reject is a bug here, not at the server
    check_status_patch(Writer.WORKER, status)
    patch: dict[str, Any] = {"status": status}
    if resource_version is not None:
        patch["metadata"] = {"resourceVersion": resource_version}
    return patch


def processing_patch(
    stage: Stage,
    progress: int,
    message: str | None = None,
    *,
    resource_version: str | None = None,
    start_time: datetime | None = None,
    clips: int | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": Phase.PROCESSING.value, "stage": stage.value, "progress": progress}
    if message is not None:
        status["message"] = message[: Limits.MAX_MESSAGE_LENGTH]
    if start_time is not None:
        status["startTime"] = timestamp(start_time)
    if clips is not None:
        status["clips"] = clips
    return _patch(status, resource_version)


def completed_patch(result: MergeResultStatus, now: datetime, resource_version: str) -> dict[str, Any]:
    status = {
        "phase": Phase.COMPLETED.value,
        "stage": Stage.DONE.value,
        "progress": 100,
        "message": f"Merged {result.clips_merged} clips ({result.duration_seconds:g} s)",
        "completionTime": timestamp(now),
        "result": result.to_crd(),
        "error": None,  # a merge patch null: an earlier attempt's error does not outlive success
    }
    return _patch(status, resource_version)


def failed_patch(error: MergeError, now: datetime, resource_version: str) -> dict[str, Any]:
    status = {
        "phase": Phase.FAILED.value,
        "message": error.message,
        "completionTime": timestamp(now),
        "error": error.to_crd(),
    }
    return _patch(status, resource_version)


def retrying_patch(reason: str, message: str, resource_version: str | None) -> dict[str, Any]:
    """A transient failure: the phase stays Processing, the message says what happened; the Job retries
    and the operator writes Failed if it gives up."""
    text = f"Attempt failed ({reason}): {message}; the merge will be retried"
    return _patch(
        {"phase": Phase.PROCESSING.value, "message": text[: Limits.MAX_MESSAGE_LENGTH]}, resource_version
    )


def termination_message(reason: str, message: str) -> str:
    """The one JSON line for the container's termination message (Kubernetes keeps 4096 bytes)."""
    line = json.dumps({"reason": reason, "message": message})
    while len(line.encode()) > 4096:
        message = message[: len(message) * 3 // 4]
        line = json.dumps({"reason": reason, "message": message + "…"})
    return line
