"""Shared bits of the API unit tests: bodies, statuses as the operator writes them, waiting."""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from support.api_clients import CLIENT_TOKENS, bearer, write_clients

__all__ = ["CLIENT_TOKENS", "bearer", "write_clients"]

URL_A = "https://example.com/a.mp4"
URL_B = "http://cdn.example.org/b.mov?sig=1"
BODY = {"video_urls": [URL_A, URL_B], "quality": "medium", "aspect_ratio": "9:16"}
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


def eventually(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := probe():
            return value
        time.sleep(0.01)
    raise AssertionError(f"condition not met within {timeout}s: {probe}")


def create(client: TestClient, body: dict[str, Any] | None = None, **headers: str) -> str:
    response = client.post("/api/v1/merge", json=body or BODY, headers=headers)
    assert response.status_code == 202, response.text
    return str(response.json()["task_id"])
