"""Killing the operator in the middle of 20 merges neither duplicates a Job nor loses a merge."""

import time
from collections import Counter

from op_support import FakeWorker, JobRecorder, create_merge, sleeper, wait_phase
from support.kube import wait_until

COUNT = 20


def test_a_crash_and_a_restart_mid_way_lose_nothing_and_duplicate_nothing(
    start_operator, custom, kube, namespace
):
    names = [f"r{i:02d}" for i in range(COUNT)]
    settings = {"worker_command": sleeper(2), "max_concurrent": 5}
    with JobRecorder(kube, namespace) as jobs, FakeWorker(kube, custom, namespace, hold=0.5) as worker:
        first = start_operator("first", **settings)
        for name in names:
            create_merge(custom, namespace, name)
        wait_until(
            lambda: len(jobs.seen) >= 6, timeout=90, what="6 Jobs created", api=kube, namespace=namespace
        )
        first.kill()  # SIGKILL: no cleanup, no Lease hand-over
        time.sleep(1)
        created_by_first = len(jobs.seen)
        second = start_operator("second", **settings)
        wait_until(lambda: len(jobs.seen) >= created_by_first + 3, timeout=90, what="more Jobs after restart")
        second.stop()  # and a graceful restart too
        start_operator("third", **settings)
        for name in names:
            wait_phase(custom, kube, namespace, name, "Completed", timeout=240)
        assert not worker.errors
        time.sleep(2)
    per_merge = Counter(jobs.names())
    assert sorted(per_merge) == sorted(names), "every merge got its Job"
    assert set(per_merge.values()) == {1}, f"duplicates: {per_merge}"
