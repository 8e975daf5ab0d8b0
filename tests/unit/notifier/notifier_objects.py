"""VideoMerge objects as the notifier sees them on a watch."""

from typing import Any

DONE = "2026-01-01T12:00:00Z"


def merge(
    name: str = "vm-1",
    *,
    phase: str = "Completed",
    callback: str | None = "https://hooks.example.com/videomerge?token=s3cret",
    notification: dict[str, Any] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    status: dict[str, Any] = {"phase": phase, "completionTime": DONE}
    if phase == "Completed":
        status["result"] = {
            "mergedUrl": "https://s3.example.com/m.mp4",
            "durationSeconds": 12.5,
            "processingTime": 3.0,
            "clipsMerged": 2,
        }
    elif phase == "Failed":
        status["error"] = {"reason": "DownloadFailed", "message": "clip 2 (https://x/b.mp4): HTTP 404"}
    else:
        status.pop("completionTime")
    if notification is not None:
        status["notification"] = notification
    spec: dict[str, Any] = {"videoUrls": ["https://x/a.mp4", "https://x/b.mp4"]}
    if callback:
        spec["callbackUrl"] = callback
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        "creationTimestamp": "2026-01-01T11:59:00Z",
        "resourceVersion": "7",
    }
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T12:01:00Z"
    return {"metadata": metadata, "spec": spec, "status": status}
