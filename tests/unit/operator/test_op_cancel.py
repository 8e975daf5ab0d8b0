"""spec.cancel against the in-memory API server: the Job goes, the merge ends Failed/Cancelled, once."""

from datetime import timedelta

import pytest
from op_factories import T0, merge_body, pod_body, settings
from op_fake_cluster import FakeCluster

from videomerge_operator.controller import Controller
from videomerge_operator.kube import ApiError
from videomerge_operator.metrics import OperatorMetrics

NS = "ns"


def key(name):
    return (NS, name)


@pytest.fixture
def cluster():
    return FakeCluster()


def make(cluster, **overrides):
    controller = Controller(settings(**overrides), cluster, cluster.cache, OperatorMetrics())
    cluster.notify = controller.notify
    controller.ready.set()
    return controller


def add(cluster, name, seconds=0):
    cluster.add_merge(merge_body(name, NS, T0 + timedelta(seconds=seconds)))


def failed_condition(status):
    return next(c for c in status["conditions"] if c["type"] == "Failed")


async def test_cancelling_a_running_merge_deletes_its_job_and_ends_it_cancelled(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    cluster.worker_writes(key("a"), phase="Processing", stage="merging", progress=40)
    await controller.settle()
    cluster.request_cancel(key("a"))
    await controller.settle()
    assert cluster.jobs_deleted == [key("a")] and key("a") not in cluster.jobs
    status = cluster.status(key("a"))
    assert (status["phase"], status["error"], status["message"]) == (
        "Failed",
        {"reason": "Cancelled", "message": "cancelled by request"},
        "cancelled by request",
    )
    assert status["completionTime"] and status["observedGeneration"] == 2
    assert (failed_condition(status)["reason"], failed_condition(status)["observedGeneration"]) == (
        "Cancelled",
        2,
    )
    assert cluster.event_reasons("a")[-1] == "Cancelled"
    assert controller.metrics.finished.labels(phase="Failed", reason="Cancelled")._value.get() == 1
    # The Job's disappearance and later resyncs change nothing: not "lost", no second Event.
    controller.run_pass(plan=True)
    await controller.settle()
    assert cluster.status(key("a"))["error"]["reason"] == "Cancelled"
    assert cluster.event_reasons("a").count("Cancelled") == 1


async def test_a_cancelled_queued_merge_never_gets_a_job_and_frees_the_queue(cluster):
    for i, name in enumerate("abc"):
        add(cluster, name, seconds=i)
    controller = make(cluster, max_concurrent=1)
    await controller.settle()
    assert cluster.status(key("b"))["queuePosition"] == 1
    cluster.request_cancel(key("b"))
    await controller.settle()
    assert cluster.phase(key("b")) == "Failed" and "queuePosition" not in cluster.status(key("b"))
    assert cluster.status(key("c"))["queuePosition"] == 1
    cluster.request_cancel(key("a"))  # frees the one slot: c starts, b still never does
    await controller.settle()
    assert cluster.jobs_created == [key("a"), key("c")]
    assert cluster.jobs_deleted == [key("a")]
    assert cluster.event_reasons("b") == ["Queued", "Cancelled"]


async def test_a_merge_cancelled_before_the_operator_saw_it_gets_no_job(cluster):
    body = merge_body("a", NS, T0)
    body["spec"]["cancel"] = True
    cluster.add_merge(body)
    await make(cluster, max_concurrent=0).settle()
    assert cluster.jobs_created == [] and cluster.phase(key("a")) == "Failed"
    assert cluster.status(key("a"))["error"]["reason"] == "Cancelled"


async def test_a_merge_that_completed_first_keeps_its_end_and_its_job(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()

    def worker_completes_first(merge_key, patch):
        cluster.worker_writes(
            merge_key,
            phase="Completed",
            result={"mergedUrl": "u", "durationSeconds": 1, "processingTime": 1, "clipsMerged": 2},
        )

    cluster.before_status_patch = worker_completes_first
    cluster.request_cancel(key("a"))
    await controller.settle()
    assert cluster.phase(key("a")) == "Completed" and "error" not in cluster.status(key("a"))
    assert cluster.jobs_deleted == []
    assert "Cancelled" not in cluster.event_reasons("a")


async def test_the_worker_stopped_by_sigterm_cannot_undo_the_cancel(cluster):
    """The worker's SIGTERM write ("Processing, will be retried") is conditional on the resourceVersion it
    read before the cancel: the API server refuses it, and the worker then finds a terminal phase."""
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    cluster.worker_writes(key("a"), phase="Processing")
    seen_by_worker = cluster.merges[key("a")]["metadata"]["resourceVersion"]
    cluster.request_cancel(key("a"))
    await controller.settle()
    with pytest.raises(ApiError) as refused:
        await cluster.patch_merge_status(NS, "a", {"phase": "Processing"}, seen_by_worker)
    assert refused.value.conflict and cluster.phase(key("a")) == "Failed"


async def test_a_job_left_running_by_a_stop_between_the_two_writes_is_deleted_on_resync(cluster, monkeypatch):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    job = cluster.jobs[key("a")]
    job["status"] = {"active": 1}
    cluster.set_job(key("a"), job, [pod_body(job)])
    cluster.request_cancel(key("a"))

    async def stopped(namespace, name, uid):  # the operator stops before it deletes the Job
        raise RuntimeError("operator stopped")

    monkeypatch.setattr(cluster, "delete_job", stopped)
    await controller.settle()
    assert cluster.phase(key("a")) == "Failed" and key("a") in cluster.jobs
    monkeypatch.undo()
    restarted = make(cluster)  # a new operator: its index holds the cancelled merge whole
    restarted.run_pass(plan=True)
    await restarted.settle()
    assert cluster.jobs_deleted == [key("a")]
    assert cluster.event_reasons("a").count("Cancelled") == 1
