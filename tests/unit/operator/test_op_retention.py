from datetime import timedelta

from op_factories import T0, merge_body

from videomerge_operator.retention import expired, finished_at
from videomerge_operator.views import merge_view

DAY = timedelta(days=1)


def merge(name, status):
    return merge_view(merge_body(name, status=status))


def test_only_finished_merges_older_than_the_retention_go():
    merges = [
        merge("old-done", {"phase": "Completed", "completionTime": "2026-01-01T12:00:00Z"}),
        merge("old-failed", {"phase": "Failed", "completionTime": "2026-01-01T13:00:00Z"}),
        merge("young-done", {"phase": "Completed", "completionTime": "2026-01-02T11:00:00Z"}),
        merge("old-running", {"phase": "Processing"}),
        merge("old-queued", {"phase": "Queued"}),
        merge("old-new", {}),
    ]
    now = T0 + DAY + timedelta(hours=1, minutes=30)
    assert [m.name for m in expired(merges, now, DAY)] == ["old-done", "old-failed"]


def test_zero_retention_keeps_everything():
    done = merge("d", {"phase": "Completed", "completionTime": "2026-01-01T12:00:00Z"})
    assert expired([done], T0 + 100 * DAY, timedelta(0)) == []


def test_end_time_falls_back_to_the_terminal_condition():
    status = {
        "phase": "Failed",
        "conditions": [
            {
                "type": "Failed",
                "status": "True",
                "reason": "JobLost",
                "lastTransitionTime": "2026-01-01T15:00:00Z",
            }
        ],
    }
    assert finished_at(merge("f", status)).hour == 15
    assert finished_at(merge("r", {"phase": "Processing"})) is None


def test_a_merge_that_just_ended_unstamped_is_not_judged_by_its_age():
    old_but_just_failed = merge("x", {"phase": "Failed", "error": {"reason": "InvalidInput", "message": "m"}})
    assert finished_at(old_but_just_failed) is None
    assert expired([old_but_just_failed], T0 + 100 * DAY, DAY) == []
