"""Closed vocabularies of the contract."""

from enum import StrEnum


class Quality(StrEnum):
    """Caps the output resolution and sets encoder quality; never upscales."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    ORIGINAL = "original"

    @property
    def max_height(self) -> int | None:
        """Largest output height (of a landscape frame; the short side otherwise), None for no cap."""
        return {"low": 480, "medium": 720, "high": 1080, "original": None}[self.value]


class AspectRatio(StrEnum):
    R16_9 = "16:9"
    R9_16 = "9:16"
    R1_1 = "1:1"
    R4_3 = "4:3"
    R4_5 = "4:5"
    ORIGINAL = "original"

    @property
    def ratio(self) -> tuple[int, int] | None:
        """(width, height) of the ratio, or None for ``original`` (that of the first clip)."""
        if self is AspectRatio.ORIGINAL:
            return None
        width, height = self.value.split(":")
        return int(width), int(height)


class Fit(StrEnum):
    """How a clip that does not match the aspect ratio is fitted: letterbox/pillarbox, or cut."""

    PAD = "pad"
    CROP = "crop"


class Phase(StrEnum):
    PENDING = "Pending"
    QUEUED = "Queued"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    FAILED = "Failed"


class NotificationState(StrEnum):
    """``status.notification.state``: the completion webhook's delivery (only with ``spec.callbackUrl``)."""

    DELIVERING = "Delivering"  # attempted and failed so far; the next attempt is at nextAttemptAt
    DELIVERED = "Delivered"  # a 2xx answer
    FAILED = "Failed"  # gave up: the retry window passed, or the address is refused


class WebhookEvent(StrEnum):
    """``type`` of a completion webhook's body."""

    COMPLETED = "merge.completed"
    FAILED = "merge.failed"
    CANCELLED = "merge.cancelled"  # failed with reason Cancelled: stopped at its owner's request


class RestStatus(StrEnum):
    """The status words of the REST contract (seed 002)."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Stage(StrEnum):
    QUEUED = "queued"
    STARTING = "starting"
    DOWNLOADING = "downloading"
    PROBING = "probing"
    MERGING = "merging"
    UPLOADING = "uploading"
    DONE = "done"


class Strategy(StrEnum):
    COPY = "copy"
    PARTIAL = "partial"
    REENCODE = "reencode"


class ErrorReason(StrEnum):
    """Short machine-readable failure codes for ``status.error.reason``."""

    INVALID_INPUT = "InvalidInput"
    DOWNLOAD_FAILED = "DownloadFailed"
    UNSUPPORTED_MEDIA = "UnsupportedMedia"
    FFMPEG_FAILED = "FFmpegFailed"
    UPLOAD_FAILED = "UploadFailed"
    TIMEOUT = "Timeout"
    OUT_OF_MEMORY = "OutOfMemory"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    IMAGE_UNAVAILABLE = "ImageUnavailable"
    WORKER_CRASHED = "WorkerCrashed"
    JOB_FAILED = "JobFailed"
    JOB_LOST = "JobLost"
    INTERNAL = "Internal"
    CANCELLED = "Cancelled"  # spec.cancel was set: the operator stopped the merge (not the worker's doing)

    @property
    def retryable(self) -> bool:
        """Whether running the same merge again could succeed (the input itself is not at fault)."""
        return self not in _PERMANENT


_PERMANENT = frozenset({ErrorReason.INVALID_INPUT, ErrorReason.UNSUPPORTED_MEDIA})
