"""Who may start now and where the others wait: the concurrency limit as a pure function."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from videomerge_contract.phases import is_terminal
from videomerge_operator.views import Key, MergeView

Scope = Literal["cluster", "namespace"]


@dataclass(frozen=True)
class QueuePlan:
    start: list[Key] = field(default_factory=list)  # oldest first
    positions: dict[Key, int] = field(default_factory=dict)  # 1-based, for those that keep waiting
    running: int = 0


def queue_order(merge: MergeView) -> tuple[object, ...]:
    """Oldest first; names break ties (creationTimestamp has one-second resolution)."""
    return (merge.created, merge.namespace, merge.name)


def plan_queue(merges: Iterable[MergeView], started: set[Key], limit: int, scope: Scope) -> QueuePlan:
    """Which waiting merges take the free slots, and the queue positions of the rest.

    ``started`` holds the merges that already have a Job (or one being created). A merge occupies a slot
    from its Job's creation until it is terminal. ``limit`` 0 means no limit. With scope ``namespace``
    each namespace has its own ``limit`` slots and its own queue.
    """
    running: dict[str, int] = defaultdict(int)
    waiting: dict[str, list[MergeView]] = defaultdict(list)
    for merge in merges:
        if merge.deleting or is_terminal(merge.phase):
            continue
        if merge.cancel_requested and merge.key not in started:  # never gets a Job, nor a place in line
            continue
        group = merge.namespace if scope == "namespace" else ""
        if merge.key in started:
            running[group] += 1
        elif not merge.status.job_name:  # a recorded Job that vanished is not waiting: it is lost
            waiting[group].append(merge)
    plan = QueuePlan(running=sum(running.values()))
    for group, candidates in waiting.items():
        candidates.sort(key=queue_order)
        free = len(candidates) if limit == 0 else max(0, limit - running[group])
        plan.start.extend(m.key for m in candidates[:free])
        plan.positions.update({m.key: i for i, m in enumerate(candidates[free:], start=1)})
    return plan
