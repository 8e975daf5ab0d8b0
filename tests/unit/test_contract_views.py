"""The REST status body of a VideoMerge, the contract's (the API answers with it, the CLI's --kube prints it)."""

import pytest

from videomerge_contract import Phase, RestStatus
from videomerge_contract.views import status_response


@pytest.mark.parametrize(
    ("phase", "word"),
    [
        (None, RestStatus.PENDING),
        (Phase.QUEUED, RestStatus.PENDING),
        (Phase.PROCESSING, RestStatus.PROCESSING),
        (Phase.COMPLETED, RestStatus.COMPLETED),
        (Phase.FAILED, RestStatus.FAILED),
    ],
)
def test_status_answer_has_the_rest_word_of_each_phase(phase, word):
    assert status_response("vm-1", {"phase": phase.value} if phase else None).status == word


def test_status_response_carries_progress_stage_and_queue_position():
    queued = status_response("vm-1", {"phase": "Queued", "queuePosition": 3, "stage": "queued"})
    assert (queued.status, queued.queue_position, queued.progress) == ("pending", 3, 0)
    running = status_response("vm-1", {"phase": "Processing", "progress": 42, "stage": "merging"})
    assert (running.progress, running.stage, running.queue_position) == (42, "merging", None)
    done = status_response("vm-1", {"phase": "Completed", "progress": 99})
    assert done.progress == 100
