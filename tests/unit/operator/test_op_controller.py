"""The controller and reconciler against an in-memory API server: queueing, idempotence, truthful status."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from op_factories import T0, job_body, merge_body, pod_body, settings
from op_fake_cluster import FakeCluster

from videomerge_operator import controller as controller_module
from videomerge_operator.controller import Controller
from videomerge_operator.kube import ApiError
from videomerge_operator.metrics import OperatorMetrics
from videomerge_operator.transitions import job_created

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
    assert cluster.jobs_created == [key("a"), key("b")]
    for name in "ab":
        status = cluster.status(key(name))
        assert (status["phase"], status["jobName"], status["clips"]) == ("Pending", name, 2)
    assert {n: cluster.status(key(n))["queuePosition"] for n in "cde"} == {"c": 1, "d": 2, "e": 3}
    assert all(cluster.phase(key(n)) == "Queued" for n in "cde")
    assert cluster.event_reasons("a") == ["JobCreated"]
    assert cluster.event_reasons("c") == ["Queued"]
    assert controller.metrics.queue_depth._value.get() == 3


async def test_slots_free_at_once_start_their_jobs_strictly_oldest_first(cluster):
    for i, name in enumerate("abc"):
        add(cluster, name, seconds=i)
    cluster.create_delays = {"a": 0.1}  # the oldest merge's round trip is the slow one
    controller = make(cluster, max_concurrent=2)
    await controller.settle()
    assert cluster.jobs_created == [key("a"), key("b")]


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
    job = cluster.jobs[key("a")]
    job["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    cluster.set_job(key("a"), job)
    await controller.settle()
    assert cluster.jobs_created == [key("a"), key("b")]
    assert cluster.phase(key("b")) == "Pending"
    assert cluster.status(key("c"))["queuePosition"] == 1
    a = cluster.status(key("a"))
    assert any(c["type"] == "Complete" and c["status"] == "True" for c in a["conditions"])
    assert a["attempts"] == 1
    assert cluster.event_reasons("a") == ["JobCreated", "Completed"]


async def test_a_restart_with_a_lagging_watch_makes_no_second_job(cluster):
    add(cluster, "a")
    await make(cluster).settle()
    assert cluster.jobs_created == [key("a")]
    # A new operator whose cache has not seen the Job yet, and whose status write was lost.
    cluster.cache.job_views.clear()
    cluster.merges[key("a")]["status"] = {}
    cluster.watch_jobs = False
    cluster.add_merge(cluster.merges[key("a")])
    await make(cluster).settle()
    assert cluster.jobs_created == [key("a")]
    assert cluster.status(key("a"))["jobName"] == "a"


async def test_a_terminal_status_written_meanwhile_by_the_worker_wins(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    job = cluster.jobs[key("a")]
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
    cluster.set_job(key("a"), job)
    await controller.settle()
    status = cluster.status(key("a"))
    assert status["phase"] == "Completed"
    assert "error" not in status
    assert [c["type"] for c in status["conditions"] if c["status"] == "True"] == ["JobCreated", "Complete"]


async def test_a_failed_job_fails_the_merge_with_its_reason(cluster):
    add(cluster, "a")
    controller = make(cluster, backoff_limit=0)
    await controller.settle()
    job = cluster.jobs[key("a")]
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
    cluster.set_job(key("a"), job)
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
    job = cluster.jobs[key("a")]
    job["status"] = {"active": 1}
    pod = pod_body(job, phase="Pending", waiting=("ErrImageNeverPull", 'image "nope:1" is not present'))
    cluster.set_job(key("a"), job, [pod])
    await controller.settle()
    assert cluster.status(key("a"))["error"]["reason"] == "ImageUnavailable"
    assert key("a") not in cluster.jobs


async def test_someone_elses_job_with_our_name_is_not_adopted(cluster):
    add(cluster, "a")
    foreign = job_body(merge_body("other"), uid="foreign")
    foreign["metadata"]["name"] = "a"
    foreign["metadata"]["ownerReferences"] = []
    cluster.jobs[key("a")] = foreign
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
    assert cluster.jobs_created == [key("a")]


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
    assert cluster.jobs_created == [key("m0"), key("m1")]
    assert cluster.status(key("early"))["queuePosition"] == 1


async def test_the_operators_own_status_write_is_not_redone_while_the_watch_lags(cluster):
    cluster.watch_status_writes = False  # the merge's MODIFIED event has not arrived yet
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    controller.notify(key("a"))  # the Job's watch event, say, arriving first
    await controller.settle()
    assert cluster.status(key("a"))["jobName"] == "a"
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
    assert cluster.jobs_created[-1] == key("new")
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
    assert cluster.jobs_created == [key("a")]


async def test_a_namespace_that_cannot_be_prepared_says_why_and_is_retried(cluster):
    cluster.fail_apply = ApiError(
        403, "Forbidden", '{"message": "roles.rbac.authorization.k8s.io is forbidden"}'
    )
    add(cluster, "a")
    controller = make(cluster, prepare_namespaces=True, own_namespace="home", max_concurrent=0)
    await controller.settle()
    status = cluster.status(key("a"))
    (condition,) = [c for c in status["conditions"] if c["type"] == "JobCreated"]
    assert (status["phase"], condition["status"], condition["reason"]) == (
        "Pending",
        "False",
        "NamespaceNotPrepared",
    )
    assert "roles.rbac.authorization.k8s.io is forbidden" in condition["message"]
    assert [e[:2] for e in cluster.events_of("a")] == [("Warning", "NamespaceNotPrepared")]
    assert cluster.jobs_created == []
    cluster.fail_apply = None
    controller._not_before.clear()  # the backoff has passed
    controller.notify(key("a"))
    await controller.settle()
    assert cluster.jobs_created == [key("a")]
    assert len(cluster.applied) == 3
    assert cluster.status(key("a"))["jobName"] == "a"


async def test_a_job_refused_by_quota_says_so(cluster):
    cluster.fail_next_create = ApiError(
        403,
        "Forbidden",
        '{"message": "jobs.batch \\"a\\" is forbidden: exceeded quota: q, requested: count/jobs.batch=1"}',
    )
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    (condition,) = [c for c in cluster.status(key("a"))["conditions"] if c["type"] == "JobCreated"]
    assert (condition["status"], condition["reason"]) == ("False", "QuotaExceeded")
    assert "exceeded quota" in condition["message"]
    assert cluster.event_reasons("a") == ["QuotaExceeded"]


async def test_a_job_without_pods_reports_the_job_controllers_reason(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    job = cluster.jobs[key("a")]
    job["metadata"]["creationTimestamp"] = "2020-01-01T00:00:00Z"  # long ago: no pod by now is news
    cluster.failed_create[job["metadata"]["uid"]] = 'pods "a-x" is forbidden: exceeded quota: pods'
    cluster.set_job(key("a"), job)
    await controller.settle()
    (condition,) = [c for c in cluster.status(key("a"))["conditions"] if c["type"] == "WorkerStarted"]
    assert (condition["status"], condition["reason"]) == ("False", "QuotaExceeded")
    assert cluster.event_reasons("a")[-1] == "QuotaExceeded"


async def test_a_pod_waiting_for_a_missing_secret_is_told_at_once(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    job = cluster.jobs[key("a")]
    job["status"] = {"active": 1}
    waiting = ("CreateContainerConfigError", 'secret "vm-s3" not found')
    cluster.set_job(key("a"), job, [pod_body(job, phase="Pending", waiting=waiting, created=T0)])
    controller.reconciler.clock = lambda: T0 + timedelta(seconds=2)
    await controller.settle()
    (condition,) = [c for c in cluster.status(key("a"))["conditions"] if c["type"] == "WorkerStarted"]
    assert (condition["status"], condition["reason"]) == ("False", "CreateContainerConfigError")
    assert 'secret "vm-s3" not found' in condition["message"]
    assert cluster.phase(key("a")) == "Pending", "still within its grace period"


async def test_processing_is_an_event_once_and_in_order(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    job = cluster.jobs[key("a")]
    job["status"] = {"active": 1}
    cluster.set_job(key("a"), job, [pod_body(job)])
    cluster.worker_writes(key("a"), phase="Processing", stage="downloading", progress=5, clips=2)
    await controller.settle()
    cluster.worker_writes(key("a"), progress=50)
    await controller.settle()
    assert cluster.event_reasons("a") == ["JobCreated", "Processing"]
    (condition,) = [c for c in cluster.status(key("a"))["conditions"] if c["type"] == "WorkerStarted"]
    assert condition["status"] == "True"


async def test_a_merge_that_ended_unseen_still_gets_its_processing_event(cluster):
    add(cluster, "a")
    controller = make(cluster)
    await controller.settle()
    result = {"mergedUrl": "https://s3/x", "durationSeconds": 7.0, "processingTime": 1.0, "clipsMerged": 2}
    cluster.worker_writes(
        key("a"), phase="Completed", startTime="2026-01-01T12:00:01Z", result=result, clips=2, progress=100
    )
    await controller.settle()
    assert cluster.event_reasons("a") == ["JobCreated", "Processing", "Completed"]


async def test_the_operator_refuses_to_send_a_status_field_it_does_not_own(cluster, monkeypatch):
    from videomerge_contract import ownership

    monkeypatch.setitem(ownership.FIELDS, ownership.Writer.OPERATOR, frozenset({"phase"}))
    add(cluster, "a")
    reconciler = make(cluster).reconciler
    with pytest.raises(ownership.StatusOwnershipError, match="jobName"):
        await reconciler.apply(key("a"), lambda m: job_created(m, "a", T0))
    assert cluster.status_patches == 0


async def test_a_settled_merge_is_labelled_and_the_watch_lets_go_of_it(cluster):
    add(cluster, "a", status={"phase": "Completed", "completionTime": "2026-01-01T12:00:00Z"})
    controller = make(cluster, retention_seconds=0)
    await controller.settle()
    assert cluster.status_patches == 1, "acknowledged once"
    assert cluster.settled() == [key("a")] and key("a") not in cluster.cache.merge_views
    controller.notify(key("a"))
    await controller.settle()
    assert cluster.status_patches == 1 and cluster.jobs_created == []


async def test_retention_pages_through_the_settled_merges_the_watch_leaves_out(cluster):
    for i in range(5):
        add(cluster, f"old{i}", status={"phase": "Completed", "completionTime": "2026-01-01T12:00:00Z"})
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    add(cluster, "recent", status={"phase": "Failed", "completionTime": now})
    controller = make(cluster, retention_seconds=0)
    await controller.settle()
    assert len(cluster.settled()) == 6 and cluster.list_page == 2  # three pages
    assert controller.metrics.deleted_by_retention._value.get() == 0
    controller.settings.retention_seconds = 3600
    controller._next_sweep = 0.0
    await controller.settle()
    assert sorted(k[1] for k in cluster.merges) == ["recent"]
    assert controller.metrics.deleted_by_retention._value.get() == 5


async def test_a_settled_merge_being_deleted_has_its_files_removed_then_its_finalizer(cluster, monkeypatch):
    from videomerge_operator import reconcile
    from videomerge_operator.naming import FINALIZER

    removed = []
    monkeypatch.setattr(reconcile, "delete_merged_object", lambda s, ns, name, status: removed.append(name))
    add(cluster, "a", status={"phase": "Completed", "completionTime": "2026-01-01T12:00:00Z"})
    controller = make(cluster, retention_seconds=0, delete_s3_objects=True)
    await controller.settle()
    body = cluster.merges[key("a")]
    body["metadata"] |= {"deletionTimestamp": "2026-01-02T00:00:00Z", "finalizers": [FINALIZER, "other/x"]}
    controller._next_sweep = 0.0
    await controller.settle()
    assert removed == ["a"] and body["metadata"]["finalizers"] == ["other/x"]
