"""The REST contract of the seed documents and its mapping to and from the VideoMerge resource."""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from videomerge_contract.enums import (
    AspectRatio,
    Fit,
    Phase,
    Quality,
    RestStatus,
    Stage,
    Strategy,
    WebhookEvent,
)
from videomerge_contract.limits import Limits
from videomerge_contract.models import NotificationStatus, VideoMergeSpec, VideoMergeStatus, VideoUrl
from videomerge_contract.phases import rest_status

_DEFAULT_MESSAGES = {
    RestStatus.PENDING: "Merge is waiting to start",
    RestStatus.PROCESSING: "Merge in progress",
    RestStatus.COMPLETED: "Merge completed",
    RestStatus.FAILED: "Merge failed",
}


class MergeRequest(BaseModel):
    """Body of ``POST /api/v1/merge`` (seed 002), snake_case."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "video_urls": ["https://example.com/a.mp4", "https://example.com/b.mov"],
                    "quality": "high",
                    "aspect_ratio": "16:9",
                }
            ]
        },
    )

    video_urls: list[VideoUrl] = Field(
        min_length=Limits.MIN_CLIPS,
        max_length=Limits.MAX_CLIPS,
        description="Clips to merge, in order: http(s) URLs.",
    )
    quality: Quality = Field(
        default=Quality.HIGH, description="low ≤480p, medium ≤720p, high ≤1080p, original."
    )
    aspect_ratio: AspectRatio = Field(default=AspectRatio.R16_9, description="Output frame shape.")
    fit: Fit = Field(default=Fit.PAD, description="pad (letterbox/pillarbox) or crop clips that do not fit.")
    callback_url: VideoUrl | None = Field(
        default=None,
        description="http(s) URL that receives one signed POST (Standard Webhooks) with the result "
        "once the merge is completed or failed; retried with backoff until it answers 2xx.",
    )

    def to_spec(self) -> VideoMergeSpec:
        return VideoMergeSpec(
            video_urls=self.video_urls,
            quality=self.quality,
            aspect_ratio=self.aspect_ratio,
            fit=self.fit,
            callback_url=self.callback_url,
        )

    @classmethod
    def from_spec(cls, spec: VideoMergeSpec) -> "MergeRequest":
        return cls(
            video_urls=spec.video_urls,
            quality=spec.quality,
            aspect_ratio=spec.aspect_ratio,
            fit=spec.fit,
            callback_url=spec.callback_url,
        )


class MergeAccepted(BaseModel):
    task_id: str
    message: str = "Merge started"
    status: RestStatus = RestStatus.PENDING
    status_url: str | None = None
    result_url: str | None = None


class WebhookDelivery(BaseModel):
    """``notification`` of the REST status: how the completion webhook's delivery went."""

    state: str = Field(description="delivering (retrying), delivered or failed (given up).")
    attempts: int
    last_error: str | None = None
    last_status_code: int | None = None
    next_attempt_at: str | None = None
    delivered_at: str | None = None

    @classmethod
    def from_status(cls, notification: NotificationStatus) -> "WebhookDelivery":
        return cls(
            state=notification.state.value.lower(),
            attempts=notification.attempts,
            last_error=notification.last_error,
            last_status_code=notification.last_status_code,
            next_attempt_at=_utc_text(notification.next_attempt_at),
            delivered_at=_utc_text(notification.delivered_at),
        )


class MergeStatusResponse(BaseModel):
    task_id: str
    status: RestStatus
    message: str
    progress: int = Field(ge=0, le=100)
    stage: Stage | None = None
    phase: Phase | None = None
    queue_position: int | None = None
    attempts: int | None = None
    created_at: str | None = None
    completed_at: str | None = None
    notification: WebhookDelivery | None = Field(
        default=None, description="Delivery of the completion webhook; only when callback_url was given."
    )


class MergeResult(BaseModel):
    """The seed's synchronous success shape, plus a few descriptive extras."""

    success: bool = True
    merged_url: str
    duration_seconds: float
    processing_time: float
    clips_merged: int
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    strategy: Strategy | None = None


class MergeFailure(BaseModel):
    success: bool = False
    status: RestStatus = RestStatus.FAILED
    reason: str
    error: str
    clip_index: int | None = None
    clip_url: str | None = None


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
        notification=WebhookDelivery.from_status(status.notification) if status.notification else None,
    )


def result_from_status(raw_status: dict[str, Any] | None) -> MergeResult | MergeFailure | None:
    """The REST result of a finished merge; None while it is not finished."""
    status = VideoMergeStatus.from_crd(raw_status)
    if status.phase == Phase.COMPLETED and status.result is not None:
        r = status.result
        return MergeResult(
            merged_url=r.merged_url,
            duration_seconds=r.duration_seconds,
            processing_time=r.processing_time,
            clips_merged=r.clips_merged,
            size_bytes=r.size_bytes,
            width=r.width,
            height=r.height,
            strategy=r.strategy,
        )
    if status.phase == Phase.FAILED:
        error = status.error
        return MergeFailure(
            reason=error.reason.value if error else "Unknown",
            error=error.message if error else (status.message or "Merge failed"),
            clip_index=error.clip_index if error else None,
            clip_url=error.clip_url if error else None,
        )
    return None


def webhook_body(name: str, raw_status: dict[str, Any] | None) -> dict[str, Any] | None:
    """Body of the completion webhook: the ``/result`` body plus ``type`` and ``task_id``; None if not finished."""
    outcome = result_from_status(raw_status)
    if outcome is None:
        return None
    event = WebhookEvent.COMPLETED if isinstance(outcome, MergeResult) else WebhookEvent.FAILED
    return {"type": event.value, "task_id": name, **outcome.model_dump(mode="json")}
