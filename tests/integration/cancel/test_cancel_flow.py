"""DELETE of a processing merge through the real API on the local cluster: the operator stops its Job and
ends it Failed/Cancelled (condition, Event), the record stays, the notifier sends one signed
merge.cancelled webhook; a stale write of the stopped worker is refused."""

import json

import pytest
from api_kube_support import get_merge, patch_status, running_api
from kubernetes import client
from notifier_support import SECRET, event_reasons
from op_support import sleeper
from standardwebhooks.webhooks import Webhook
from support.kube import wait_until

from videomerge_contract.resource import GROUP, PLURAL, VERSION

URLS = ["https://example.com/cancel/a.mp4", "https://example.com/cancel/b.mp4"]


def job_gone(batch: client.BatchV1Api, namespace: str, name: str) -> bool:
    try:
        batch.read_namespaced_job(name, namespace)
    except client.ApiException as error:
        return error.status == 404
    return False


def pods_stopping(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    pods = core.list_namespaced_pod(namespace, label_selector=f"videomerge.io/merge={name}").items
    return all(p.metadata.deletion_timestamp is not None for p in pods)


@pytest.mark.timeout(300)
def test_cancelling_a_processing_merge_stops_its_job_keeps_its_record_and_sends_merge_cancelled(
    kube, kubeconfig, custom, namespace, receiver, start_operator, start_notifier
):
    start_operator(worker_command=sleeper(600))  # its worker pods only sleep: the test plays the worker
    start_notifier()
    batch, core = client.BatchV1Api(kube), client.CoreV1Api(kube)
    with running_api(kubeconfig, namespace) as api:
        body = {"video_urls": URLS, "callback_url": receiver.url("hook")}
        task_id = api.post("/api/v1/merge", json=body).json()["task_id"]
        # The operator starts its Job; the worker (played here: the pod only sleeps) says it runs.
        wait_until(
            lambda: ((get_merge(custom, namespace, task_id) or {}).get("status") or {}).get("jobName"),
            timeout=60,
            what="the merge's Job",
            api=kube,
            namespace=namespace,
        )
        wait_until(
            lambda: (
                core.list_namespaced_pod(namespace, label_selector=f"videomerge.io/merge={task_id}").items
            ),
            timeout=60,
            what="the worker pod",
            api=kube,
            namespace=namespace,
        )
        patch_status(custom, namespace, task_id, {"phase": "Processing", "stage": "merging", "progress": 30})
        worker_saw = get_merge(custom, namespace, task_id)["metadata"]["resourceVersion"]
        wait_until(
            lambda: api.get(f"/api/v1/merge/{task_id}/status").json()["status"] == "processing",
            timeout=15,
            what="processing",
        )

        answer = api.delete(f"/api/v1/merge/{task_id}")
        assert answer.status_code == 202, answer.text
        assert answer.json()["removed"] is False and "being cancelled" in answer.json()["message"]

        def ended() -> dict | None:
            status = (get_merge(custom, namespace, task_id) or {}).get("status") or {}
            return status if status.get("phase") == "Failed" else None

        status = wait_until(ended, timeout=60, what="Failed", api=kube, namespace=namespace)
        wait_until(lambda: job_gone(batch, namespace, task_id), timeout=60, what="the Job deleted")
        wait_until(  # background propagation: the garbage collector deletes the pod after the Job
            lambda: pods_stopping(core, namespace, task_id), timeout=60, what="the worker pod deleted"
        )
        obj = get_merge(custom, namespace, task_id)
        assert obj["spec"]["cancel"] is True and obj["metadata"]["generation"] == 2
        assert status["error"] == {"reason": "Cancelled", "message": "cancelled by request"}
        assert status["message"] == "cancelled by request" and status["completionTime"]
        (failed,) = [c for c in status["conditions"] if c["type"] == "Failed"]
        assert (failed["status"], failed["reason"], failed["observedGeneration"]) == ("True", "Cancelled", 2)
        wait_until(
            lambda: "Cancelled" in event_reasons(kube, namespace, task_id),
            timeout=30,
            what="the Cancelled Event",
        )

        # The worker, stopped by SIGTERM, writes only conditionally on what it read: refused, nothing undone.
        with pytest.raises(client.ApiException) as refused:
            custom.patch_namespaced_custom_object_status(
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                task_id,
                {"metadata": {"resourceVersion": worker_saw}, "status": {"phase": "Processing"}},
            )
        assert refused.value.status == 409

        # The record stays and reads as failed with reason Cancelled, in both seeds' words.
        wait_until(
            lambda: api.get(f"/api/v1/merge/{task_id}/status").json()["status"] == "failed",
            timeout=15,
            what="failed over REST",
        )
        result = api.get(f"/api/v1/merge/{task_id}/result").json()
        assert (result["success"], result["status"], result["reason"], result["error"]) == (
            False,
            "failed",
            "Cancelled",
            "cancelled by request",
        )

        # One signed delivery, merge.cancelled, the /result body plus task_id.
        wait_until(
            lambda: (
                (get_merge(custom, namespace, task_id)["status"].get("notification") or {}).get("state")
                == "Delivered"
            ),
            timeout=60,
            what="the webhook Delivered",
            api=kube,
            namespace=namespace,
        )
        (post,) = receiver.to("hook")
        assert Webhook(SECRET).verify(post.body, post.headers)["type"] == "merge.cancelled"
        assert json.loads(post.body) == {"type": "merge.cancelled", "task_id": task_id, **result}
        assert get_merge(custom, namespace, task_id)["status"]["notification"]["event"] == "merge.cancelled"
        assert event_reasons(kube, namespace, task_id).count("Cancelled") == 1

        # Now finished: a DELETE removes the record.
        removed = api.delete(f"/api/v1/merge/{task_id}").json()
        assert removed["removed"] is True and "already failed" in removed["message"]
        wait_until(
            lambda: get_merge(custom, namespace, task_id) is None, timeout=30, what="the record removed"
        )
        assert len(receiver.to("hook")) == 1, "exactly one delivery"
