"""The concurrency limit queues merges oldest first, tells each its position, and drains as slots free."""

import time

from op_support import FakeWorker, JobRecorder, create_merge, list_merges, sleeper, wait_phase
from support.kube import wait_until

LIMIT = 2


def test_the_queue_holds_the_limit_and_drains_oldest_first(start_operator, custom, kube, namespace):
    names = [f"q{i:02d}" for i in range(7)]
    with JobRecorder(kube, namespace) as jobs:
        operator = start_operator(worker_command=sleeper(6), max_concurrent=LIMIT)
        for name in names:
            create_merge(custom, namespace, name)

        def queued_positions():
            merges = list_merges(custom, namespace)
            positions = {
                m["metadata"]["name"]: m["status"].get("queuePosition")
                for m in merges
                if (m.get("status") or {}).get("phase") == "Queued"
            }
            return positions if len(positions) == len(names) - LIMIT else None

        positions = wait_until(
            queued_positions, timeout=60, what="5 merges Queued", api=kube, namespace=namespace
        )
        assert sorted(positions.values()) == list(range(1, len(names) - LIMIT + 1))
        # Oldest first: creation order (names break ties within the one-second timestamps).
        assert [n for n, _ in sorted(positions.items(), key=lambda kv: kv[1])] == names[LIMIT:]
        assert operator.metric("videomerge_operator_queue_depth") == len(names) - LIMIT

        with FakeWorker(kube, custom, namespace, hold=1.0) as worker:
            for name in names:
                wait_phase(custom, kube, namespace, name, "Completed", timeout=180)
            assert not worker.errors
        time.sleep(1)

    assert jobs.names() == names, "one Job each, started oldest first"
    # A Job is only created after the operator saw a slot free: at no time more than LIMIT merges held one.
    intervals = []
    for seen_at, job_name, _ in jobs.seen:
        intervals.append((seen_at, worker.completed_at[job_name]))
    for start, _ in intervals:
        overlapping = sum(1 for s, e in intervals if s <= start < e)
        assert overlapping <= LIMIT, intervals
    assert operator.metric("videomerge_operator_queue_depth") == 0
