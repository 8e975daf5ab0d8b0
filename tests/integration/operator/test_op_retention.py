"""The retention sweep deletes finished VideoMerges once they are old enough, and nothing else."""

import time

from op_support import FakeWorker, create_merge, get_merge, sleeper, wait_phase, write_status
from support.kube import wait_until

from videomerge_contract.resource import GROUP, LABEL_SETTLED, PLURAL, VERSION

RETENTION = 8


def test_only_finished_merges_older_than_the_retention_are_deleted(start_operator, custom, kube, namespace):
    start_operator(
        worker_command=sleeper(300),
        max_concurrent=1,
        retention_seconds=RETENTION,
        retention_interval_seconds=1,
    )
    create_merge(custom, namespace, "finishes")
    create_merge(custom, namespace, "waits")  # Queued behind it for as long as it runs
    with FakeWorker(kube, custom, namespace, hold=0.5):
        wait_phase(custom, kube, namespace, "finishes", "Completed", timeout=90)
    finished = time.monotonic()
    create_merge(custom, namespace, "fails")
    time.sleep(RETENTION / 2)  # ends well after "finishes"
    wait_until(
        lambda: (get_merge(custom, namespace, "fails").get("status") or {}).get("phase"),
        timeout=30,
        what="fails seen",
    )
    write_status(
        custom, namespace, "fails", {"phase": "Failed", "error": {"reason": "InvalidInput", "message": "bad"}}
    )

    wait_until(
        lambda: get_merge(custom, namespace, "finishes") is None, timeout=60, what="finished merge deleted"
    )
    waited = time.monotonic() - finished
    # completionTime has one-second resolution.
    assert waited >= RETENTION - 1.5, f"deleted after {waited:.1f}s, retention is {RETENTION}s"
    assert get_merge(custom, namespace, "fails") is not None, "failed later: not old enough yet"
    wait_until(lambda: get_merge(custom, namespace, "fails") is None, timeout=60, what="failed merge deleted")
    # The merge that never finished is still there, whatever its age.
    time.sleep(2)
    assert get_merge(custom, namespace, "waits") is not None


def test_settled_merges_alone_are_swept(start_operator, custom, namespace):
    """The only merge is settled (out of the watch) and there is no Job: nothing is listed for the operator
    to be called about, yet it starts, and its sweep lists the settled merge and deletes it once old."""
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "VideoMerge",
        "metadata": {"name": "long-done", "labels": {LABEL_SETTLED: "true"}},
        "spec": {"videoUrls": ["https://example.com/a.mp4"]},
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    write_status(
        custom, namespace, "long-done", {"phase": "Completed", "completionTime": "2026-01-01T00:00:00Z"}
    )
    start_operator(retention_seconds=3600, retention_interval_seconds=1)
    wait_until(
        lambda: get_merge(custom, namespace, "long-done") is None, timeout=60, what="settled merge deleted"
    )
