"""--kube reads VideoMerge objects through the contract: the same words as the REST API."""

import pytest

from videomerge_api.views import result_view, status_view
from videomerge_cli.kube import outcome_from_object, state_from_object
from videomerge_cli.model import outcome_from_rest, state_from_rest

pytestmark = pytest.mark.unit

BASE = {
    "metadata": {
        "name": "vm-1",
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "resourceVersion": "7",
        "uid": "u",
    },
    "spec": {"videoUrls": ["https://a.example.com/a.mp4", "https://a.example.com/b.mp4"]},
}
STATUSES = [
    None,
    {"phase": "Queued", "queuePosition": 2, "message": "waiting for a slot"},
    {"phase": "Processing", "stage": "downloading", "progress": 12, "message": "downloaded 1/2 clips, 3 MiB"},
    {
        "phase": "Completed",
        "stage": "done",
        "progress": 100,
        "completionTime": "2026-01-01T00:00:09Z",
        "result": {
            "mergedUrl": "https://s3/m.mp4",
            "durationSeconds": 7.0,
            "processingTime": 2.0,
            "clipsMerged": 2,
            "sizeBytes": 10,
            "bucket": "b",
            "objectKey": "k",
        },
    },
    {
        "phase": "Failed",
        "completionTime": "2026-01-01T00:00:09Z",
        "error": {"reason": "DownloadFailed", "message": "clip 2 (https://a.example.com/b.mp4): HTTP 404"},
    },
]


@pytest.mark.parametrize("status", STATUSES)
def test_kube_and_rest_agree(status):
    obj = BASE | ({"status": status} if status else {})
    via_kube = state_from_object(obj)
    via_rest = state_from_rest(status_view(obj).model_dump(mode="json"))
    for field in ("task_id", "status", "message", "progress", "stage", "created_at", "completed_at"):
        assert getattr(via_kube, field) == getattr(via_rest, field), field
    rest_outcome = result_view(obj)
    kube_outcome = outcome_from_object(obj)
    if rest_outcome is None:
        assert kube_outcome is None
    else:
        assert kube_outcome == outcome_from_rest("vm-1", rest_outcome.model_dump(mode="json"))


def test_a_status_that_does_not_fit_reads_as_its_phase():
    state = state_from_object(BASE | {"status": {"phase": "Processing", "progress": 900}})
    assert (state.status, state.message) == ("processing", "status details unavailable")
