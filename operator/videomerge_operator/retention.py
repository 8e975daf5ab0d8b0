"""Which finished VideoMerges are old enough to delete (seed 000: clean up old job records)."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from videomerge_contract.phases import is_terminal
from videomerge_contract.resource import CONDITION_COMPLETE, CONDITION_FAILED
from videomerge_operator.views import MergeView


def finished_at(merge: MergeView) -> datetime | None:
    """When the merge ended: its completionTime, else when its terminal condition was set.

    A terminal merge with neither has not been acknowledged yet (the operator is about to stamp it): its end
    is unknown, and its age since creation says nothing about it, so it is not due.
    """
    if not is_terminal(merge.phase):
        return None
    if merge.ended is not None:
        return merge.ended
    if merge.status.completion_time is not None:
        return merge.status.completion_time
    ends = [
        c.last_transition_time
        for c in merge.status.conditions
        if c.type in (CONDITION_COMPLETE, CONDITION_FAILED) and c.status == "True"
    ]
    return max(ends) if ends else None


def expired(merges: Iterable[MergeView], now: datetime, retention: timedelta) -> list[MergeView]:
    """Finished merges whose end is at least ``retention`` ago, oldest first. A zero retention keeps all."""
    if retention <= timedelta(0):
        return []
    old = []
    for merge in merges:
        ended = finished_at(merge)
        if ended is not None and not merge.deleting and now - ended >= retention:
            old.append((ended, merge))
    return [merge for _, merge in sorted(old, key=lambda pair: (pair[0], pair[1].key))]
