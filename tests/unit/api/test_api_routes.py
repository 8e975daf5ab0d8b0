"""Every route over the in-memory store: the seeds' shapes, every phase, list, cancel, /process."""

import threading

import pytest
from api_unit_helpers import BODY, COMPLETED_STATUS, FAILED_STATUS, URL_A, URL_B, create, eventually

from videomerge_contract.resource import ANNOTATION_REQUEST_HASH

PHASES = [
    ({}, "pending", 0),
    ({"phase": "Pending"}, "pending", 0),
    ({"phase": "Queued", "queuePosition": 3, "stage": "queued"}, "pending", 0),
    (
        {"phase": "Processing", "stage": "merging", "progress": 60, "message": "Merging 2 clips"},
        "processing",
        60,
    ),
    (COMPLETED_STATUS, "completed", 100),
    (FAILED_STATUS, "failed", 0),
]


def test_post_creates_the_resource_with_the_mapped_spec(client, store):
    response = client.post("/api/v1/merge", json=BODY)
    assert response.status_code == 202
    body = response.json()
    task_id = body["task_id"]
    assert body["message"] == "Merge started" and body["status"] == "pending"
    assert response.headers["location"] == f"/api/v1/merge/{task_id}/status" == body["status_url"]
    assert body["result_url"] == f"/api/v1/merge/{task_id}/result"
    stored = store.get(task_id)
    assert stored["spec"] == {
        "videoUrls": [URL_A, URL_B],
        "quality": "medium",
        "aspectRatio": "9:16",
        "fit": "pad",
    }
    assert ANNOTATION_REQUEST_HASH in stored["metadata"]["annotations"]


def test_defaults_fill_quality_and_aspect_ratio(client, store):
    task_id = create(client, {"video_urls": [URL_A]})
    assert store.get(task_id)["spec"] == {
        "videoUrls": [URL_A],
        "quality": "high",
        "aspectRatio": "16:9",
        "fit": "pad",
    }


@pytest.mark.parametrize("status,word,progress", PHASES)
def test_status_for_every_phase(client, store, status, word, progress):
    task_id = create(client)
    if status:
        store.patch_status(task_id, status)
    body = eventually(
        lambda: (r := client.get(f"/api/v1/merge/{task_id}/status").json())["status"] == word and r
    )
    assert body["task_id"] == task_id and body["progress"] == progress and body["message"]
    if status.get("phase") == "Queued":
        assert body["queue_position"] == 3
    job = client.get(f"/job-status/{task_id}").json()
    assert (job["job_id"], job["status"], job["progress"]) == (task_id, word, progress)


@pytest.mark.parametrize("status", [{}, {"phase": "Queued"}, {"phase": "Processing", "progress": 10}])
def test_result_before_the_end_is_409_with_the_current_status(client, store, status):
    task_id = create(client)
    if status:
        store.patch_status(task_id, status)
    word = "processing" if status.get("phase") == "Processing" else "pending"
    response = eventually(
        lambda: (r := client.get(f"/api/v1/merge/{task_id}/result")).json().get("status") == word and r
    )
    assert response.status_code == 409
    assert response.json()["task_id"] == task_id and "not finished" in response.json()["message"]


def test_result_of_a_completed_merge_has_the_seed_sync_shape(client, store):
    task_id = create(client)
    store.patch_status(task_id, COMPLETED_STATUS)
    response = eventually(
        lambda: (r := client.get(f"/api/v1/merge/{task_id}/result")).status_code == 200 and r
    )
    body = response.json()
    assert body["success"] is True
    assert body["merged_url"] == COMPLETED_STATUS["result"]["mergedUrl"]
    assert (body["duration_seconds"], body["processing_time"], body["clips_merged"]) == (12.5, 3.25, 2)
    job = client.get(f"/job-status/{task_id}").json()
    assert job["result"]["merged_url"] == body["merged_url"] and job["error"] is None


def test_result_of_a_failed_merge_names_the_clip(client, store):
    task_id = create(client)
    store.patch_status(task_id, FAILED_STATUS)
    response = eventually(
        lambda: (r := client.get(f"/api/v1/merge/{task_id}/result")).status_code == 200 and r
    )
    body = response.json()
    assert body == {
        "success": False,
        "status": "failed",
        "reason": "DownloadFailed",
        "error": f"clip 2 ({URL_B}): HTTP 404",
        "clip_index": 1,
        "clip_url": URL_B,
    }
    job = client.get(f"/job-status/{task_id}").json()
    assert job["status"] == "failed" and job["error"] == body["error"] and job["result"] is None


@pytest.mark.parametrize("path", ["/api/v1/merge/{}/status", "/api/v1/merge/{}/result", "/job-status/{}"])
@pytest.mark.parametrize("task_id", ["vm-00000000000000000000", "NOT-A-NAME", "a..b"])
def test_unknown_task_is_404(client, path, task_id):
    response = client.get(path.format(task_id))
    assert response.status_code == 404 and response.json()["message"] == "no merge with this id"


def test_a_task_is_readable_right_after_post_even_before_the_cache_sees_it(make_client, store):
    client = make_client()
    store.calls.clear()
    cache = client.app.state.service.cache
    cache.mark_unsynced()  # as if the watch lagged: reads must go to the store
    task_id = create(client)
    assert client.get(f"/api/v1/merge/{task_id}/status").status_code == 200
    assert store.calls["get"] == 1


def test_reads_come_from_the_cache_once_synced(client, store):
    task_id = create(client)
    eventually(lambda: client.app.state.service.cache.get(task_id))
    store.calls.clear()
    for _ in range(20):
        assert client.get(f"/api/v1/merge/{task_id}/status").status_code == 200
    assert store.calls["get"] == 0


def test_without_cache_every_read_is_a_direct_get(make_client, store):
    client = make_client(cache_enabled=False)
    task_id = create(client)
    store.calls.clear()
    for _ in range(5):
        client.get(f"/api/v1/merge/{task_id}/status")
    assert store.calls["get"] == 5


def test_list_filters_by_status_and_pages(client, store):
    ids = [create(client) for _ in range(5)]
    store.patch_status(ids[0], COMPLETED_STATUS)
    store.patch_status(ids[1], FAILED_STATUS)
    eventually(lambda: len(client.get("/api/v1/merge", params={"status": "pending"}).json()["items"]) == 3)
    seen, token = [], None
    while True:
        params = {"limit": 2} | ({"continue": token} if token else {})
        body = client.get("/api/v1/merge", params=params).json()
        assert len(body["items"]) <= 2
        seen += [item["task_id"] for item in body["items"]]
        token = body["continue"]
        if token is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    completed = client.get("/api/v1/merge", params={"status": "completed"}).json()["items"]
    assert [i["task_id"] for i in completed] == [ids[0]]


@pytest.mark.parametrize(
    "params,field",
    [
        ({"status": "done"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_000}, "limit"),
        ({"continue": "xx"}, "continue"),
    ],
)
def test_list_rejects_bad_parameters(client, params, field):
    response = client.get("/api/v1/merge", params=params)
    assert response.status_code == 422 and response.json()["message"].startswith(f"{field}:")


CANCELLED_STATUS = {
    "phase": "Failed",
    "message": "cancelled by request",
    "error": {"reason": "Cancelled", "message": "cancelled by request"},
    "completionTime": "2026-01-01T00:00:00Z",
}


def test_delete_of_a_running_merge_cancels_it_and_keeps_its_record(client, store):
    task_id = create(client)
    store.patch_status(task_id, {"phase": "Processing", "progress": 10})
    eventually(lambda: client.get(f"/api/v1/merge/{task_id}/status").json()["status"] == "processing")
    response = client.delete(f"/api/v1/merge/{task_id}")
    assert response.status_code == 202
    assert response.json() == {
        "task_id": task_id,
        "removed": False,
        "message": "Merge is being cancelled: its Job is stopped and it ends failed (reason Cancelled); "
        "its record stays until retention or a DELETE once it has failed",
    }
    obj = store.get(task_id)
    assert obj["spec"]["cancel"] is True and obj["metadata"]["generation"] == 2
    assert "deletionTimestamp" not in obj["metadata"]
    eventually(lambda: client.get(f"/api/v1/merge/{task_id}/status").status_code == 200)


def test_a_second_delete_while_cancelling_changes_nothing_and_says_so(client, store):
    task_id = create(client)
    assert client.delete(f"/api/v1/merge/{task_id}").json()["removed"] is False
    eventually(lambda: client.delete(f"/api/v1/merge/{task_id}").json()["removed"] is False)
    again = client.delete(f"/api/v1/merge/{task_id}").json()
    assert again["message"].startswith("Merge is already being cancelled") and not again["removed"]
    assert store.get(task_id)["metadata"]["generation"] == 2, "the spec was not written again"


def test_a_cancelled_merge_reads_failed_with_reason_cancelled_then_a_delete_removes_it(client, store):
    task_id = create(client)
    client.delete(f"/api/v1/merge/{task_id}")
    store.patch_status(task_id, CANCELLED_STATUS)  # what the operator writes
    eventually(lambda: client.get(f"/api/v1/merge/{task_id}/status").json()["status"] == "failed")
    assert client.get(f"/api/v1/merge/{task_id}/result").json() == {
        "success": False,
        "status": "failed",
        "reason": "Cancelled",
        "error": "cancelled by request",
        "clip_index": None,
        "clip_url": None,
    }
    job = client.get(f"/job-status/{task_id}").json()
    assert (job["status"], job["reason"], job["error"]) == ("failed", "Cancelled", "cancelled by request")
    removed = client.delete(f"/api/v1/merge/{task_id}").json()
    assert removed["removed"] is True and "already failed" in removed["message"]
    assert task_id not in {o["metadata"]["name"] for o in store.list(100).items}
    eventually(lambda: client.get(f"/api/v1/merge/{task_id}/status").status_code == 404)
    assert client.delete(f"/api/v1/merge/{task_id}").status_code == 404


def test_delete_of_a_finished_merge_removes_it_and_says_so(client, store):
    finished = create(client)
    store.patch_status(finished, COMPLETED_STATUS)
    eventually(lambda: client.get(f"/api/v1/merge/{finished}/status").json()["status"] == "completed")
    assert client.delete(f"/api/v1/merge/{finished}").json() == {
        "task_id": finished,
        "removed": True,
        "message": "Merge removed: it had already completed, so nothing was stopped; its record is deleted",
    }
    assert finished not in {o["metadata"]["name"] for o in store.list(100).items}


def test_a_merge_that_finished_since_the_cached_read_is_removed_not_cancelled(client, store):
    task_id = create(client)
    eventually(lambda: client.get(f"/api/v1/merge/{task_id}/status").status_code == 200)
    real_cancel = store.request_cancel

    def finishes_first(name, version):  # the worker's Completed lands between the read and the patch
        store.patch_status(name, COMPLETED_STATUS)
        store.request_cancel = real_cancel
        return real_cancel(name, version)

    store.request_cancel = finishes_first
    answer = client.delete(f"/api/v1/merge/{task_id}").json()
    assert answer["removed"] is True and "already completed" in answer["message"]
    assert task_id not in {o["metadata"]["name"] for o in store.list(100).items}


def test_a_merge_being_deleted_reads_as_gone(client, store):
    task_id = create(client)
    with store._changed:  # a finalizer holds it: the API server sets deletionTimestamp only
        store._objects[task_id]["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        store._record("MODIFIED", store._objects[task_id])
    eventually(lambda: client.get(f"/api/v1/merge/{task_id}/status").status_code == 404)
    assert task_id not in [i["task_id"] for i in client.get("/api/v1/merge").json()["items"]]


def test_process_background_answers_with_a_job_id(client, store):
    response = client.post("/process", json=BODY)
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and store.get(body["job_id"])
    assert response.headers["location"] == f"/job-status/{body['job_id']}"


def _finish_soon(store, status, delay=0.3):
    def later():
        name = eventually(lambda: next(iter(store._objects), None))
        store.patch_status(name, status)

    timer = threading.Timer(delay, later)
    timer.start()
    return timer


@pytest.mark.parametrize("cache_enabled", [True, False])
def test_process_waits_for_the_end_when_not_background(make_client, store, cache_enabled):
    client = make_client(cache_enabled=cache_enabled)
    timer = _finish_soon(store, COMPLETED_STATUS)
    response = client.post("/process", json={**BODY, "background": False})
    timer.join()
    assert response.status_code == 200
    assert response.json()["success"] is True and response.json()["clips_merged"] == 2
    assert response.headers["location"] == f"/job-status/{response.json()['job_id']}"


def test_process_returns_the_failure_when_the_merge_fails(client, store):
    timer = _finish_soon(store, FAILED_STATUS)
    response = client.post("/process", json={**BODY, "background": False})
    timer.join()
    assert response.status_code == 200 and response.json()["success"] is False
    assert response.json()["reason"] == "DownloadFailed"
    assert store.get(response.json()["job_id"])


def test_process_times_out_with_504_and_the_job_id(make_client, store):
    client = make_client(sync_timeout_seconds=0.3)
    response = client.post("/process", json={**BODY, "background": False})
    assert response.status_code == 504
    body = response.json()
    assert body["status"] == "pending" and store.get(body["job_id"])
    assert response.headers["location"] == f"/job-status/{body['job_id']}"


def test_health_and_readiness(make_client, store):
    client = make_client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["cache_synced"] is True
    store.unavailable = True
    client.app.state.last_ping = (float("-inf"), True)  # skip the ping TTL
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503 and not_ready.json()["api_server_reachable"] is False
    assert client.get("/healthz").status_code == 200


def test_metrics_count_requests_by_route_and_status(client):
    task_id = create(client)
    client.get(f"/api/v1/merge/{task_id}/status")
    client.get("/api/v1/merge/vm-nope/status")
    # The cache learns of the new merge from its watch, a moment after the POST answered.
    eventually(lambda: "videomerge_api_cache_objects 1.0" in client.get("/metrics").text)
    text = client.get("/metrics").text
    assert (
        'videomerge_api_requests_total{method="GET",route="/api/v1/merge/{task_id}/status",status="200"} 1.0'
        in text
    )
    assert 'route="/api/v1/merge/{task_id}/status",status="404"} 1.0' in text
    assert "videomerge_api_cache_synced 1.0" in text and "videomerge_api_cache_objects 1.0" in text
    assert task_id not in text  # ids never become label values


def test_openapi_documents_routes_examples_and_the_configured_clip_limit(make_client):
    client = make_client(max_clips=7)
    schema = client.get("/openapi.json").json()
    for path in [
        "/api/v1/merge",
        "/api/v1/merge/{task_id}/status",
        "/api/v1/merge/{task_id}/result",
        "/api/v1/merge/{task_id}",
        "/process",
        "/job-status/{job_id}",
        "/healthz",
        "/readyz",
        "/metrics",
    ]:
        assert path in schema["paths"], path
    assert schema["components"]["schemas"]["MergeRequest"]["properties"]["video_urls"]["maxItems"] == 7
    post = schema["paths"]["/api/v1/merge"]["post"]
    assert post["requestBody"]["content"]["application/json"]["examples"]
    assert "examples" in post["responses"]["202"]["content"]["application/json"]
    assert client.get("/docs").status_code == 200
