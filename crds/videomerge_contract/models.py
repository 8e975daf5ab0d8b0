"""Spec and status of the VideoMerge custom resource, exactly as they appear in the CRD (camelCase)."""

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from videomerge_contract.enums import (
    AspectRatio,
    ErrorReason,
    Fit,
    NotificationState,
    Phase,
    Quality,
    Stage,
    Strategy,
)
from videomerge_contract.limits import Limits


class CrdModel(BaseModel):
    """camelCase on the wire (the CRD), snake_case in Python."""

    # defer_build: each model is built on first use, so a component pays only for the models it uses (the
    # worker's start was 50 ms of building all of them).
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True
    )

    def to_crd(self) -> dict[str, Any]:
        """The JSON-ready dict to put in the resource, without unset optional fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_crd(cls, data: dict[str, Any] | None) -> Self:
        return cls.model_validate(data or {})


def _http_url(url: str) -> str:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    return url


VideoUrl = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        min_length=Limits.MIN_URL_LENGTH,
        max_length=Limits.MAX_URL_LENGTH,
        pattern=Limits.URL_PATTERN,
    ),
    AfterValidator(_http_url),
]


class VideoMergeSpec(CrdModel):
    """What to merge. Immutable once created (the CRD enforces it), except ``cancel``, which may only be set."""

    video_urls: list[VideoUrl] = Field(min_length=Limits.MIN_CLIPS, max_length=Limits.MAX_CLIPS)
    quality: Quality = Quality.HIGH
    aspect_ratio: AspectRatio = AspectRatio.R16_9
    fit: Fit = Fit.PAD
    # Same rules as a clip URL; the notifier POSTs the result here once the merge is finished.
    callback_url: VideoUrl | None = None
    # Asks the operator to stop the merge (Tekton's spec.status: Cancelled, Argo's spec.shutdown): its Job
    # is deleted and it ends Failed with reason Cancelled; a queued merge never gets a Job. Once true it
    # stays true; on a finished merge it changes nothing. None (absent), never false, when not asked:
    # the spec's digests (idempotency, the stored object) stay those of merges made before the field.
    cancel: bool | None = None


class MergeResultStatus(CrdModel):
    """``status.result``: where the merged file is and what it is."""

    merged_url: str
    duration_seconds: float = Field(ge=0)
    processing_time: float = Field(ge=0)
    clips_merged: int = Field(ge=1)
    size_bytes: int | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=1)
    height: int | None = Field(default=None, ge=1)
    strategy: Strategy | None = None
    bucket: str | None = None
    object_key: str | None = None
    # Pictures of the merge stored beside it (see ``objects.picture_keys``); absent when they could not
    # be made, which never fails a merge.
    poster_url: str | None = None
    storyboard_url: str | None = None


class MergeError(CrdModel):
    """``status.error``: a short code and a message a person understands (naming the clip at fault)."""

    reason: ErrorReason
    message: str = Field(max_length=Limits.MAX_MESSAGE_LENGTH)
    clip_index: int | None = Field(default=None, ge=0)
    clip_url: str | None = None


class Condition(CrdModel):
    """A Kubernetes API convention condition."""

    type: str
    status: str = Field(pattern="^(True|False|Unknown)$")
    reason: str
    message: str = ""
    last_transition_time: datetime
    observed_generation: int | None = None


class NotificationStatus(CrdModel):
    """``status.notification``: delivery of the completion webhook, written by the notifier only."""

    state: NotificationState
    event: str | None = None
    webhook_id: str | None = None
    attempts: int = Field(default=0, ge=0)
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_status_code: int | None = Field(default=None, ge=100, le=599)
    last_error: str | None = Field(default=None, max_length=Limits.MAX_MESSAGE_LENGTH)


class VideoMergeStatus(CrdModel):
    """``status``: written by the operator and the worker through the status subresource only."""

    phase: Phase | None = None
    message: str | None = None
    stage: Stage | None = None
    progress: int | None = Field(default=None, ge=0, le=100)
    clips: int | None = Field(default=None, ge=0)
    job_name: str | None = None
    attempts: int | None = Field(default=None, ge=0)
    queue_position: int | None = Field(default=None, ge=1)
    start_time: datetime | None = None
    completion_time: datetime | None = None
    result: MergeResultStatus | None = None
    # The merged video's length for people (`kubectl get`): "7.0s", "1m05s", "1h02m03s".
    duration: str | None = Field(default=None, max_length=32)
    error: MergeError | None = None
    conditions: list[Condition] = Field(default_factory=list)
    observed_generation: int | None = None
    notification: NotificationStatus | None = None

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def set_condition(
    conditions: list[Condition],
    type_: str,
    status: bool | None,
    reason: str,
    message: str,
    generation: int | None,
    now: datetime,
) -> list[Condition]:
    """Returns ``conditions`` with ``type_`` set; lastTransitionTime moves only when the status changes."""
    status_word = "Unknown" if status is None else str(status)
    previous = next((c for c in conditions if c.type == type_), None)
    changed_at = previous.last_transition_time if previous and previous.status == status_word else now
    updated = Condition(
        type=type_,
        status=status_word,
        reason=reason,
        message=message[: Limits.MAX_MESSAGE_LENGTH],
        last_transition_time=changed_at,
        observed_generation=generation,
    )
    return [c for c in conditions if c.type != type_] + [updated]


def format_duration(seconds: float) -> str:
    """A length for people, always with units: 7.0s under a minute, 1m05s, 1h02m03s."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
