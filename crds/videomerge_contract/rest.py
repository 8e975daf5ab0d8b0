"""The REST↔CRD mapping that more than one component uses: the seeds' request (snake_case) ↔ ``spec``, and
a finished merge's outcome (``/result``, and the completion webhook's body) from ``status``.

The status body (also each list row) of a VideoMerge object is ``views``, shared by the API and the CLI;
bodies only the API answers with (accepted, errors, seed 000's job status) are the API's own."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from videomerge_contract.enums import (
    AspectRatio,
    ErrorReason,
    Fit,
    Phase,
    Quality,
    RestStatus,
    Strategy,
    WebhookEvent,
)
from videomerge_contract.limits import Limits
from videomerge_contract.models import MergeResultStatus, VideoMergeSpec, VideoMergeStatus, VideoUrl


class MergeRequest(BaseModel):
    """Body of ``POST /api/v1/merge`` (seed 002), snake_case."""

    model_config = ConfigDict(
        extra="forbid",
        defer_build=True,  # built on first use, like the models (see CrdModel)
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
        "once the merge is completed, failed or cancelled; retried with backoff until it answers 2xx.",
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


class MergeResult(BaseModel):
    """The seed's synchronous success shape, plus a few descriptive extras (the worker's CLI prints it)."""

    model_config = ConfigDict(defer_build=True)

    success: bool = True
    merged_url: str
    duration_seconds: float
    processing_time: float
    clips_merged: int
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    strategy: Strategy | None = None
    poster_url: str | None = Field(default=None, description="A frame of the merge, JPEG.")
    storyboard_url: str | None = Field(
        default=None, description="One tile per clip, in order: its first frame, position and length (JPEG)."
    )

    @classmethod
    def from_status(cls, result: MergeResultStatus) -> "MergeResult":
        return cls(**result.model_dump(include=set(cls.model_fields)))


class MergeFailure(BaseModel):
    """A failed merge's outcome: why, and which clip when one is to blame."""

    model_config = ConfigDict(defer_build=True)

    success: bool = False
    status: RestStatus = RestStatus.FAILED
    reason: str
    error: str
    clip_index: int | None = None
    clip_url: str | None = None


def result_from_status(raw_status: dict[str, Any] | None) -> MergeResult | MergeFailure | None:
    """The REST result of a finished merge; None while it is not finished."""
    status = VideoMergeStatus.from_crd(raw_status)
    if status.phase == Phase.COMPLETED and status.result is not None:
        return MergeResult.from_status(status.result)
    if status.phase == Phase.FAILED:
        error = status.error
        return MergeFailure(
            reason=error.reason.value if error else "Unknown",
            error=error.message if error else (status.message or "Merge failed"),
            clip_index=error.clip_index if error else None,
            clip_url=error.clip_url if error else None,
        )
    return None


def webhook_event(outcome: MergeResult | MergeFailure) -> WebhookEvent:
    """``merge.completed``, ``merge.cancelled`` (failed with reason Cancelled) or ``merge.failed``."""
    if isinstance(outcome, MergeResult):
        return WebhookEvent.COMPLETED
    return WebhookEvent.CANCELLED if outcome.reason == ErrorReason.CANCELLED.value else WebhookEvent.FAILED


def webhook_body(name: str, raw_status: dict[str, Any] | None) -> dict[str, Any] | None:
    """Body of the completion webhook: the ``/result`` body plus ``type`` and ``task_id``; None if not finished."""
    outcome = result_from_status(raw_status)
    if outcome is None:
        return None
    event = webhook_event(outcome)
    return {"type": event.value, "task_id": name, **outcome.model_dump(mode="json")}
