"""The controller and reconciler against an in-memory API server: queueing, idempotence, truthful status."""

import asyncio
from datetime import timedelta

import pytest
from op_factories import T0, job_body, merge_body, pod_body, settings
from op_fake_cluster import FakeCluster

from videomerge_operator import controller as controller_module
from videomerge_operator.controller import Controller
from videomerge_operator.kube import ApiError
from videomerge_operator.metrics import OperatorMetrics

NS = "ns"


def key(name):
    return (NS, name)


def make(cluster, **overrides):
    controller = Controller(settings(**overrides), cluster, cluster.cache, OperatorMetrics())
    cluster.notify = controller.notify
    controller.ready.set()
    return controller


@pytest.fixture
def cluster():
    return FakeCluster()


def add(cluster, name, seconds=0, **kwargs):
    cluster.add_merge(merge_body(name, NS, T0 + timedelta(seconds=seconds), **kwargs))


async def test_limit_starts_the_oldest_and_queues_the_rest(cluster):
    for name in ["e", "a", "d", "b", "c"]:  # created in this order, but timestamps say a is oldest
        add(cluster, name, seconds={"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}[name])
    controller = make(cluster, max_concurrent=2)
    await controller.settle()
    assert cluster.jobs_created == [key("vm-a"), key("vm-b")]
    for name in "ab":
        status = cluster.status(key(name))
        assert (status["phase"], status["jobName"], status["clips"]) == ("Pending", f"vm-{name}", 2)
    assert {n: cluster.status(key(n))["queuePosition"] for n in "cde"} == {"c": 1, "d": 2, "e": 3}
    assert all(cluster.phase(key(n)) == "Queued" for n in "cde")
    assert cluster.event_reasons("a") == ["JobCreated"]
    assert cluster.event_reasons("c") == ["Queued"]
    assert controller.metrics.queue_depth._value.get() == 3


async def test_slots_free_at_once_start_their_jobs_strictly_oldest_first(cluster):
    for i, name in enumerate("abc"):
        add(cluster, name, seconds=i)
    cluster.create_delays = {"vm-a": 0.1}  # the oldest merge's round trip is the slow one
    controller = make(cluster, max_concurrent=2)
    await controller.settle()
    assert cluster.jobs_created == [key("vm-a"), key("vm-b")]


async def test_a_finished_merge_frees_its_slot_for_the_next_oldest(cluster):
    for i, name in enumerate("abc"):
        add(cluster, name, seconds=i)
    controller = make(cluster, max_concurrent=1)
    await controller.settle()
    cluster.worker_writes(
        key("a"),
        phase="Completed",
        result={"mergedUrl": "u", "durationSeconds": 4, "processingTime": 1, "clipsMerged": 2},
    )
    job = cluster.jobs[key("vm-a")]
    job["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    cluster.set_job(key("vm-a"), job)
    await controller.settle()
    assert cluster.jobs_created == [key("vm-a"), key("vm-b")]
    assert cluster.phase(key("b")) == "Pending"
    assert cluster.status(key("c"))["queuePosition"] == 1
    a = cluster.status(key("a"))
    assert any(c["type"] == "Complete" and c["status"] == "True" for c in a["conditions"])
    assert a["attempts"] == 1
    assert cluster.event_reasons("a") == ["JobCreated", "Completed"]


async def test_a_restart_with_a_lagging_watch_makes_no_second_job(cluster):
    add(cluster, "a")
    await make(cluster).settle()
    assert cluster.jobs_created == [key("vm-a")]
    # A new operator whose cache has not seen the Job yet, and whose status write was lost.
    cluster.cache.job_views.clear()
    cluster.merges[key("a")]["status"] = {}
    cluster.watch_jobs = False
    cluster.add_merge(cluster.merges[key("a")])
    await make(cluster).settle()
    assert cluster.jobs_created == [key("vm-a")]
    assert cluster.status(key("a"))["jobName"] == "vm-a"


async def test_a_terminal_status_written_meanwhile_by_the_worker_wins(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    job = cluster.jobs[key("vm-a")]
    job["status"] = {
        "failed": 1,
        "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}],
    }

    def worker_finishes_first(merge_key, patch):
        cluster.worker_writes(
            merge_key,
            phase="Completed",
            result={"mergedUrl": "u", "durationSeconds": 1, "processingTime": 1, "clipsMerged": 2},
        )

    cluster.before_status_patch = worker_finishes_first
    cluster.set_job(key("vm-a"), job)
    await controller.settle()
    status = cluster.status(key("a"))
    assert status["phase"] == "Completed"
    assert "error" not in status
    assert [c["type"] for c in status["conditions"] if c["status"] == "True"] == ["JobCreated", "Complete"]


async def test_a_failed_job_fails_the_merge_with_its_reason(cluster):
    add(cluster, "a")
    controller = make(cluster, backoff_limit=0)
    await controller.settle()
    job = cluster.jobs[key("vm-a")]
    job["status"] = {
        "failed": 1,
        "conditions": [
            {
                "type": "Failed",
                "status": "True",
                "reason": "DeadlineExceeded",
                "message": "Job was active longer than specified deadline",
            }
        ],
    }
    cluster.set_job(key("vm-a"), job)
    await controller.settle()
    status = cluster.status(key("a"))
    assert (status["phase"], status["error"]["reason"], status["attempts"]) == (
        "Failed",
        "DeadlineExceeded",
        1,
    )
    assert cluster.event_reasons("a")[-1] == "Failed"
    assert controller.metrics.finished.labels(phase="Failed", reason="DeadlineExceeded")._value.get() == 1


async def test_a_vanished_job_is_reported_lost(cluster):
    add(cluster, "a", status={"phase": "Processing", "jobName": "vm-a", "attempts": 1})
    await make(cluster).settle()
    status = cluster.status(key("a"))
    assert (status["phase"], status["error"]["reason"]) == ("Failed", "JobLost")
    assert cluster.jobs_created == [], "a lost Job is not silently replaced"


async def test_an_unusable_image_fails_the_merge_and_removes_the_job(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    job = cluster.jobs[key("vm-a")]
    job["status"] = {"active": 1}
    pod = pod_body(job, phase="Pending", waiting=("ErrImageNeverPull", 'image "nope:1" is not present'))
    cluster.set_job(key("vm-a"), job, [pod])
    await controller.settle()
    assert cluster.status(key("a"))["error"]["reason"] == "ImageUnavailable"
    assert key("vm-a") not in cluster.jobs


async def test_someone_elses_job_with_our_name_is_not_adopted(cluster):
    add(cluster, "a")
    foreign = job_body(merge_body("other"), uid="foreign")
    foreign["metadata"]["name"] = "vm-a"
    foreign["metadata"]["ownerReferences"] = []
    cluster.jobs[key("vm-a")] = foreign
    await make(cluster).settle()
    status = cluster.status(key("a"))
    assert (status["phase"], status["error"]["reason"]) == ("Failed", "JobFailed")
    assert "does not belong" in status["error"]["message"]


async def test_a_refused_manifest_fails_the_merge(cluster):
    add(cluster, "a")
    cluster.fail_next_create = ApiError(
        422, "Unprocessable Entity", '{"message": "spec.template: invalid quantity"}'
    )
    await make(cluster).settle()
    assert cluster.status(key("a"))["error"]["message"].endswith("invalid quantity")


async def test_transient_errors_are_retried_later_and_counted(cluster):
    add(cluster, "a")
    cluster.fail_next_create = ApiError(500, "Internal Server Error", "etcd timeout")
    controller = make(cluster)
    await controller.settle()
    assert cluster.jobs_created == []
    assert controller.metrics.reconcile_errors.labels(operation="start")._value.get() == 1
    controller._not_before.clear()  # skip the backoff
    await controller.settle()
    assert cluster.jobs_created == [key("vm-a")]


async def test_retention_deletes_only_old_finished_merges(cluster):
    add(cluster, "done", status={"phase": "Completed", "completionTime": "2026-01-01T12:00:00Z"})
    add(cluster, "running", status={"phase": "Processing", "jobName": "vm-running"})
    controller = make(cluster, retention_seconds=60)
    await controller.settle()
    assert key("done") not in cluster.merges
    assert key("running") in cluster.merges


async def test_passes_during_job_creation_do_not_exceed_the_limit(cluster):
    for i in range(6):
        add(cluster, f"m{i}", seconds=i)
    controller = make(cluster, max_concurrent=2)
    controller.run_pass()
    await asyncio.sleep(0)
    # While the first two Jobs are being created, the watch brings an older merge (say, from another namespace
    # listed late): it must queue first in line, not squeeze in beside the two being started.
    add(cluster, "early", seconds=-10)
    controller.run_pass()
    await controller.settle()
    assert cluster.jobs_created == [key("vm-m0"), key("vm-m1")]
    assert cluster.status(key("early"))["queuePosition"] == 1


async def test_the_operators_own_status_write_is_not_redone_while_the_watch_lags(cluster):
    cluster.watch_status_writes = False  # the merge's MODIFIED event has not arrived yet
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    controller.notify(key("a"))  # the Job's watch event, say, arriving first
    await controller.settle()
    assert cluster.status(key("a"))["jobName"] == "vm-a"
    assert (cluster.status_patches, cluster.status_conflicts) == (1, 0)
    cluster.worker_writes(key("a"), phase="Processing", progress=10)  # the cache moves on: it is used again
    controller.notify(key("a"))
    await controller.settle()
    assert cluster.status(key("a"))["progress"] == 10
    assert controller.reconciler.merge(key("a")).status.progress == 10


async def test_without_a_limit_a_new_merge_starts_without_reading_every_merge(cluster, monkeypatch):
    monkeypatch.setattr(controller_module, "PLAN_INTERVAL", 3600.0)
    for i in range(3):
        add(cluster, f"old{i}", seconds=i)
    controller = make(cluster, max_concurrent=0)
    await controller.settle()
    full_reads = []
    merges = cluster.cache.merges
    monkeypatch.setattr(cluster.cache, "merges", lambda: full_reads.append(1) or merges())
    add(cluster, "new", seconds=10)
    controller.run_pass()
    await asyncio.gather(*controller._tasks)
    assert cluster.jobs_created[-1] == key("vm-new")
    assert full_reads == []


async def test_with_a_limit_a_notified_merge_waits_for_the_plan_and_is_then_started(cluster, monkeypatch):
    monkeypatch.setattr(controller_module, "PLAN_INTERVAL", 3600.0)
    controller = make(cluster, max_concurrent=1)
    await controller.settle()
    add(cluster, "a")
    controller.run_pass()  # the plan is not due: nothing starts, and nothing is lost
    await asyncio.gather(*controller._tasks)
    assert cluster.jobs_created == []
    await controller.settle()
    assert cluster.jobs_created == [key("vm-a")]
