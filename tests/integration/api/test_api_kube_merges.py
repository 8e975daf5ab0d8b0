"""The REST contract against the real API server: resources created, statuses read, idempotency, cancel."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from api_kube_support import (
    BODY,
    COMPLETED,
    FAILED,
    URL_A,
    URL_B,
    count_merges,
    get_merge,
    patch_status,
    running_api,
    wait_for,
)
from kubernetes import client

from videomerge_api import resources
from videomerge_contract import API_VERSION, KIND
from videomerge_contract.resource import (
    ANNOTATION_IDEMPOTENCY_KEY,
    ANNOTATION_REQUEST_HASH,
    GROUP,
    PLURAL,
    VERSION,
)

MERGE_PATCH = "application/merge-patch+json"
CANCELLED = {
    "phase": "Failed",
    "message": "cancelled by request",
    "error": {"reason": "Cancelled", "message": "cancelled by request"},
}
PHASES = [
    ({"phase": "Pending"}, "pending", None),
    ({"phase": "Queued", "queuePosition": 2, "stage": "queued"}, "pending", None),
    ({"phase": "Processing", "stage": "merging", "progress": 40, "message": "Merging"}, "processing", None),
    (COMPLETED, "completed", True),
    (FAILED, "failed", False),
]


def test_post_creates_the_resource_with_the_mapped_spec(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace) as api:
        response = api.post("/api/v1/merge", json=BODY)
        assert response.status_code == 202, response.text
        task_id = response.json()["task_id"]
        assert response.headers["location"] == f"/api/v1/merge/{task_id}/status"
        obj = get_merge(custom, namespace, task_id)
        assert obj["apiVersion"] == API_VERSION and obj["kind"] == KIND
        assert obj["spec"] == {
            "videoUrls": [URL_A, URL_B],
            "quality": "low",
            "aspectRatio": "1:1",
            "fit": "crop",
        }
        assert obj["metadata"]["annotations"][ANNOTATION_REQUEST_HASH] == resources.request_digest(
            obj["spec"]
        )
        status = api.get(f"/api/v1/merge/{task_id}/status")  # at once, cache or not
        assert status.status_code == 200 and status.json()["status"] == "pending"


@pytest.mark.parametrize("cache_enabled", [True, False], ids=["cache", "direct"])
@pytest.mark.parametrize("status,word,success", PHASES, ids=[p[0]["phase"] for p in PHASES])
def test_status_and_result_for_every_phase(
    kubeconfig, namespace, custom, cache_enabled, status, word, success
):
    with running_api(kubeconfig, namespace, cache_enabled=cache_enabled) as api:
        task_id = api.post("/api/v1/merge", json=BODY).json()["task_id"]
        patch_status(custom, namespace, task_id, status)
        # Pending and Queued share the word "pending": wait for the phase too, or the cache's Pending passes
        body = wait_for(
            lambda: (
                (r := api.get(f"/api/v1/merge/{task_id}/status").json())["status"] == word
                and r["phase"] == status["phase"]
                and r
            ),
            10,
            f"status {word}, phase {status['phase']}",
        )
        assert body["phase"] == status["phase"]
        result = api.get(f"/api/v1/merge/{task_id}/result")
        job = api.get(f"/job-status/{task_id}").json()
        if success is None:
            assert result.status_code == 409 and result.json()["status"] == word
            assert job["result"] is None and job["error"] is None
        elif success:
            assert result.status_code == 200
            assert result.json()["merged_url"] == COMPLETED["result"]["mergedUrl"]
            assert (result.json()["duration_seconds"], result.json()["clips_merged"]) == (3.5, 2)
            assert job["result"]["merged_url"] == COMPLETED["result"]["mergedUrl"]
        else:
            assert result.status_code == 200 and result.json()["success"] is False
            assert result.json()["reason"] == "DownloadFailed" and URL_B in result.json()["error"]
            assert job["status"] == "failed" and URL_B in job["error"]


def test_unknown_task_and_invalid_body(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace) as api:
        for path in ("/api/v1/merge/vm-0000/status", "/api/v1/merge/vm-0000/result", "/job-status/vm-0000"):
            assert api.get(path).status_code == 404
        assert api.delete("/api/v1/merge/vm-0000").status_code == 404
        bad = api.post("/api/v1/merge", json={"video_urls": ["file:///etc/passwd"]})
        assert bad.status_code == 422 and bad.json()["message"].startswith("video_urls.0:")
        assert (
            api.post("/process", content=b"{", headers={"content-type": "application/json"}).status_code
            == 422
        )
        assert count_merges(custom, namespace) == 0


def test_list_filters_by_status(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace) as api:
        ids = [api.post("/api/v1/merge", json=BODY).json()["task_id"] for _ in range(3)]
        patch_status(custom, namespace, ids[1], COMPLETED)
        wait_for(
            lambda: (
                [i["task_id"] for i in api.get("/api/v1/merge?status=completed").json()["items"]] == [ids[1]]
            ),
            10,
            "the completed merge in the list",
        )
        first = api.get("/api/v1/merge?limit=2").json()
        rest = api.get(f"/api/v1/merge?limit=2&continue={first['continue']}").json()
        assert sorted(i["task_id"] for i in first["items"] + rest["items"]) == sorted(ids)


def test_idempotency_key_against_the_api_server(kubeconfig, namespace, custom):
    with running_api(kubeconfig, namespace) as api, running_api(kubeconfig, namespace) as replica:
        headers = {"Idempotency-Key": "checkout-7781"}
        first = api.post("/api/v1/merge", json=BODY, headers=headers)
        again = replica.post("/api/v1/merge", json=BODY, headers=headers)
        assert first.status_code == again.status_code == 202
        assert first.json()["task_id"] == again.json()["task_id"]
        stored = get_merge(custom, namespace, first.json()["task_id"])
        assert stored["metadata"]["annotations"][ANNOTATION_IDEMPOTENCY_KEY] == resources.key_digest(
            "alice", "checkout-7781"
        )
        conflict = replica.post("/api/v1/merge", json={**BODY, "quality": "high"}, headers=headers)
        assert conflict.status_code == 409 and conflict.json()["task_id"] == first.json()["task_id"]

        def race(i):
            target = api if i % 2 else replica
            return target.post("/api/v1/merge", json=BODY, headers={"Idempotency-Key": "race-1"})

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(race, range(12)))
        assert {r.status_code for r in responses} == {202}
        assert len({r.json()["task_id"] for r in responses}) == 1
        assert count_merges(custom, namespace) == 2


def test_delete_cancels_an_unfinished_merge_and_removes_a_finished_one_with_its_job(
    kubeconfig, namespace, custom, kube
):
    """No operator runs here: the API sets spec.cancel (the operator would then end the merge), and
    removes the merge once it reads Failed/Cancelled; its owned Job is garbage-collected with it."""
    with running_api(kubeconfig, namespace) as api:
        task_id = api.post("/api/v1/merge", json=BODY).json()["task_id"]
        owner = get_merge(custom, namespace, task_id)
        batch = client.BatchV1Api(kube)
        job = client.V1Job(  # as the operator would own it; suspended, so no pod ever starts
            metadata=client.V1ObjectMeta(
                name=task_id,
                owner_references=[
                    client.V1OwnerReference(
                        api_version=API_VERSION,
                        kind=KIND,
                        name=task_id,
                        uid=owner["metadata"]["uid"],
                        controller=True,
                    )
                ],
            ),
            spec=client.V1JobSpec(
                suspend=True,
                template=client.V1PodTemplateSpec(
                    spec=client.V1PodSpec(
                        restart_policy="Never",
                        containers=[client.V1Container(name="w", image="never-pulled")],
                    )
                ),
            ),
        )
        batch.create_namespaced_job(namespace, job)
        response = api.delete(f"/api/v1/merge/{task_id}")
        assert response.status_code == 202 and response.json()["task_id"] == task_id
        assert response.json()["removed"] is False and "being cancelled" in response.json()["message"]
        obj = get_merge(custom, namespace, task_id)
        assert obj["spec"]["cancel"] is True and obj["metadata"]["generation"] == 2
        assert "deletionTimestamp" not in obj["metadata"]
        wait_for(
            lambda: (
                api.delete(f"/api/v1/merge/{task_id}")
                .json()["message"]
                .startswith("Merge is already being cancelled")
            ),
            10,
            "a second DELETE to say it is already being cancelled",
        )
        assert get_merge(custom, namespace, task_id)["metadata"]["generation"] == 2

        # The CRD lets cancel be set, never unset, and nothing else in the spec change.
        for refused in ({"spec": {"cancel": False}}, {"spec": {"quality": "high"}}):  # BODY: low
            with pytest.raises(client.ApiException) as invalid:
                custom.patch_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, task_id, refused, _content_type=MERGE_PATCH
                )
            assert invalid.value.status == 422, refused

        patch_status(custom, namespace, task_id, CANCELLED)  # what the operator writes
        wait_for(
            lambda: api.get(f"/api/v1/merge/{task_id}/result").json().get("reason") == "Cancelled",
            10,
            "failed with reason Cancelled",
        )
        removed = api.delete(f"/api/v1/merge/{task_id}").json()
        assert removed["removed"] is True and "already failed" in removed["message"]
        wait_for(lambda: get_merge(custom, namespace, task_id) is None, 15, "the VideoMerge to go")
        wait_for(
            lambda: api.get(f"/api/v1/merge/{task_id}/status").status_code == 404, 10, "404 after removal"
        )

        def job_gone() -> bool:
            try:
                batch.read_namespaced_job(task_id, namespace)
                return False
            except client.ApiException as exc:
                return exc.status == 404

        wait_for(job_gone, 60, "the owned Job to be garbage-collected", interval=0.5)
