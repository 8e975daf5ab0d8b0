"""VideoMerge statuses as the operator and the worker write them, for tests that read merges back."""

from datetime import UTC, datetime
from typing import Any

URL_A = "https://example.com/a.mp4"
URL_B = "http://cdn.example.org/b.mov?sig=1"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).isoformat().replace("+00:00", "Z")

COMPLETED_STATUS: dict[str, Any] = {
    "phase": "Completed",
    "stage": "done",
    "progress": 100,
    "completionTime": NOW,
    "result": {
        "mergedUrl": "https://s3.local/bucket/out.mp4?X-Amz-Signature=secret",
        "durationSeconds": 12.5,
        "processingTime": 3.25,
        "clipsMerged": 2,
        "width": 1280,
        "height": 720,
        "strategy": "copy",
    },
}
FAILED_STATUS: dict[str, Any] = {
    "phase": "Failed",
    "message": "clip 2 could not be downloaded",
    "error": {
        "reason": "DownloadFailed",
        "message": f"clip 2 ({URL_B}): HTTP 404",
        "clipIndex": 1,
        "clipUrl": URL_B,
    },
}
