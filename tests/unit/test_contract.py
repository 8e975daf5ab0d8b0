from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from videomerge_contract import (
    CANCEL_PATCH,
    CANCELLED_MESSAGE,
    AspectRatio,
    DeleteAction,
    ErrorReason,
    Fit,
    Limits,
    MergeFailure,
    MergeRequest,
    MergeResult,
    Phase,
    Quality,
    RestStatus,
    VideoMergeSpec,
    VideoMergeStatus,
    WebhookEvent,
    can_transition,
    cancel_requested,
    delete_action,
    delete_message,
    is_cancelled,
    is_terminal,
    rest_status,
    result_from_status,
    webhook_body,
)
from videomerge_contract.models import set_condition

URL = "https://example.com/clip.mp4"


def test_rest_body_round_trips_through_crd_spec():
    body = MergeRequest(
        video_urls=[URL, "http://cdn.example.org/b.mov?x=1"], quality="low", aspect_ratio="9:16", fit="crop"
    )
    spec = body.to_spec().to_crd()
    assert spec == {
        "videoUrls": [URL, "http://cdn.example.org/b.mov?x=1"],
        "quality": "low",
        "aspectRatio": "9:16",
        "fit": "crop",
    }
    assert MergeRequest.from_spec(VideoMergeSpec.from_crd(spec)) == body


def test_defaults_match_the_contract():
    spec = MergeRequest(video_urls=[URL]).to_spec()
    assert (spec.quality, spec.aspect_ratio, spec.fit) == (Quality.HIGH, AspectRatio.R16_9, Fit.PAD)


@pytest.mark.parametrize("quality", ["low", "medium", "high", "original"])
@pytest.mark.parametrize("ratio", ["16:9", "9:16", "1:1", "4:3", "4:5", "original"])
def test_every_enum_value_is_accepted(quality, ratio):
    spec = MergeRequest(video_urls=[URL], quality=quality, aspect_ratio=ratio).to_spec().to_crd()
    assert (spec["quality"], spec["aspectRatio"]) == (quality, ratio)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quality", "ultra"),
        ("aspect_ratio", "21:9"),
        ("fit", "stretch"),
        ("quality", ""),
        ("aspect_ratio", 16),
    ],
)
def test_unknown_enum_values_are_rejected(field, value):
    with pytest.raises(ValidationError) as err:
        MergeRequest(video_urls=[URL], **{field: value})
    assert field in str(err.value)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.mp4",
        "file:///etc/passwd",
        "example.com/a.mp4",
        "http://",
        "https://exa mple.com/a.mp4",
        "gopher://x.example/a",
        "https://" + "a" * Limits.MAX_URL_LENGTH,
    ],
)
def test_bad_urls_are_rejected(url):
    with pytest.raises(ValidationError):
        MergeRequest(video_urls=[url])


def test_uppercase_scheme_is_accepted():
    assert MergeRequest(video_urls=["HTTPS://EXAMPLE.COM/A.MP4"]).video_urls == ["HTTPS://EXAMPLE.COM/A.MP4"]


def test_clip_count_limits():
    with pytest.raises(ValidationError):
        MergeRequest(video_urls=[])
    assert len(MergeRequest(video_urls=[URL] * Limits.MAX_CLIPS).video_urls) == Limits.MAX_CLIPS
    with pytest.raises(ValidationError):
        MergeRequest(video_urls=[URL] * (Limits.MAX_CLIPS + 1))
    assert Limits.DEFAULT_MAX_CLIPS <= Limits.MAX_CLIPS


def test_unknown_request_fields_are_rejected():
    with pytest.raises(ValidationError) as err:
        MergeRequest.model_validate({"video_urls": [URL], "qualty": "low"})
    assert "qualty" in str(err.value)


def test_quality_caps_and_ratios():
    assert [q.max_height for q in Quality] == [480, 720, 1080, None]
    assert AspectRatio.R4_5.ratio == (4, 5)
    assert AspectRatio.ORIGINAL.ratio is None


@pytest.mark.parametrize(
    ("phase", "word"),
    [
        (None, RestStatus.PENDING),
        (Phase.PENDING, RestStatus.PENDING),
        (Phase.QUEUED, RestStatus.PENDING),
        (Phase.PROCESSING, RestStatus.PROCESSING),
        (Phase.COMPLETED, RestStatus.COMPLETED),
        (Phase.FAILED, RestStatus.FAILED),
    ],
)
def test_every_phase_maps_to_a_rest_word(phase, word):
    assert rest_status(phase) == word


def test_result_of_completed_merge_has_the_seed_shape():
    raw = {
        "phase": "Completed",
        "result": {
            "mergedUrl": "https://s3.example/m.mp4",
            "durationSeconds": 12.5,
            "processingTime": 3.2,
            "clipsMerged": 2,
            "strategy": "copy",
        },
    }
    result = result_from_status(raw)
    assert isinstance(result, MergeResult)
    dumped = result.model_dump()
    assert dumped["success"] is True
    assert {k: dumped[k] for k in ("merged_url", "duration_seconds", "processing_time", "clips_merged")} == {
        "merged_url": "https://s3.example/m.mp4",
        "duration_seconds": 12.5,
        "processing_time": 3.2,
        "clips_merged": 2,
    }


def test_result_of_failed_merge_names_the_clip():
    raw = {
        "phase": "Failed",
        "error": {
            "reason": "DownloadFailed",
            "message": "clip 2 (https://x/b.mp4): HTTP 404",
            "clipIndex": 1,
        },
    }
    failure = result_from_status(raw)
    assert isinstance(failure, MergeFailure)
    assert (failure.success, failure.status, failure.reason, failure.clip_index) == (
        False,
        "failed",
        "DownloadFailed",
        1,
    )
    assert "clip 2" in failure.error


@pytest.mark.parametrize("phase", [None, "Pending", "Queued", "Processing"])
def test_unfinished_merge_has_no_result(phase):
    assert result_from_status({"phase": phase} if phase else None) is None


def test_terminal_phase_wins():
    for terminal in (Phase.COMPLETED, Phase.FAILED):
        assert is_terminal(terminal)
        for other in Phase:
            assert can_transition(terminal, other) == (other == terminal)


def test_phases_only_move_forward():
    assert can_transition(None, Phase.PENDING)
    assert can_transition(Phase.PENDING, Phase.QUEUED)
    assert can_transition(Phase.QUEUED, Phase.PENDING)
    assert can_transition(Phase.PENDING, Phase.PROCESSING)
    assert can_transition(Phase.PROCESSING, Phase.FAILED)
    assert not can_transition(Phase.PROCESSING, Phase.PENDING)
    assert not can_transition(Phase.PROCESSING, Phase.QUEUED)
    assert not is_terminal(Phase.PROCESSING)


def test_retryable_reasons():
    assert not ErrorReason.INVALID_INPUT.retryable
    assert not ErrorReason.UNSUPPORTED_MEDIA.retryable
    assert ErrorReason.UPLOAD_FAILED.retryable


def test_set_condition_keeps_transition_time_while_status_is_unchanged():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    conds = set_condition([], "JobCreated", True, "Created", "job vm-1", 1, t0)
    conds = set_condition(conds, "JobCreated", True, "Created", "again", 2, t0 + timedelta(seconds=5))
    assert len(conds) == 1
    assert conds[0].last_transition_time == t0 and conds[0].observed_generation == 2
    conds = set_condition(conds, "JobCreated", False, "Deleted", "gone", 2, t0 + timedelta(seconds=9))
    assert conds[0].last_transition_time == t0 + timedelta(seconds=9) and conds[0].status == "False"


def test_status_round_trips_in_camel_case():
    raw = {
        "phase": "Processing",
        "stage": "merging",
        "progress": 10,
        "jobName": "vm-1-merge",
        "attempts": 1,
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "JobCreated",
                "status": "True",
                "reason": "Created",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ],
    }
    status = VideoMergeStatus.from_crd(raw)
    assert status.job_name == "vm-1-merge"
    again = status.to_crd()
    assert again["jobName"] == "vm-1-merge" and again["conditions"][0]["lastTransitionTime"].startswith(
        "2026"
    )


CANCELLED_STATUS = {
    "phase": "Failed",
    "message": CANCELLED_MESSAGE,
    "error": {"reason": "Cancelled", "message": CANCELLED_MESSAGE},
}


def test_a_cancelled_merge_reads_as_failed_with_reason_cancelled():
    failure = result_from_status(CANCELLED_STATUS)
    assert isinstance(failure, MergeFailure)
    assert (rest_status(CANCELLED_STATUS["phase"]), failure.status, failure.reason, failure.error) == (
        RestStatus.FAILED,
        "failed",
        "Cancelled",
        "cancelled by request",
    )
    assert is_cancelled(CANCELLED_STATUS)
    assert not is_cancelled({"phase": "Failed", "error": {"reason": "JobLost", "message": "gone"}})
    assert not is_cancelled({"phase": "Processing"})


def test_webhook_event_types():
    assert webhook_body("vm-1", CANCELLED_STATUS) == {
        "type": "merge.cancelled",
        "task_id": "vm-1",
        **result_from_status(CANCELLED_STATUS).model_dump(mode="json"),
    }
    failed = {"phase": "Failed", "error": {"reason": "DownloadFailed", "message": "clip 1: HTTP 404"}}
    assert webhook_body("vm-2", failed)["type"] == WebhookEvent.FAILED == "merge.failed"
    assert webhook_body("vm-3", {"phase": "Processing"}) is None


def test_cancel_is_asked_by_spec_cancel_true_only():
    assert cancel_requested(CANCEL_PATCH["spec"])
    assert not cancel_requested({"videoUrls": [URL]})
    assert not cancel_requested({"videoUrls": [URL], "cancel": False})
    assert not cancel_requested(None)
    spec = VideoMergeSpec.from_crd({"videoUrls": [URL], "cancel": True})
    assert spec.cancel is True and spec.to_crd()["cancel"] is True
    assert "cancel" not in MergeRequest(video_urls=[URL]).to_spec().to_crd()  # digests of old merges hold


@pytest.mark.parametrize(
    ("phase", "cancelling", "action", "says"),
    [
        (None, False, DeleteAction.CANCEL, "being cancelled"),
        ("Queued", False, DeleteAction.CANCEL, "record stays"),
        ("Processing", False, DeleteAction.CANCEL, "being cancelled"),
        ("Processing", True, DeleteAction.ALREADY_CANCELLING, "already being cancelled"),
        ("Completed", False, DeleteAction.REMOVE, "already completed"),
        ("Failed", True, DeleteAction.REMOVE, "its record is deleted"),
    ],
)
def test_what_a_delete_does(phase, cancelling, action, says):
    assert delete_action(phase, cancelling) is action
    assert says in delete_message(action, phase)


def test_every_exported_name_loads_from_the_module_it_is_declared_in():
    """The package loads its names on first use: each one in ``__all__`` must have its source, and the
    enums alone must not build the pydantic models (the worker's start depends on it)."""
    import subprocess
    import sys

    import videomerge_contract

    for name in videomerge_contract.__all__:
        module = videomerge_contract._SOURCES[name]
        assert getattr(videomerge_contract, name) is getattr(__import__(module, fromlist=[name]), name)
    check = (
        "import sys; from videomerge_contract import ErrorReason, Stage; "
        "assert 'videomerge_contract.rest' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", check], check=True)
