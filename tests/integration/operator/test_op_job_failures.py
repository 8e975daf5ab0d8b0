"""Jobs that fail end their VideoMerge Failed with the reason a person needs (real pods, real kubelet)."""

import json
import time

from kubernetes import client
from op_support import create_merge, events_of, get_merge, sleeper, wait_phase
from support.kube import wait_until

from videomerge_contract.resource import GROUP, PLURAL, VERSION
from videomerge_operator.job_manifest import build_job
from videomerge_operator.settings import OperatorSettings


def test_the_api_server_accepts_the_job_manifest(kube, namespace):
    settings = OperatorSettings(
        host_network=True, extra_env={"KUBERNETES_SERVICE_HOST": "127.0.0.1"}, identity="t"
    )
    manifest = build_job("a-merge", namespace, "00000000-0000-0000-0000-000000000001", settings)
    batch = client.BatchV1Api(kube)
    result = batch.create_namespaced_job(namespace, manifest, dry_run="All")
    assert result.spec.pod_failure_policy.rules[0].action == "FailJob"
    assert result.spec.template.spec.containers[0].security_context.read_only_root_filesystem is True


def test_an_image_that_cannot_be_used_fails_with_image_unavailable(start_operator, custom, kube, namespace):
    start_operator(worker_image="videomerge/does-not-exist:never")
    create_merge(custom, namespace, "bad-image")
    merge = wait_phase(custom, kube, namespace, "bad-image", "Failed", timeout=90)
    error = merge["status"]["error"]
    assert error["reason"] == "ImageUnavailable"
    assert "does-not-exist" in error["message"]
    # The stuck Job is removed rather than left retrying for its whole deadline.
    wait_until(
        lambda: not client.BatchV1Api(kube).list_namespaced_job(namespace).items,
        timeout=60,
        what="the stuck Job deleted",
    )
    assert events_of(kube, namespace, "bad-image")[-1] == "Failed"


def test_retryable_exits_are_retried_then_fail_with_the_workers_reason(
    start_operator, custom, kube, namespace
):
    report = json.dumps({"reason": "DownloadFailed", "message": "clip 2 answered 503"})
    command = ["sh", "-c", f"echo '{report}' > /dev/termination-log; exit 75"]
    start_operator(worker_command=json.dumps(command), backoff_limit=1)
    create_merge(custom, namespace, "flaky")
    merge = wait_phase(custom, kube, namespace, "flaky", "Failed", timeout=150)
    status = merge["status"]
    assert status["error"] == {"reason": "DownloadFailed", "message": "clip 2 answered 503"}
    assert status["attempts"] == 2
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert (failed["status"], failed["reason"], failed["observedGeneration"]) == ("True", "DownloadFailed", 1)
    reasons = events_of(kube, namespace, "flaky")
    assert reasons[0] == "JobCreated" and "Retrying" in reasons and reasons[-1] == "Failed"


def test_a_crash_is_reported_with_its_exit_code_and_last_log_lines(start_operator, custom, kube, namespace):
    command = ["sh", "-c", "echo 'Traceback: something broke' >&2; exit 3"]
    start_operator(worker_command=json.dumps(command))
    create_merge(custom, namespace, "crash")
    error = wait_phase(custom, kube, namespace, "crash", "Failed", timeout=90)["status"]["error"]
    assert error["reason"] == "WorkerCrashed"
    assert "code 3" in error["message"] and "something broke" in error["message"]


def test_exceeding_the_deadline_fails_with_deadline_exceeded(start_operator, custom, kube, namespace):
    start_operator(worker_command=sleeper(300), active_deadline_seconds=5)
    create_merge(custom, namespace, "slow")
    merge = wait_phase(custom, kube, namespace, "slow", "Failed", timeout=90)
    assert merge["status"]["error"]["reason"] == "DeadlineExceeded"


def test_a_failure_written_by_the_worker_is_kept(start_operator, custom, kube, namespace):
    """Exit 42 after writing Failed: the podFailurePolicy stops retries and the operator keeps the worker's words."""
    start_operator(worker_command=json.dumps(["sh", "-c", "sleep 8; exit 42"]), backoff_limit=3)
    create_merge(custom, namespace, "bad-input")
    wait_until(
        lambda: (get_merge(custom, namespace, "bad-input").get("status") or {}).get("jobName"),
        timeout=60,
        what="job recorded",
    )
    worker_error = {
        "reason": "InvalidInput",
        "message": "clip 1 (https://example.com/x) is not a video",
        "clipIndex": 1,
    }
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "bad-input", {"status": {"phase": "Failed", "error": worker_error}}
    )
    merge = wait_until(
        lambda: (
            (m := get_merge(custom, namespace, "bad-input"))
            and any(c["type"] == "Failed" for c in m["status"].get("conditions", []))
            and m
        ),
        timeout=60,
        what="Failed condition",
    )
    assert merge["status"]["error"] == worker_error
    assert next(c for c in merge["status"]["conditions"] if c["type"] == "Failed")["reason"] == "InvalidInput"
    # Exit 42 matches the FailJob rule: one attempt, no retry, and the worker's error stays.
    job = wait_until(
        lambda: next(
            (j for j in client.BatchV1Api(kube).list_namespaced_job(namespace).items if j.status.failed), None
        ),
        timeout=60,
        what="the Job failed",
    )
    assert any(c.reason == "PodFailurePolicy" for c in job.status.conditions or [])
    assert job.status.failed == 1
    time.sleep(2)  # let the operator see the Job's end
    assert get_merge(custom, namespace, "bad-input")["status"]["error"] == worker_error
