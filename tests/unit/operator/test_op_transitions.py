"""Status changes: right fields, right Events, idempotent, and a terminal status is never touched."""

from datetime import timedelta

import pytest
from op_factories import T0, merge_body

from videomerge_contract.enums import ErrorReason
from videomerge_operator.transitions import (
    acknowledge_terminal,
    attempts_seen,
    cancelled,
    failed,
    job_created,
    queued,
)
from videomerge_operator.views import merge_view

NOW = T0 + timedelta(seconds=10)
COMPLETED = {
    "phase": "Completed",
    "result": {
        "mergedUrl": "s3://b/k.mp4",
        "durationSeconds": 12.5,
        "processingTime": 3.25,
        "clipsMerged": 2,
    },
    "completionTime": "2026-01-01T12:00:09Z",
}
WORKER_FAILED = {"phase": "Failed", "error": {"reason": "InvalidInput", "message": "clip 1 is not a video"}}


def view(status=None, **kwargs):
    return merge_view(merge_body(status=status, **kwargs))


def applied(status, change):
    """The status after the API server applied ``change.patch`` as a JSON merge patch."""
    merged = dict(status or {})
    for key, value in change.patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def condition(status, type_):
    return next(c for c in status["conditions"] if c["type"] == type_)


def test_queued_sets_phase_position_and_a_condition_once():
    change = queued(view(), 3, 4, NOW)
    assert change.patch["phase"] == "Queued" and change.patch["queuePosition"] == 3
    assert change.patch["clips"] == 2 and change.patch["stage"] == "queued"
    cond = condition(change.patch, "JobCreated")
    assert (cond["status"], cond["reason"], cond["observedGeneration"]) == ("False", "Queued", 1)
    assert [e.reason for e in change.events] == ["Queued"]
    status = applied({}, change)
    assert not queued(view(status), 3, 4, NOW), "nothing to write the second time"
    moved = queued(view(status), 1, 4, NOW)
    assert moved.patch == {"queuePosition": 1, "observedGeneration": 1} and moved.events == ()


def test_a_queued_position_far_back_is_rewritten_only_once_it_has_halved():
    from videomerge_operator.transitions import EXACT_QUEUE_POSITIONS, position_news

    status = applied({}, queued(view(), 900, 50, NOW))
    writes, written = 0, 900
    for position in range(899, 0, -1):  # one start at a time, from the back of a 900-merge queue
        change = queued(view(status), position, 50, NOW)
        if change:
            writes += 1
            status = applied(status, change)
            written = status["queuePosition"]
        assert written >= position and (position > EXACT_QUEUE_POSITIONS or written == position)
        assert position > EXACT_QUEUE_POSITIONS or not position_news(written, position)
    assert writes <= EXACT_QUEUE_POSITIONS + 8, writes  # log2(900) halvings, then exact: not 899 writes
    assert position_news(5, 7), "moved back (a reordered queue): written at once"


def test_job_created_moves_to_pending_and_records_the_job():
    queued_status = applied({}, queued(view(), 2, 4, NOW))
    change = job_created(view(queued_status), "vm-m1", NOW)
    assert change.patch["phase"] == "Pending"
    assert change.patch["jobName"] == "vm-m1"
    assert change.patch["queuePosition"] is None
    assert change.patch["attempts"] == 0
    cond = condition(change.patch, "JobCreated")
    assert (cond["status"], cond["reason"]) == ("True", "JobCreated")
    assert [e.reason for e in change.events] == ["JobCreated"]
    assert not job_created(view(applied(queued_status, change)), "vm-m1", NOW)


def test_job_created_never_moves_a_running_merge_back():
    change = job_created(
        view({"phase": "Processing", "jobName": "vm-m1", "attempts": 1, "clips": 2}), "vm-m1", NOW
    )
    assert "phase" not in change.patch


@pytest.mark.parametrize("status", [COMPLETED, WORKER_FAILED])
def test_terminal_wins(status):
    merge = view(status)
    assert not queued(merge, 1, 1, NOW)
    assert not job_created(merge, "vm-m1", NOW)
    assert not attempts_seen(merge, 5, 3)
    assert not failed(merge, ErrorReason.JOB_LOST, "gone", NOW)


def test_attempts_only_go_up_and_retries_are_told():
    merge = view({"phase": "Processing", "attempts": 1})
    change = attempts_seen(merge, 2, 3, "s3 down")
    assert change.patch["attempts"] == 2
    assert change.events[0].reason == "Retrying" and "s3 down" in change.events[0].message
    assert not attempts_seen(merge, 1, 3)
    assert attempts_seen(view({"attempts": 0}), 1, 3).events == (), "a first attempt is no retry"


def test_failed_by_the_operator():
    change = failed(
        view({"phase": "Processing", "attempts": 1}), ErrorReason.OUT_OF_MEMORY, "OOMKilled", NOW, 3
    )
    p = change.patch
    assert (p["phase"], p["error"], p["message"], p["attempts"]) == (
        "Failed",
        {"reason": "OutOfMemory", "message": "OOMKilled"},
        "OOMKilled",
        3,
    )
    assert p["completionTime"] == "2026-01-01T12:00:10Z"
    assert condition(p, "Failed")["reason"] == "OutOfMemory"
    assert change.events[0].type == "Warning"
    assert change.finished == ("Failed", "OutOfMemory")


def test_acknowledging_a_completion_written_by_the_worker():
    status = {**COMPLETED, "attempts": 1, "jobName": "vm-m1"}
    change = acknowledge_terminal(view(status), NOW, attempts=1)
    assert set(change.patch) == {"conditions", "observedGeneration", "duration"}, (
        "phase, result and time stay the worker's"
    )
    assert change.patch["duration"] == "12.5s"
    cond = condition(change.patch, "Complete")
    assert (cond["status"], cond["reason"]) == ("True", "MergeCompleted")
    assert "12.5s" in cond["message"]
    assert [e.reason for e in change.events] == ["Completed"]
    assert change.finished == ("Completed", "")
    again = acknowledge_terminal(view(applied(status, change)), NOW, attempts=1)
    assert not again, "the Event is posted once"


def test_acknowledging_a_failure_written_by_the_worker():
    change = acknowledge_terminal(view(WORKER_FAILED), NOW)
    assert condition(change.patch, "Failed")["reason"] == "InvalidInput"
    assert change.patch["completionTime"] == "2026-01-01T12:00:10Z"
    assert change.events[0].message == "InvalidInput: clip 1 is not a video"


def test_condition_transition_time_moves_only_when_the_status_changes():
    first = applied({}, queued(view(), 2, 4, NOW))
    later = applied(first, queued(view(first), 1, 4, NOW + timedelta(minutes=5)))
    assert (
        condition(later, "JobCreated")["lastTransitionTime"]
        == condition(first, "JobCreated")["lastTransitionTime"]
    )


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(7.024, "7.0s"), (7, "7.0s"), (10, "10.0s"), (59.94, "59.9s"), (65.4, "1m05s"), (3723, "1h02m03s")],
)
def test_a_completed_merge_shows_its_duration_with_a_unit(seconds, shown):
    result = {
        "mergedUrl": "https://s3/x",
        "durationSeconds": seconds,
        "processingTime": 1.0,
        "clipsMerged": 2,
    }
    merge = view({"phase": "Completed", "result": result, "startTime": "2026-01-01T12:00:01Z"})
    assert acknowledge_terminal(merge, T0).patch["duration"] == shown


def test_an_acknowledged_end_is_kept_compact_and_an_unacknowledged_one_whole():
    from videomerge_operator.retention import finished_at
    from videomerge_operator.transitions import compact_if_settled

    status = {**COMPLETED, "attempts": 1, "jobName": "m1"}
    whole = view(status)
    assert compact_if_settled(whole, NOW) is whole, "not acknowledged yet: the operator still writes it"
    settled = view(applied(status, acknowledge_terminal(whole, NOW, attempts=1)))
    compact = compact_if_settled(settled, NOW)
    assert compact.settled and compact.phase == settled.phase
    assert compact.status.result is None and compact.status.message is None
    assert compact.status.conditions == [] and compact.status.job_name is None
    assert compact.ended == settled.status.completion_time is not None
    assert finished_at(compact) == finished_at(settled)  # what retention reads
    other = view(applied({**status, "jobName": "m2"}, acknowledge_terminal(view(status), NOW, attempts=1)))
    assert compact_if_settled(other, NOW).status is compact.status, "one status object for all settled"
    running = view({"phase": "Processing"})
    assert compact_if_settled(running, NOW) is running


def cancel_view(status=None, generation=2):
    body = merge_body(status=status)
    body["spec"]["cancel"] = True
    body["metadata"]["generation"] = generation
    return merge_view(body)


@pytest.mark.parametrize(
    ("status", "told"),
    [
        ({"phase": "Processing", "jobName": "m1", "stage": "merging"}, "its Job m1 is deleted"),
        ({"phase": "Queued", "queuePosition": 3}, "it had no Job yet"),
        (None, "it had no Job yet"),
    ],
)
def test_a_cancel_ends_the_merge_failed_with_reason_cancelled(status, told):
    change = cancelled(cancel_view(status), NOW)
    p = change.patch
    assert (p["phase"], p["message"], p["error"], p["completionTime"], p["observedGeneration"]) == (
        "Failed",
        "cancelled by request",
        {"reason": "Cancelled", "message": "cancelled by request"},
        "2026-01-01T12:00:10Z",
        2,
    )
    assert "queuePosition" in p and p["queuePosition"] is None
    failed_condition = condition(p, "Failed")
    assert (
        failed_condition["status"],
        failed_condition["reason"],
        failed_condition["observedGeneration"],
    ) == (
        "True",
        "Cancelled",
        2,
    )
    (event,) = change.events
    assert (event.type, event.reason) == ("Normal", "Cancelled") and told in event.message
    assert change.finished == ("Failed", "Cancelled")
    after = cancel_view(applied(status, change))
    assert cancelled(cancel_view(applied(status, change)), NOW).patch == {}  # written once
    assert acknowledge_terminal(after, NOW).patch == {}, "nothing left to acknowledge"


@pytest.mark.parametrize("status", [COMPLETED, WORKER_FAILED])
def test_a_cancel_never_changes_a_finished_merge(status):
    assert not cancelled(cancel_view(status), NOW)


def test_without_spec_cancel_nothing_is_cancelled():
    assert not cancelled(view({"phase": "Processing"}), NOW)


def test_a_cancelled_merge_is_kept_whole_so_a_resync_can_still_remove_its_job():
    from videomerge_operator.transitions import compact_if_settled

    status = applied(
        {"phase": "Processing", "jobName": "m1"}, cancelled(cancel_view({"phase": "Processing"}), NOW)
    )
    ended = cancel_view(status)
    assert ended.cancelled and compact_if_settled(ended, NOW) is ended
