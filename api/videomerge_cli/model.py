"""What the CLI knows of a merge, whichever way it reached it (REST or the cluster), and its exit codes.

A VideoMerge object read from the cluster goes through the contract's REST views
(``videomerge_contract.views``) first, so it reads exactly as the API's answer for it."""

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from videomerge_contract.views import VideoMergeObject, name_of, result_view, status_view


class ExitCode(IntEnum):
    COMPLETED = 0  # the merge completed, or the command did what it was asked
    FAILED = 1  # the merge failed or was cancelled
    USAGE = 2  # bad arguments, or a request the service refused (unknown task, bad URL, no token)
    UNREACHABLE = 3  # the API or the cluster could not be reached (or answered 5xx)
    INTERRUPTED = 130  # Ctrl-C, the merge left running


class CliError(Exception):
    """An error to print on one line, without a traceback, and exit with ``code``."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def usage_error(message: str) -> CliError:
    return CliError(message, ExitCode.USAGE)


def unreachable(message: str) -> CliError:
    return CliError(message, ExitCode.UNREACHABLE)


TERMINAL = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class MergeState:
    """One reading of a merge's status, in the REST contract's words."""

    task_id: str
    status: str  # pending | processing | completed | failed
    message: str = ""
    progress: int = 0
    stage: str | None = None
    created_at: str | None = None
    completed_at: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class MergeOutcome:
    """The result of a finished merge: the file and its pictures, or why it failed."""

    task_id: str
    success: bool
    merged_url: str | None = None
    duration_seconds: float | None = None
    processing_time: float | None = None
    clips_merged: int | None = None
    size_bytes: int | None = None
    poster_url: str | None = None
    storyboard_url: str | None = None
    reason: str | None = None
    error: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def state_from_rest(body: dict[str, Any]) -> MergeState:
    return MergeState(
        task_id=str(body.get("task_id") or body.get("job_id") or ""),
        status=str(body.get("status", "pending")),
        message=str(body.get("message") or ""),
        progress=int(body.get("progress") or 0),
        stage=body.get("stage"),
        created_at=body.get("created_at"),
        completed_at=body.get("completed_at"),
        raw=body,
    )


def outcome_from_rest(task_id: str, body: dict[str, Any]) -> MergeOutcome:
    return MergeOutcome(
        task_id=task_id,
        success=bool(body.get("success")),
        merged_url=body.get("merged_url"),
        duration_seconds=body.get("duration_seconds"),
        processing_time=body.get("processing_time"),
        clips_merged=body.get("clips_merged"),
        size_bytes=body.get("size_bytes"),
        poster_url=body.get("poster_url"),
        storyboard_url=body.get("storyboard_url"),
        reason=body.get("reason"),
        error=body.get("error"),
        raw={"task_id": task_id, **body},
    )


def state_from_object(obj: VideoMergeObject) -> MergeState:
    """The object as the API's ``/status`` body (and list row) reads."""
    return state_from_rest(status_view(obj).model_dump(mode="json"))


def outcome_from_object(obj: VideoMergeObject) -> MergeOutcome | None:
    """The object as the API's ``/result`` body reads; None while the merge runs."""
    outcome = result_view(obj)
    return None if outcome is None else outcome_from_rest(name_of(obj), outcome.model_dump(mode="json"))
