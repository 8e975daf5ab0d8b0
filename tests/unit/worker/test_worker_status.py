"""Status patches (pure): the worker's fields only, valid for the CRD, guarded by resourceVersion."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from videomerge_contract import ErrorReason, MergeResultStatus, Stage, Strategy, VideoMergeStatus
from videomerge_contract.limits import Limits
from videomerge_worker.errors import WorkerError
from videomerge_worker.status import (
    completed_patch,
    failed_patch,
    processing_patch,
    retrying_patch,
    termination_message,
    timestamp,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
OPERATOR_FIELDS = {"conditions", "attempts", "jobName", "queuePosition", "observedGeneration"}
RESULT = MergeResultStatus(
    merged_url="https://s3.example.com/b/merges/ns/m.mp4?X-Amz-Signature=abc",
    duration_seconds=12.5,
    processing_time=3.25,
    clips_merged=3,
    size_bytes=123456,
    width=1920,
    height=1080,
    strategy=Strategy.PARTIAL,
    bucket="b",
    object_key="merges/ns/m.mp4",
)


def all_patches():
    error = WorkerError.for_clip(
        ErrorReason.UNSUPPORTED_MEDIA, 1, "https://e.com/b.mov", "not a readable video"
    )
    return [
        processing_patch(Stage.DOWNLOADING, 10, "downloading", resource_version="7", start_time=NOW, clips=3),
        processing_patch(Stage.MERGING, 50),
        completed_patch(RESULT, NOW, "8"),
        failed_patch(error.to_status(), NOW, "9"),
        retrying_patch("Timeout", "clip 1 (https://e.com/a.mp4): timed out", "10"),
    ]


@pytest.mark.parametrize("patch", all_patches())
def test_patches_touch_only_worker_fields_and_validate(patch):
    assert set(patch) <= {"status", "metadata"}
    assert not OPERATOR_FIELDS & set(patch["status"])
    VideoMergeStatus.from_crd(patch["status"])


def test_processing_patch():
    patch = processing_patch(
        Stage.DOWNLOADING, 10, "downloading", resource_version="7", start_time=NOW, clips=3
    )
    assert patch == {
        "metadata": {"resourceVersion": "7"},
        "status": {
            "phase": "Processing",
            "stage": "downloading",
            "progress": 10,
            "message": "downloading",
            "startTime": "2026-03-04T05:06:07Z",
            "clips": 3,
        },
    }
    # without a message the previous one stays (merge patch semantics: absent = unchanged)
    assert processing_patch(Stage.MERGING, 50)["status"] == {
        "phase": "Processing",
        "stage": "merging",
        "progress": 50,
    }


def test_completed_patch_carries_the_result_in_crd_form():
    patch = completed_patch(RESULT, NOW, "8")
    status = patch["status"]
    assert patch["metadata"] == {"resourceVersion": "8"}
    assert (status["phase"], status["stage"], status["progress"]) == ("Completed", "done", 100)
    assert status["completionTime"] == "2026-03-04T05:06:07Z"
    assert status["error"] is None
    assert status["result"] == {
        "mergedUrl": RESULT.merged_url,
        "durationSeconds": 12.5,
        "processingTime": 3.25,
        "clipsMerged": 3,
        "sizeBytes": 123456,
        "width": 1920,
        "height": 1080,
        "strategy": "partial",
        "bucket": "b",
        "objectKey": "merges/ns/m.mp4",
    }


def test_failed_patch_names_the_clip():
    error = WorkerError.for_clip(
        ErrorReason.DOWNLOAD_FAILED, 2, "https://e.com/c.mp4", "HTTP 404", permanent=True
    )
    status = failed_patch(error.to_status(), NOW, "9")["status"]
    assert status["phase"] == "Failed"
    assert status["error"] == {
        "reason": "DownloadFailed",
        "message": "clip 3 (https://e.com/c.mp4): HTTP 404",
        "clipIndex": 2,
        "clipUrl": "https://e.com/c.mp4",
    }
    assert status["message"] == status["error"]["message"]
    assert "result" not in status and "progress" not in status


def test_retrying_patch_stays_processing_and_writes_no_error():
    status = retrying_patch("Timeout", "x" * 10000, "10")["status"]
    assert status["phase"] == "Processing"
    assert "error" not in status and "completionTime" not in status
    assert len(status["message"]) == Limits.MAX_MESSAGE_LENGTH


def test_long_error_messages_are_cut_to_the_crd_limit():
    error = WorkerError(ErrorReason.FFMPEG_FAILED, "y" * 9000)
    assert (
        len(failed_patch(error.to_status(), NOW, "1")["status"]["error"]["message"])
        == Limits.MAX_MESSAGE_LENGTH
    )


def test_timestamps_are_utc_rfc3339():
    assert (
        timestamp(datetime(2026, 1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=2))))
        == "2025-12-31T23:00:00Z"
    )


def test_termination_message_is_one_json_line_within_4096_bytes():
    short = termination_message("Timeout", "clip 1 (https://e.com/a.mp4): timed out")
    assert json.loads(short) == {"reason": "Timeout", "message": "clip 1 (https://e.com/a.mp4): timed out"}
    long = termination_message("Internal", "é\n" * 5000)
    assert len(long.encode()) <= 4096 and "\n" not in long
    assert json.loads(long)["reason"] == "Internal"
