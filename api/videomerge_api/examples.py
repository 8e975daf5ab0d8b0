"""Examples shown in /docs and /openapi.json."""

from typing import Any

TASK = "vm-3f2a9c1b7e5d40a8b6c2"

MERGE_BODIES: dict[str, dict[str, Any]] = {
    "two clips": {
        "summary": "Two clips, 1080p landscape",
        "value": {
            "video_urls": ["https://example.com/a.mp4", "https://example.com/b.mov"],
            "quality": "high",
            "aspect_ratio": "16:9",
        },
    },
    "vertical": {
        "summary": "Vertical video for phones, cropped to fill",
        "value": {"video_urls": ["https://example.com/a.mp4"], "aspect_ratio": "9:16", "fit": "crop"},
    },
    "with webhook": {
        "summary": "Call back a URL with the signed result when done",
        "value": {
            "video_urls": ["https://example.com/a.mp4", "https://example.com/b.mov"],
            "callback_url": "https://hooks.example.com/videomerge",
        },
    },
}
ACCEPTED = {
    "task_id": TASK,
    "message": "Merge started",
    "status": "pending",
    "status_url": f"/api/v1/merge/{TASK}/status",
    "result_url": f"/api/v1/merge/{TASK}/result",
}
STATUS = {
    "task_id": TASK,
    "status": "processing",
    "message": "Downloading clip 2 of 3",
    "progress": 35,
    "stage": "downloading",
    "phase": "Processing",
    "attempts": 1,
    "created_at": "2026-01-01T12:00:00Z",
}
COMPLETED = {
    "success": True,
    "merged_url": "https://s3.example.com/videomerge/merged/vm-3f2a.mp4?X-Amz-Signature=…",
    "duration_seconds": 42.5,
    "processing_time": 12.3,
    "clips_merged": 3,
    "width": 1920,
    "height": 1080,
    "strategy": "copy",
}
FAILED = {
    "success": False,
    "status": "failed",
    "reason": "DownloadFailed",
    "error": "clip 2 (https://example.com/b.mov): HTTP 404 Not Found",
    "clip_index": 1,
    "clip_url": "https://example.com/b.mov",
}
NOT_FINISHED = {
    "message": "merge is not finished yet (status: processing)",
    "detail": "merge is not finished yet (status: processing)",
    "task_id": TASK,
    "status": "processing",
    "progress": 35,
}
INVALID = {
    "message": "video_urls.0: must be an http:// or https:// URL with a host and no spaces",
    "detail": [
        {
            "loc": ["body", "video_urls", 0],
            "msg": "must be an http:// or https:// URL with a host and no spaces",
            "type": "string_pattern_mismatch",
        }
    ],
}


def json_examples(**named: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"examples": {name: {"value": value} for name, value in named.items()}}}
